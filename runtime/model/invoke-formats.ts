/**
 * Request bodies and response chunks of InvokeModelWithResponseStream for the two model families supported.
 * - Anthropic Claude, Messages API on Bedrock: body `anthropic_version: "bedrock-2023-05-31"`; chunks
 *   message_start / content_block_start / content_block_delta / content_block_stop / message_delta / message_stop.
 * - Amazon Nova: body `messages` + `inferenceConfig`; chunks messageStart / contentBlockDelta / contentBlockStop /
 *   messageStop / metadata.
 * Both: the last chunk carries `amazon-bedrock-invocationMetrics` (token counts); with a guardrail, an
 * intervention shows as `amazon-bedrock-guardrailAction: "INTERVENED"` (Bedrock user guide, "Use a guardrail
 * with InvokeModelWithResponseStream"), and the text streamed is the guardrail's blocked message.
 */
import type { GuardrailStreamMode, ModelFamily } from "../config";
import { ModelError, type ModelEvent, type ModelMessage, type ModelStopReason } from "../chat/ports";

type Json = Record<string, unknown>;

function object(value: unknown): Json | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}
function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

export function mapStopReason(reason: unknown): ModelStopReason | undefined {
  switch (reason) {
    case "end_turn":
    case "stop_sequence":
    case "tool_use":
      return "end_turn";
    case "max_tokens":
    case "model_context_window_exceeded":
      return "max_tokens";
    case "guardrail_intervened":
    case "content_filtered":
      return "guardrail";
    default:
      // Any other reason the model gives still means it finished (e.g. a newer reason this code does not know).
      return typeof reason === "string" && reason.length > 0 ? "end_turn" : undefined;
  }
}

export function invokeRequestBody(family: ModelFamily, messages: ModelMessage[], maxOutputTokens: number, guardrailMode?: GuardrailStreamMode): string {
  // Streaming guardrail mode goes in the body (Bedrock user guide, "Configure streaming response behavior").
  const guardrailConfig =
    guardrailMode === "async" ? { "amazon-bedrock-guardrailConfig": { streamProcessingMode: "ASYNCHRONOUS" } } : {};
  if (family === "anthropic") {
    return JSON.stringify({
      anthropic_version: "bedrock-2023-05-31",
      max_tokens: maxOutputTokens,
      messages: messages.map((m) => ({ role: m.role, content: [{ type: "text", text: m.text }] })),
      ...guardrailConfig,
    });
  }
  return JSON.stringify({
    schemaVersion: "messages-v1",
    messages: messages.map((m) => ({ role: m.role, content: [{ text: m.text }] })),
    inferenceConfig: { maxTokens: maxOutputTokens },
    ...guardrailConfig,
  });
}

/** Events common to both families: guardrail action and Bedrock's invocation metrics. */
function bedrockEvents(chunk: Json): ModelEvent[] {
  const events: ModelEvent[] = [];
  if (chunk["amazon-bedrock-guardrailAction"] === "INTERVENED") events.push({ type: "guardrail" });
  const metrics = object(chunk["amazon-bedrock-invocationMetrics"]);
  if (metrics) {
    const inputTokens = num(metrics.inputTokenCount);
    const outputTokens = num(metrics.outputTokenCount);
    if (inputTokens !== undefined || outputTokens !== undefined) events.push({ type: "usage", inputTokens, outputTokens });
  }
  return events;
}

export function parseAnthropicChunk(chunk: Json): ModelEvent[] {
  const events: ModelEvent[] = [];
  switch (chunk.type) {
    case "message_start": {
      const usage = object(object(chunk.message)?.usage);
      const inputTokens = num(usage?.input_tokens);
      if (inputTokens !== undefined) events.push({ type: "usage", inputTokens });
      break;
    }
    case "content_block_delta": {
      const delta = object(chunk.delta);
      if (delta?.type === "text_delta" && typeof delta.text === "string") events.push({ type: "text", text: delta.text });
      break;
    }
    case "message_delta": {
      const outputTokens = num(object(chunk.usage)?.output_tokens);
      if (outputTokens !== undefined) events.push({ type: "usage", outputTokens });
      const reason = mapStopReason(object(chunk.delta)?.stop_reason);
      if (reason) events.push({ type: "stop", reason });
      break;
    }
    case "error": {
      const error = object(chunk.error);
      const kind = typeof error?.type === "string" ? error.type : "error";
      throw new ModelError(`model stream error: ${kind}`, kind, kind === "overloaded_error" || kind === "api_error");
    }
  }
  return [...events, ...bedrockEvents(chunk)];
}

export function parseNovaChunk(chunk: Json): ModelEvent[] {
  const events: ModelEvent[] = [];
  const delta = object(object(chunk.contentBlockDelta)?.delta);
  if (typeof delta?.text === "string") events.push({ type: "text", text: delta.text });
  const stop = object(chunk.messageStop);
  if (stop) {
    const reason = mapStopReason(stop.stopReason);
    if (reason) events.push({ type: "stop", reason });
  }
  const usage = object(object(chunk.metadata)?.usage);
  if (usage) events.push({ type: "usage", inputTokens: num(usage.inputTokens), outputTokens: num(usage.outputTokens) });
  return [...events, ...bedrockEvents(chunk)];
}

/** One decoder for every chunk: decode() without `stream` keeps no state between calls. */
const utf8 = new TextDecoder();

export function parseInvokeChunk(family: ModelFamily, bytes: Uint8Array): ModelEvent[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(bytes));
  } catch {
    throw new ModelError("model stream chunk is not JSON", "MalformedChunk", false);
  }
  const chunk = object(parsed);
  if (!chunk) return [];
  return family === "anthropic" ? parseAnthropicChunk(chunk) : parseNovaChunk(chunk);
}
