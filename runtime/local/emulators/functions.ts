/**
 * The local stack's Lambda functions: handler modules run in this process, each invocation with its own
 * `Context` and the function's timeout. Both the gateway emulator (API Gateway → Lambda) and the Lambda Invoke
 * API emulator (`message` → `worker`) call functions through here, so every path sees the same semantics.
 */
import type { Context } from "aws-lambda";
import { lambdaContext } from "./lambda-context";

/** A Lambda handler as the runtime exports it (`export const handler`). Events are plain JSON. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- handlers type their own event; JSON crosses here
export type LambdaHandler = (event: any, context: Context) => Promise<unknown>;

export interface LocalFunctionConfig {
  name: string;
  /** Lambda's timeout for this function, in milliseconds. */
  timeoutMs: number;
  /** Loaded on first use, so the process environment is set before a handler module reads it. */
  load: () => Promise<LambdaHandler>;
}

/** What Lambda reports when a function fails: the shape of the Invoke API's error payload. */
export class FunctionError extends Error {
  constructor(
    readonly errorType: string,
    message: string,
  ) {
    super(message);
    this.name = errorType;
  }
}

export interface InvocationRecord {
  functionName: string;
  requestId: string;
  startedAt: number;
  endedAt?: number;
  error?: string;
}

export class LocalFunctions {
  private readonly configs = new Map<string, LocalFunctionConfig>();
  private readonly loaded = new Map<string, Promise<LambdaHandler>>();
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Every invocation, in start order (tests read it). */
  readonly invocations: InvocationRecord[] = [];

  constructor(
    readonly region: string,
    readonly accountId: string,
    functions: LocalFunctionConfig[],
  ) {
    for (const fn of functions) this.configs.set(fn.name, fn);
  }

  has(name: string): boolean {
    return this.configs.has(name);
  }

  names(): string[] {
    return [...this.configs.keys()];
  }

  /**
   * Runs one invocation. Past the function's timeout the promise rejects the way Lambda reports it
   * ("Task timed out after N seconds"); the handler itself cannot be frozen in-process and runs on.
   */
  invoke(name: string, event: unknown): Promise<unknown> {
    const config = this.configs.get(name);
    if (!config) return Promise.reject(new FunctionError("ResourceNotFoundException", `Function not found: ${name}`));
    const context = lambdaContext({
      functionName: name,
      region: this.region,
      accountId: this.accountId,
      timeoutMs: config.timeoutMs,
    });
    const record: InvocationRecord = { functionName: name, requestId: context.awsRequestId, startedAt: Date.now() };
    this.invocations.push(record);
    const run = this.handlerOf(config).then((handler) => handler(event, context));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new FunctionError("Sandbox.Timedout", `Task timed out after ${(config.timeoutMs / 1000).toFixed(2)} seconds`)),
        config.timeoutMs,
      );
    });
    const result = Promise.race([run, timeout]).finally(() => {
      clearTimeout(timer);
      record.endedAt = Date.now();
    });
    result.catch((error: unknown) => {
      record.error = error instanceof Error ? error.message : String(error);
    });
    const tracked = run.catch(() => undefined);
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
    return result;
  }

  /** Resolves when every invocation started so far has finished (its handler returned or threw). */
  async drain(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight.size > 0 && Date.now() < deadline) {
      await Promise.race([Promise.all([...this.inFlight]), new Promise((r) => setTimeout(r, 50))]);
    }
  }

  private handlerOf(config: LocalFunctionConfig): Promise<LambdaHandler> {
    let handler = this.loaded.get(config.name);
    if (!handler) {
      handler = config.load();
      this.loaded.set(config.name, handler);
    }
    return handler;
  }
}
