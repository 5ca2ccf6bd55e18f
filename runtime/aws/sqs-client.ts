/** The SQS client (generation jobs), once per container; endpoint from AWS_ENDPOINT_URL_SQS when set. */
import { SQSClient } from "@aws-sdk/client-sqs";

let sqs: SQSClient | undefined;

export function sqsClient(): SQSClient {
  sqs ??= new SQSClient({});
  return sqs;
}

export function resetSqs(): void {
  sqs?.destroy();
  sqs = undefined;
}
