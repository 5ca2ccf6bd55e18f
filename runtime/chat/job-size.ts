/**
 * How large a GenerationJob may grow when it carries the model context. The job travels as the payload of a Lambda
 * asynchronous invocation (worker `lambda`) or as the body of an SQS message (worker `ecs`). Both limits were raised
 * in 2025: Lambda's Invoke API reference says "For asynchronous invocations, the maximum payload size is 1 MB", and
 * SQS's SendMessage reference says the message body's "maximum size is 1 MiB or 1,048,576 bytes". A queue still
 * refuses more than its own MaximumMessageSize attribute, whose default is 262,144 bytes (256 KiB; the SQS queue
 * attributes and @pulumi/aws `sqs.Queue.maxMessageSize`), and SQS bills every 64 KB chunk of a message as one request.
 * So a job carries the context only up to 256 KiB, which fits every transport as configured by default and costs at
 * most four requests; a larger context (possible only with a context budget of about 250,000 tokens or more) is read by the worker.
 */
import { utf8Bytes } from "./context";
import type { GenerationJob, ModelMessage } from "./ports";

export const MAX_JOB_BYTES = 262_144;

/** The job's size as it is sent: its JSON text in UTF-8. */
export function jobBytes(job: GenerationJob): number {
  return utf8Bytes(JSON.stringify(job));
}

/** The job with the context when the two fit the transport; without it otherwise (the worker then reads it). */
export function withContext(job: GenerationJob, context: ModelMessage[] | undefined): GenerationJob {
  if (context === undefined) return job;
  const carried: GenerationJob = { ...job, context };
  return jobBytes(carried) <= MAX_JOB_BYTES ? carried : job;
}
