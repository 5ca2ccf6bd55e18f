/** JobSource over SQS: long-poll receive, delete and visibility changes on the generation job queue. */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { timeout } from "../aws/timeout";
import { LONG_POLL_SECONDS, MAX_MESSAGES_PER_RECEIVE, type JobSource, type ReceivedJob } from "./job-source";

const CALL_TIMEOUT_MS = 5_000;

export class SqsJobSource implements JobSource {
  constructor(
    private readonly client: () => SQSClient,
    private readonly queueUrl: string,
  ) {}

  async receive(max: number, signal: AbortSignal): Promise<ReceivedJob[]> {
    if (signal.aborted) return [];
    try {
      const { Messages } = await this.client().send(
        new ReceiveMessageCommand({
          QueueUrl: this.queueUrl,
          MaxNumberOfMessages: Math.max(1, Math.min(MAX_MESSAGES_PER_RECEIVE, max)),
          WaitTimeSeconds: LONG_POLL_SECONDS,
          MessageSystemAttributeNames: ["ApproximateReceiveCount"],
        }),
        // The long poll plus a margin; the caller's signal ends it early (SIGTERM).
        { abortSignal: AbortSignal.any([signal, AbortSignal.timeout(LONG_POLL_SECONDS * 1000 + CALL_TIMEOUT_MS)]) },
      );
      return (Messages ?? []).flatMap((m) =>
        m.ReceiptHandle && m.MessageId
          ? [{ messageId: m.MessageId, receipt: m.ReceiptHandle, body: m.Body, receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1) }]
          : [],
      );
    } catch (error) {
      if (signal.aborted) return [];
      throw error;
    }
  }

  async delete(job: ReceivedJob): Promise<void> {
    await this.client().send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: job.receipt }), timeout(CALL_TIMEOUT_MS));
  }

  async setVisibility(job: ReceivedJob, seconds: number): Promise<void> {
    await this.client().send(
      new ChangeMessageVisibilityCommand({ QueueUrl: this.queueUrl, ReceiptHandle: job.receipt, VisibilityTimeout: seconds }),
      timeout(CALL_TIMEOUT_MS),
    );
  }
}
