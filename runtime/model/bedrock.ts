/**
 * ModelStream over Amazon Bedrock: InvokeModelWithResponseStream (Claude or Nova body, by model id) or
 * ConverseStream, chosen by MODEL_API; the guardrail applies to input and output on both.
 */
import {
  ConverseStreamCommand,
  InvokeModelWithResponseStreamCommand,
  type BedrockRuntimeClient,
} from "@aws-sdk/client-bedrock-runtime";
import type { ModelConfig } from "../config";
import { ModelError, type ModelEvent, type ModelRequest, type ModelStream } from "../chat/ports";
import { converseInput, parseConverseEvent } from "./converse-format";
import { streamException, toModelError } from "./errors";
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
    const response = await this.send(request, (abortSignal) => this.client().send(command, { abortSignal }));
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
