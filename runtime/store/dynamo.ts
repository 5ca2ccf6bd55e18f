/** Helpers shared by the DynamoDB adapters. */
import { BatchWriteCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { timeout } from "../aws/timeout";

export { timeout };

/** Per-call deadline for DynamoDB requests (single-item reads and writes answer in milliseconds). */
export const DYNAMO_TIMEOUT_MS = 3_000;

export function isConditionFailure(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { name?: unknown }).name === "ConditionalCheckFailedException";
}

export function epochSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/** BatchWriteItem takes at most 25 put or delete requests (DynamoDB API reference, BatchWriteItem). */
export const BATCH_WRITE_LIMIT = 25;
/** Rounds of re-sending unprocessed requests before giving up (the caller sees an error and can retry). */
const BATCH_WRITE_ROUNDS = 8;

export type WriteRequest = { PutRequest: { Item: Record<string, unknown> } } | { DeleteRequest: { Key: Record<string, unknown> } };

/**
 * Writes the requests with BatchWriteItem, 25 a call, sending again what DynamoDB left unprocessed (it does under
 * throttling) with backoff; throws once a batch is still unprocessed after the last round.
 */
export async function batchWrite(client: DynamoDBDocumentClient, tableName: string, requests: WriteRequest[]): Promise<void> {
  for (let i = 0; i < requests.length; i += BATCH_WRITE_LIMIT) {
    let batch = requests.slice(i, i + BATCH_WRITE_LIMIT);
    for (let round = 0; batch.length > 0; round++) {
      if (round >= BATCH_WRITE_ROUNDS) throw new Error(`${batch.length} writes were left unprocessed`);
      if (round > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** round)));
      const { UnprocessedItems } = await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: batch } }), timeout(DYNAMO_TIMEOUT_MS));
      batch = (UnprocessedItems?.[tableName] ?? []) as WriteRequest[];
    }
  }
}
