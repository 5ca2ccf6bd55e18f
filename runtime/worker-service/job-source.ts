/** The worker service's view of its job queue (SQS in AWS and locally: ./sqs-jobs.ts; in memory in unit tests). */

export interface ReceivedJob {
  messageId: string;
  /** Deletes the message or changes its visibility. */
  receipt: string;
  body: string | undefined;
  /** How many times the queue has handed this message out, this time included (ApproximateReceiveCount). */
  receiveCount: number;
}

export interface JobSource {
  /** Long-polls for up to `max` jobs (at most 10, the SQS limit); an aborted poll answers none. */
  receive(max: number, signal: AbortSignal): Promise<ReceivedJob[]>;
  delete(job: ReceivedJob): Promise<void>;
  /** Hands the job back after `seconds` (0: at once, to any worker). */
  setVisibility(job: ReceivedJob, seconds: number): Promise<void>;
}

/** SQS hands out at most 10 messages per ReceiveMessage (MaxNumberOfMessages 1-10, SQS API Reference). */
export const MAX_MESSAGES_PER_RECEIVE = 10;
/** The longest long poll SQS allows (WaitTimeSeconds 0-20, SQS API Reference): fewest empty receives. */
export const LONG_POLL_SECONDS = 20;
