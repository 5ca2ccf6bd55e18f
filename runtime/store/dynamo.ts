/** Helpers shared by the DynamoDB adapters. */
export { timeout } from "../aws/timeout";

/** Per-call deadline for DynamoDB requests (single-item reads and writes answer in milliseconds). */
export const DYNAMO_TIMEOUT_MS = 3_000;

export function isConditionFailure(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { name?: unknown }).name === "ConditionalCheckFailedException";
}

export function epochSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}
