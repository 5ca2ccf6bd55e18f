/**
 * The SQS client (generation jobs), once per container: the lean client of ./sqs-lean-client.ts. Its endpoint is the
 * queue URL's origin, as the SDK's (locally the queue URLs are the emulator's).
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import { leanSqsClient } from "./sqs-lean-client";

let sqs: SQSClient | undefined;

export function sqsClient(): SQSClient {
  sqs ??= leanSqsClient();
  return sqs;
}

export function resetSqs(): void {
  sqs?.destroy();
  sqs = undefined;
}
