/**
 * GenerationQueue over SQS (WORKER_MODE=ecs): the message handler sends the job and returns; the worker service
 * (runtime/worker-service/) long-polls the queue and claims the turn. The body is the job as JSON, a few hundred
 * bytes (an SQS message may hold 256 KiB).
 */
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { GenerationJob, GenerationQueue } from "../chat/ports";
import { timeout } from "./timeout";

export const SEND_TIMEOUT_MS = 5_000;

export class SqsGenerationQueue implements GenerationQueue {
  constructor(
    private readonly client: () => SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(job: GenerationJob): Promise<void> {
    const response = await this.client().send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(job) }), timeout(SEND_TIMEOUT_MS));
    if (!response.MessageId) throw new Error("the job queue did not accept the job");
  }
}
