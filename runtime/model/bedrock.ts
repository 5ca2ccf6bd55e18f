/**
 * ModelStream over Amazon Bedrock: InvokeModelWithResponseStream (Claude or Nova body, by model id) or
 * ConverseStream, chosen by MODEL_API; the guardrail applies to input and output on both.
 */
import { BedrockRuntimeClient, ConverseStreamCommand, InvokeModelWithResponseStreamCommand } from "@aws-sdk/client-bedrock-runtime";
import { clientEndpoint, type EndpointConfig } from "../aws/endpoints";
import { onDestroy } from "../aws/on-destroy";
import { SignedHttp2Client } from "../aws/signed-h2";
import { escapeUri } from "../aws/signed-http";
import type { ModelConfig, ModelFamily } from "../config";
import { ModelError, type ModelEvent, type ModelRequest, type ModelStream } from "../chat/ports";
import { converseInput, parseConverseEvent } from "./converse-format";
import { STREAM_EXCEPTION_MEMBERS, streamException, toModelError } from "./errors";
import { EventStreamDecoder, type EventMessage } from "./event-stream";
import { invokeRequestBody, parseInvokeChunk } from "./invoke-formats";
import { StreamEvents, type EventSource } from "./stream-events";

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

  stream(request: ModelRequest): AsyncIterable<ModelEvent> {
    if (this.config.api !== "ConverseStream") {
      let client: unknown;
      try {
        client = this.client();
      } catch (error) {
        // As from any other step of the call: a ModelError, from the iterator.
        const failure = toModelError(error);
        return { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(failure) }) };
      }
      // The SDK's client: the request is signed and sent here and its body decoded as it arrives (one iterator).
      if (isSdkClient(client)) return new StreamEvents(this.invokeSource(client, request));
    }
    return this.viaSdk(request);
  }

  /** ConverseStream, and InvokeModelWithResponseStream on another client (unit tests' stand-ins): the SDK's own decoding. */
  private async *viaSdk(request: ModelRequest): AsyncIterable<ModelEvent> {
    try {
      yield* this.config.api === "ConverseStream" ? this.converse(request) : this.invokeViaSdk(request);
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

  /** InvokeModelWithResponseStream sent by ./signed-h2.ts; its event messages decoded by ./event-stream.ts as they arrive. */
  private invokeSource(client: BedrockRuntimeClient, request: ModelRequest): EventSource<ModelEvent> {
    const { modelId, guardrail, maxOutputTokens } = this.config;
    const family = this.config.family ?? "anthropic";
    const decoder = new EventStreamDecoder();
    return {
      signal: request.signal,
      open: async () => {
        const body = invokeRequestBody(family, request.messages, Math.min(request.maxOutputTokens, maxOutputTokens), guardrail?.streamMode);
        const transport = await invokeTransport(client);
        const headers: Record<string, string> = { "content-type": "application/json", "x-amzn-bedrock-accept": "application/json" };
        if (guardrail) {
          headers["x-amzn-bedrock-guardrailidentifier"] = guardrail.id;
          headers["x-amzn-bedrock-guardrailversion"] = guardrail.version;
          headers["x-amzn-bedrock-trace"] = "ENABLED";
        }
        const path = `/model/${escapeUri(modelId)}/invoke-with-response-stream`;
        const answer = await this.send(request, (signal) => transport.open({ method: "POST", path, headers, body: Buffer.from(body, "utf8"), signal }));
        return answer.body;
      },
      // `chunk` events carry the model's JSON, base64-encoded in `bytes`.
      decode: (chunk) => {
        const messages = decoder.push(chunk);
        if (messages.length === 1) return invokeEvents(family, messages[0]!);
        return messages.flatMap((message) => invokeEvents(family, message));
      },
      end: () => decoder.end(),
      failure: (error) => toModelError(error),
    };
  }

  private async *invokeViaSdk(request: ModelRequest): AsyncIterable<ModelEvent> {
    const { modelId, family, guardrail, maxOutputTokens } = this.config;
    const body = invokeRequestBody(family ?? "anthropic", request.messages, Math.min(request.maxOutputTokens, maxOutputTokens), guardrail?.streamMode);
    const client = this.client();
    const command = new InvokeModelWithResponseStreamCommand({
      modelId,
      contentType: "application/json",
      accept: "application/json",
      body: new TextEncoder().encode(body),
      ...(guardrail ? { guardrailIdentifier: guardrail.id, guardrailVersion: guardrail.version, trace: "ENABLED" as const } : {}),
    });
    const response = await this.send(request, (abortSignal) => client.send(command, { abortSignal }));
    for await (const part of response.body ?? []) {
      if (request.signal.aborted) return;
      const exception = streamException(part as unknown as Record<string, unknown>);
      if (exception) throw exception;
      if (part.chunk?.bytes) yield* parseInvokeChunk(family ?? "anthropic", part.chunk.bytes);
    }
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
 * The signed HTTP/2 request that InvokeModelWithResponseStream is, per SDK client (./signed-h2.ts): the SDK's layered
 * event-stream decoding (several async generators, schema-driven deserialisation per event) and its per-call
 * middleware cost the worker about as much CPU as the rest of a token's path, so the request is signed and sent
 * here and its event stream decoded by ./event-stream.ts. The request is the SDK's (path, headers, body: tested
 * against it); the client's region, credentials and endpoint are used as they are.
 */
/** A client of the SDK's (not a test's stand-in): its requests can be sent as the SDK would send them. */
function isSdkClient(client: unknown): client is BedrockRuntimeClient {
  return client instanceof BedrockRuntimeClient;
}

const transports = new WeakMap<BedrockRuntimeClient, Promise<SignedHttp2Client>>();

function invokeTransport(client: BedrockRuntimeClient): Promise<SignedHttp2Client> {
  let transport = transports.get(client);
  if (!transport) {
    const config = client.config;
    transport = (async () =>
      new SignedHttp2Client({
        endpoint: await clientEndpoint(config as unknown as EndpointConfig, "BEDROCK_RUNTIME"),
        region: await config.region(),
        service: "bedrock",
        credentials: () => config.credentials(),
      }))();
    transports.set(client, transport);
    transport.catch(() => transports.delete(client));
    // The kept sessions close with the client, not 30 s later.
    const made = transport;
    onDestroy(client, () => {
      if (transports.get(client) === made) transports.delete(client);
      void made.then((t) => t.destroy(), () => undefined);
    });
  }
  return transport;
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
