/**
 * ModelStream over Amazon Bedrock: InvokeModelWithResponseStream (Claude or Nova body, by model id) or
 * ConverseStream, chosen by MODEL_API; the guardrail applies to input and output on both.
 */
import {
  ConverseStreamCommand,
  InvokeModelWithResponseStreamCommand,
  type BedrockRuntimeClient,
} from "@aws-sdk/client-bedrock-runtime";
import { Readable } from "node:stream";
import type { ModelConfig, ModelFamily } from "../config";
import { ModelError, type ModelEvent, type ModelRequest, type ModelStream } from "../chat/ports";
import { converseInput, parseConverseEvent } from "./converse-format";
import { STREAM_EXCEPTION_MEMBERS, streamException, toModelError } from "./errors";
import { EventStreamDecoder, type EventMessage } from "./event-stream";
import { invokeRequestBody, parseInvokeChunk } from "./invoke-formats";

/** How long to wait for the response to start (the stream itself is bounded by the worker's idle timer). */
export const FIRST_BYTE_TIMEOUT_MS = 30_000;

export class BedrockModelStream implements ModelStream {
  constructor(
    private readonly client: () => BedrockRuntimeClient,
    private readonly config: ModelConfig,
    private readonly firstByteTimeoutMs = FIRST_BYTE_TIMEOUT_MS,
  ) {}

  get modelId(): string {
    return this.config.modelId;
  }

  async *stream(request: ModelRequest): AsyncIterable<ModelEvent> {
    try {
      yield* this.config.api === "ConverseStream" ? this.converse(request) : this.invoke(request);
    } catch (error) {
      if (request.signal.aborted) return;
      throw toModelError(error);
    }
  }

  /** Sends the command with the caller's abort signal plus a deadline on the response's first byte. */
  private async send<T>(request: ModelRequest, sendWith: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const forward = () => controller.abort(request.signal.reason);
    request.signal.addEventListener("abort", forward, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error("first byte timeout"));
    }, this.firstByteTimeoutMs);
    try {
      return await sendWith(controller.signal);
    } catch (error) {
      if (timedOut) throw new ModelError("the model did not answer in time", "TimeoutError", true);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private async *invoke(request: ModelRequest): AsyncIterable<ModelEvent> {
    const { modelId, family, guardrail, maxOutputTokens } = this.config;
    const body = invokeRequestBody(family ?? "anthropic", request.messages, Math.min(request.maxOutputTokens, maxOutputTokens), guardrail?.streamMode);
    const command = new InvokeModelWithResponseStreamCommand({
      modelId,
      contentType: "application/json",
      accept: "application/json",
      body: new TextEncoder().encode(body),
      ...(guardrail ? { guardrailIdentifier: guardrail.id, guardrailVersion: guardrail.version, trace: "ENABLED" as const } : {}),
    });
    const rawBody = captureRawBody(command);
    const response = await this.send(request, (abortSignal) => this.client().send(command, { abortSignal }));
    const raw = rawBody();
    if (raw) {
      yield* this.decodeInvoke(raw, request);
      return;
    }
    // The SDK's own decoding: when the raw body was not captured (a client that is not the SDK's, e.g. in unit tests).
    for await (const part of response.body ?? []) {
      if (request.signal.aborted) return;
      const exception = streamException(part as unknown as Record<string, unknown>);
      if (exception) throw exception;
      if (part.chunk?.bytes) yield* parseInvokeChunk(family ?? "anthropic", part.chunk.bytes);
    }
  }

  /** The response's event messages decoded here: `chunk` events carry the model's JSON, base64-encoded in `bytes`. */
  private async *decodeInvoke(body: AsyncIterable<Uint8Array>, request: ModelRequest): AsyncIterable<ModelEvent> {
    const family = this.config.family ?? "anthropic";
    const decoder = new EventStreamDecoder();
    for await (const data of body) {
      if (request.signal.aborted) return;
      for (const message of decoder.push(data)) {
        const events = invokeEvents(family, message);
        for (const event of events) yield event;
      }
    }
    if (request.signal.aborted) return;
    decoder.end();
  }

  private async *converse(request: ModelRequest): AsyncIterable<ModelEvent> {
    const { modelId, guardrail, maxOutputTokens } = this.config;
    const command = new ConverseStreamCommand(converseInput(modelId, request.messages, Math.min(request.maxOutputTokens, maxOutputTokens), guardrail));
    const response = await this.send(request, (abortSignal) => this.client().send(command, { abortSignal }));
    for await (const event of response.stream ?? []) {
      if (request.signal.aborted) return;
      yield* parseConverseEvent(event);
    }
  }
}

/**
 * Keeps the raw body of a successful InvokeModelWithResponseStream response for ./event-stream.ts, in place of the
 * SDK's layered event-stream decoding (several async generators, schema-driven deserialisation per event), which
 * cost the worker about as much CPU as the rest of a token's path. The SDK still signs, sends, retries and turns
 * an error answer into its exception: the middleware sits inside the deserializer (step "deserialize", priority
 * "low": the smithy middleware stack runs lower priorities nearer the transport) and takes the body of a 200 only.
 */
export function captureRawBody(command: InvokeModelWithResponseStreamCommand): () => AsyncIterable<Uint8Array> | undefined {
  let body: AsyncIterable<Uint8Array> | undefined;
  command.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const response = result.response as { statusCode?: number; body?: unknown };
      if (response.statusCode === 200 && isAsyncIterable(response.body)) {
        body = response.body as AsyncIterable<Uint8Array>;
        response.body = Readable.from([]);
      }
      return result;
    },
    { step: "deserialize", priority: "low", name: "chatRawEventStream" },
  );
  return () => body;
}

function isAsyncIterable(value: unknown): boolean {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}

/** One event message of an Invoke stream: a chunk's events, or the exception or error it carries (thrown). */
export function invokeEvents(family: ModelFamily, message: EventMessage): ModelEvent[] {
  const type = message.headers[":message-type"];
  if (type === "event") {
    if (message.headers[":event-type"] !== "chunk") return [];
    const { bytes } = JSON.parse(message.payload.toString("utf8")) as { bytes?: unknown };
    return typeof bytes === "string" ? parseInvokeChunk(family, Buffer.from(bytes, "base64")) : [];
  }
  if (type === "exception") {
    const member = message.headers[":exception-type"] ?? "";
    throw toModelError({ name: STREAM_EXCEPTION_MEMBERS[member] ?? member });
  }
  throw toModelError({ name: message.headers[":error-code"] ?? "UnknownError" });
}
