/**
 * Maps Bedrock failures to ModelError. Retryable (before the first token only): throttling, 5xx and network
 * faults — the InvokeModelWithResponseStream / ConverseStream error lists in the Bedrock API reference.
 */
import { ModelError } from "../chat/ports";

const RETRYABLE = new Set([
  "ThrottlingException",
  "ServiceUnavailableException",
  "InternalServerException",
  "ModelNotReadyException",
  "ModelTimeoutException",
  "TimeoutError",
  "RequestTimeout",
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
]);

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  $retryable?: unknown;
}

export function toModelError(error: unknown): ModelError {
  if (error instanceof ModelError) return error;
  const shape = (typeof error === "object" && error !== null ? error : {}) as SdkErrorShape;
  const name = typeof shape.name === "string" ? shape.name : "UnknownError";
  const code = typeof shape.code === "string" ? shape.code : name;
  const status = typeof shape.$metadata?.httpStatusCode === "number" ? shape.$metadata.httpStatusCode : undefined;
  const retryable =
    RETRYABLE.has(name) || RETRYABLE.has(code) || (status !== undefined && (status >= 500 || status === 429)) || shape.$retryable !== undefined;
  return new ModelError(`model call failed: ${name}`, name, retryable);
}

/** The exception members an event stream may carry instead of throwing them. */
export const STREAM_EXCEPTION_MEMBERS: Record<string, string> = {
  internalServerException: "InternalServerException",
  modelStreamErrorException: "ModelStreamErrorException",
  modelTimeoutException: "ModelTimeoutException",
  serviceUnavailableException: "ServiceUnavailableException",
  throttlingException: "ThrottlingException",
  validationException: "ValidationException",
};

export function streamException(part: Record<string, unknown>): ModelError | undefined {
  for (const [member, name] of Object.entries(STREAM_EXCEPTION_MEMBERS)) {
    if (part[member] !== undefined) return toModelError({ name });
  }
  return undefined;
}
