/**
 * An SQS client whose job-queue calls skip the SDK's per-call machinery: SendMessage (the message handler, on every
 * send in ecs mode), ReceiveMessage, DeleteMessageBatch and ChangeMessageVisibility (the worker service) go to SQS's
 * JSON API (./aws-json.ts, target `AmazonSQS.<Operation>`), whose members are the SDK's input and output shapes as
 * they are. Any other command goes through the SDK unchanged.
 *
 * What the SDK's SQS middleware (@aws-sdk/middleware-sdk-sqs) does and this keeps:
 * - the queue URL's origin is the endpoint unless one was set on the client (useQueueUrlAsEndpoint, on by default);
 * - the MD5 of a sent body and of every received body is checked against SQS's MD5OfMessageBody / MD5OfBody, and a
 *   mismatch fails the call ("Invalid MD5 checksum on messages").
 */
import { createHash } from "node:crypto";
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type SQSClientConfig,
} from "@aws-sdk/client-sqs";
import { awsJsonCall } from "./aws-json";
import { SignedHttpClient, type CallLimits } from "./signed-http";
import { callLimitsOf } from "./timeout";

type Operation = "SendMessage" | "ReceiveMessage" | "DeleteMessageBatch" | "ChangeMessageVisibility";

export function sqsOperationOf(command: unknown): Operation | undefined {
  if (command instanceof SendMessageCommand) return "SendMessage";
  if (command instanceof ReceiveMessageCommand) return "ReceiveMessage";
  if (command instanceof DeleteMessageBatchCommand) return "DeleteMessageBatch";
  if (command instanceof ChangeMessageVisibilityCommand) return "ChangeMessageVisibility";
  return undefined;
}

const md5Hex = (text: string) => createHash("md5").update(text, "utf8").digest("hex");

export class LeanSqsClient extends SQSClient {
  /** One signed client per endpoint origin (in practice one: the job queue's). */
  private readonly targets = new Map<string, Promise<SignedHttpClient>>();

  constructor(configuration: SQSClientConfig = {}) {
    super(configuration);
  }

  // The base class's overloads, answered here for the job-queue commands; callbacks and other commands go to the SDK.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override send(command: any, options?: any, callback?: any): any {
    const operation = sqsOperationOf(command);
    const input = (command as { input?: { QueueUrl?: string } }).input;
    if (!operation || !input?.QueueUrl || typeof options === "function" || callback !== undefined) return super.send(command, options, callback);
    return this.call(operation, input as { QueueUrl: string }, callLimitsOf(options));
  }

  override destroy(): void {
    for (const target of this.targets.values()) void target.then((h) => h.destroy(), () => undefined);
    this.targets.clear();
    super.destroy();
  }

  private async call(operation: Operation, input: { QueueUrl: string }, limits: CallLimits): Promise<Record<string, unknown>> {
    const { output, $metadata } = await awsJsonCall(await this.target(input.QueueUrl), `AmazonSQS.${operation}`, input, limits);
    if (operation === "SendMessage") checkSent(input as { MessageBody?: string }, output);
    if (operation === "ReceiveMessage") checkReceived(output);
    return { ...output, $metadata };
  }

  private async target(queueUrl: string): Promise<SignedHttpClient> {
    const explicit = await this.config.endpoint?.();
    const origin = explicit ? `${explicit.protocol}//${explicit.hostname}${explicit.port === undefined ? "" : `:${explicit.port}`}${explicit.path}` : new URL(queueUrl).origin;
    let target = this.targets.get(origin);
    if (!target) {
      const config = this.config;
      // At most 50 sockets, as the SDK's Node.js handler (@smithy/node-http-handler) keeps per host.
      target = (async () => new SignedHttpClient({ endpoint: new URL(origin), region: await config.region(), service: "sqs", credentials: () => config.credentials() }, { maxSockets: 50 }))();
      this.targets.set(origin, target);
      target.catch(() => this.targets.delete(origin));
    }
    return target;
  }
}

/** The lean client, typed as the SQS client it stands in for (its `send` keeps the SDK's typed overloads). */
export function leanSqsClient(configuration: SQSClientConfig = {}): SQSClient {
  return new LeanSqsClient(configuration);
}

function checkSent(input: { MessageBody?: string }, output: Record<string, unknown>): void {
  if (input.MessageBody !== undefined && output.MD5OfMessageBody !== md5Hex(input.MessageBody)) {
    throw new Error(`Invalid MD5 checksum on messages: ${String(output.MessageId)}`);
  }
}

function checkReceived(output: Record<string, unknown>): void {
  const messages = (output.Messages ?? []) as Array<{ Body?: string; MD5OfBody?: string; MessageId?: string }>;
  const bad = messages.filter((m) => m.Body !== undefined && m.MD5OfBody !== md5Hex(m.Body)).map((m) => m.MessageId);
  if (bad.length > 0) throw new Error(`Invalid MD5 checksum on messages: ${bad.join(", ")}`);
}
