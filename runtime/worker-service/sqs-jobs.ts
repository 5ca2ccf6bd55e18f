/**
 * JobSource over SQS: long-poll receive, delete and visibility changes on the generation job queue.
 * Deletes are batched: the jobs claimed within DELETE_WINDOW_MS go in one DeleteMessageBatch (up to 10 entries, the
 * SQS limit; each entry succeeds or fails on its own). A claimed job's message only has to be gone before its
 * visibility timeout, so the wait costs nothing; IAM needs no new action (batch actions are authorized by the single
 * action's permission, sqs:DeleteMessage: SQS Developer Guide, "Amazon SQS batch actions").
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { timeout } from "../aws/timeout";
import { LONG_POLL_SECONDS, MAX_MESSAGES_PER_RECEIVE, type JobSource, type ReceivedJob } from "./job-source";

const CALL_TIMEOUT_MS = 5_000;
/** How long a delete waits for others to share its DeleteMessageBatch. */
export const DELETE_WINDOW_MS = 100;
/** DeleteMessageBatch takes at most 10 entries (SQS API Reference). */
const MAX_BATCH_ENTRIES = 10;

interface PendingDelete {
  receipt: string;
  resolve(): void;
  reject(error: unknown): void;
}

export class SqsJobSource implements JobSource {
  private pending: PendingDelete[] = [];
  private flushTimer: NodeJS.Timeout | undefined;

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

  delete(job: ReceivedJob): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ receipt: job.receipt, resolve, reject });
      if (this.pending.length >= MAX_BATCH_ENTRIES) this.flush();
      else this.flushTimer ??= setTimeout(() => this.flush(), DELETE_WINDOW_MS);
    });
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    // delete() flushes at MAX_BATCH_ENTRIES, so a batch never holds more.
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const entries = batch.map((d, i) => ({ Id: String(i), ReceiptHandle: d.receipt }));
    this.client()
      .send(new DeleteMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }), timeout(CALL_TIMEOUT_MS))
      .then(
        ({ Failed }) => {
          const failed = new Map((Failed ?? []).map((f) => [f.Id, f]));
          for (const [i, d] of batch.entries()) {
            const failure = failed.get(String(i));
            if (failure) d.reject(Object.assign(new Error(failure.Message ?? "the job could not be deleted"), { name: failure.Code ?? "DeleteFailed" }));
            else d.resolve();
          }
        },
        (error: unknown) => batch.forEach((d) => d.reject(error)),
      );
  }

  async setVisibility(job: ReceivedJob, seconds: number): Promise<void> {
    await this.client().send(
      new ChangeMessageVisibilityCommand({ QueueUrl: this.queueUrl, ReceiptHandle: job.receipt, VisibilityTimeout: seconds }),
      timeout(CALL_TIMEOUT_MS),
    );
  }
}
