/**
 * Per-call deadline for a request/response AWS call: `client.send(command, timeout(ms))`.
 *
 * The SDK reads `abortSignal`, an `AbortSignal.timeout(ms)` made when first read. The lean clients
 * (./dynamo-document-client.ts, ./sqs-lean-client.ts) read `timeoutMs` instead and keep a timer that ends with the call:
 * an `AbortSignal.timeout` outlives its call and builds a DOMException when it fires, for every call a worker makes.
 */
export interface CallTimeout {
  readonly abortSignal: AbortSignal;
  readonly timeoutMs: number;
}

export function timeout(ms: number): CallTimeout {
  let signal: AbortSignal | undefined;
  return {
    timeoutMs: ms,
    get abortSignal() {
      return (signal ??= AbortSignal.timeout(ms));
    },
  };
}

/** What bounds a call sent with `options`: its `timeoutMs` when it has one (the signal is then not made), else its signal. */
export function callLimitsOf(options: unknown): { signal?: AbortSignal; timeoutMs?: number } {
  const o = options as { timeoutMs?: unknown; abortSignal?: AbortSignal } | undefined;
  if (typeof o?.timeoutMs === "number") return { timeoutMs: o.timeoutMs };
  return o?.abortSignal ? { signal: o.abortSignal } : {};
}
