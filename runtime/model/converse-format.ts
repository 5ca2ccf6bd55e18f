/**
 * ConverseStream: one request shape for every model; events contentBlockDelta / messageStop (stopReason incl.
 * `guardrail_intervened`) / metadata.usage (Bedrock API reference, ConverseStreamOutput).
 */
import type { ConverseStreamCommandInput, ConverseStreamOutput } from "@aws-sdk/client-bedrock-runtime";
import type { GuardrailConfig } from "../config";
import type { ModelEvent, ModelMessage } from "../chat/ports";
import { streamException } from "./errors";
import { mapStopReason } from "./invoke-formats";

export function converseInput(modelId: string, messages: ModelMessage[], maxOutputTokens: number, guardrail?: GuardrailConfig): ConverseStreamCommandInput {
  return {
    modelId,
    messages: messages.map((m) => ({ role: m.role, content: [{ text: m.text }] })),
    inferenceConfig: { maxTokens: maxOutputTokens },
    ...(guardrail
      ? { guardrailConfig: { guardrailIdentifier: guardrail.id, guardrailVersion: guardrail.version, streamProcessingMode: guardrail.streamMode } }
      : {}),
  };
}

export function parseConverseEvent(event: ConverseStreamOutput): ModelEvent[] {
  const exception = streamException(event as unknown as Record<string, unknown>);
  if (exception) throw exception;
  const events: ModelEvent[] = [];
  const text = event.contentBlockDelta?.delta?.text;
  if (typeof text === "string") events.push({ type: "text", text });
  if (event.messageStop) {
    const reason = mapStopReason(event.messageStop.stopReason);
    if (reason) events.push({ type: "stop", reason });
  }
  const usage = event.metadata?.usage;
  if (usage) events.push({ type: "usage", inputTokens: usage.inputTokens, outputTokens: usage.outputTokens });
  return events;
}
