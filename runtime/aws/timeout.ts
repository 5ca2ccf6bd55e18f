/** Per-call deadline for a request/response AWS call: `client.send(command, timeout(ms))`. */
export function timeout(ms: number): { abortSignal: AbortSignal } {
  return { abortSignal: AbortSignal.timeout(ms) };
}
