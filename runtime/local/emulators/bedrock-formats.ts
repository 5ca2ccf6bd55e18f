/**
 * What Bedrock puts on the wire for a streamed answer: `application/vnd.amazon.eventstream` messages whose
 * payloads are either InvokeModelWithResponseStream `chunk` events (`{"bytes": base64 of the model's own JSON
 * chunk}`) or ConverseStream events (messageStart, contentBlockDelta, …). Model-native chunk shapes follow the
 * Bedrock user guide's pages on Anthropic Claude Messages and Amazon Nova streaming.
 */
import { EventStreamCodec } from "@smithy/eventstream-codec";
import { fromUtf8, toUtf8 } from "@smithy/util-utf8";

const codec = new EventStreamCodec(toUtf8, fromUtf8);

export type ModelFamily = "anthropic" | "nova";
export type ApiKind = "invoke" | "converse";

/** Which native chunk format a model id (or inference profile id/ARN) streams. */
export function modelFamily(modelId: string): ModelFamily {
  return /amazon\.nova|(^|[.:/])nova-/.test(modelId) ? "nova" : "anthropic";
}

export function eventMessage(eventType: string, payload: unknown): Uint8Array {
  return codec.encode({
    headers: {
      ":event-type": { type: "string", value: eventType },
      ":content-type": { type: "string", value: "application/json" },
      ":message-type": { type: "string", value: "event" },
    },
    body: fromUtf8(JSON.stringify(payload)),
  });
}

/** An in-stream error: the SDK throws it from the `for await` loop, named after `:exception-type`. */
export function exceptionMessage(exceptionType: string, payload: Record<string, unknown>): Uint8Array {
  return codec.encode({
    headers: {
      ":exception-type": { type: "string", value: exceptionType },
      ":content-type": { type: "string", value: "application/json" },
      ":message-type": { type: "string", value: "exception" },
    },
    body: fromUtf8(JSON.stringify(payload)),
  });
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export interface StreamEnd {
  /** end_turn | max_tokens | guardrail_intervened (Converse's name; Invoke formats map it). */
  stopReason: "end_turn" | "max_tokens" | "guardrail_intervened";
  usage: Usage;
  invocationLatencyMs: number;
  firstByteLatencyMs: number;
  /** When the request asked for a guardrail trace and the guardrail intervened: what it matched. */
  guardrailTrace?: GuardrailTrace;
}

export interface GuardrailTrace {
  guardrailId: string;
  direction: "input" | "output";
  /** The trigger word or phrase found (reported as a custom-word match of the word policy). */
  match: string;
}

function assessment(trace: GuardrailTrace) {
  return { wordPolicy: { customWords: [{ match: trace.match, action: "BLOCKED", detected: true }] } };
}

/** Invoke: `amazon-bedrock-trace.guardrail.input` (a map by guardrail id) or `.outputs` (a list of such maps). */
function invokeTrace(trace: GuardrailTrace | undefined): Record<string, unknown> {
  if (!trace) return {};
  const byId = { [trace.guardrailId]: assessment(trace) };
  return { "amazon-bedrock-trace": { guardrail: trace.direction === "input" ? { input: byId } : { outputs: [byId] } } };
}

/** Converse: `metadata.trace.guardrail` with inputAssessment / outputAssessments (ConverseStreamTrace). */
function converseTrace(trace: GuardrailTrace | undefined): Record<string, unknown> {
  if (!trace) return {};
  const guardrail =
    trace.direction === "input"
      ? { inputAssessment: { [trace.guardrailId]: assessment(trace) } }
      : { outputAssessments: { [trace.guardrailId]: [assessment(trace)] } };
  return { trace: { guardrail: { ...guardrail, actionReason: "Guardrail blocked." } } };
}

/** Builds the event-stream messages of one answer in one API's format. */
export interface AnswerEncoder {
  start(inputTokens: number): Uint8Array[];
  delta(text: string): Uint8Array[];
  end(end: StreamEnd): Uint8Array[];
  /** Marks every chunk from now on as a guardrail intervention (Invoke: `amazon-bedrock-guardrailAction`). */
  intervene(): void;
}

const GUARDRAIL_ACTION = "amazon-bedrock-guardrailAction";

function invocationMetrics(end: StreamEnd) {
  return {
    inputTokenCount: end.usage.inputTokens,
    outputTokenCount: end.usage.outputTokens,
    invocationLatency: end.invocationLatencyMs,
    firstByteLatency: end.firstByteLatencyMs,
  };
}

export function answerEncoder(api: ApiKind, family: ModelFamily, modelId: string): AnswerEncoder {
  let intervened = false;
  const chunk = (json: Record<string, unknown>) =>
    eventMessage("chunk", {
      bytes: Buffer.from(JSON.stringify(intervened ? { ...json, [GUARDRAIL_ACTION]: "INTERVENED" } : json)).toString("base64"),
    });

  if (api === "converse") {
    return {
      start: () => [eventMessage("messageStart", { role: "assistant" })],
      delta: (text) => [eventMessage("contentBlockDelta", { contentBlockIndex: 0, delta: { text } })],
      end: (end) => [
        eventMessage("contentBlockStop", { contentBlockIndex: 0 }),
        eventMessage("messageStop", { stopReason: end.stopReason }),
        eventMessage("metadata", {
          usage: {
            inputTokens: end.usage.inputTokens,
            outputTokens: end.usage.outputTokens,
            totalTokens: end.usage.inputTokens + end.usage.outputTokens,
          },
          metrics: { latencyMs: end.invocationLatencyMs },
          ...converseTrace(end.guardrailTrace),
        }),
      ],
      intervene: () => {
        intervened = true;
      },
    };
  }

  if (family === "nova") {
    return {
      start: () => [chunk({ messageStart: { role: "assistant" } })],
      delta: (text) => [chunk({ contentBlockDelta: { delta: { text }, contentBlockIndex: 0 } })],
      end: (end) => [
        chunk({ contentBlockStop: { contentBlockIndex: 0 } }),
        chunk({ messageStop: { stopReason: end.stopReason } }),
        chunk({
          metadata: { usage: end.usage, metrics: {}, trace: {} },
          "amazon-bedrock-invocationMetrics": invocationMetrics(end),
          ...invokeTrace(end.guardrailTrace),
        }),
      ],
      intervene: () => {
        intervened = true;
      },
    };
  }

  const messageId = `msg_bdrk_${Math.random().toString(36).slice(2, 14)}`;
  return {
    start: (inputTokens) => [
      chunk({
        type: "message_start",
        message: {
          id: messageId,
          type: "message",
          role: "assistant",
          model: modelId.replace(/^.*anthropic\./, "").replace(/-v\d+:\d+$/, ""),
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: inputTokens, output_tokens: 1 },
        },
      }),
      chunk({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
    ],
    delta: (text) => [chunk({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text } })],
    end: (end) => [
      chunk({ type: "content_block_stop", index: 0 }),
      chunk({
        type: "message_delta",
        // Anthropic has no guardrail stop reason; the intervention shows in amazon-bedrock-guardrailAction.
        delta: { stop_reason: end.stopReason === "guardrail_intervened" ? "end_turn" : end.stopReason, stop_sequence: null },
        usage: { output_tokens: end.usage.outputTokens },
      }),
      chunk({ type: "message_stop", "amazon-bedrock-invocationMetrics": invocationMetrics(end), ...invokeTrace(end.guardrailTrace) }),
    ],
    intervene: () => {
      intervened = true;
    },
  };
}

export interface PromptMessage {
  role: string;
  text: string;
}

/** Reads the conversation out of an Invoke body (Anthropic or Nova native format) or a Converse request. */
export function conversationOf(body: Record<string, unknown>): { system: string; messages: PromptMessage[]; maxTokens?: number } {
  const textOf = (content: unknown): string => {
    if (typeof content === "string") return content;
    if (Array.isArray(content)) {
      return content
        .map((block: unknown) => {
          if (typeof block !== "object" || block === null) return "";
          const b = block as { text?: unknown; guardContent?: { text?: { text?: unknown } } };
          if (typeof b.text === "string") return b.text;
          if (typeof b.guardContent?.text?.text === "string") return b.guardContent.text.text;
          return "";
        })
        .join("");
    }
    return "";
  };
  const messages = Array.isArray(body.messages)
    ? (body.messages as Array<{ role?: unknown; content?: unknown }>).map((m) => ({
        role: String(m.role ?? "user"),
        text: stripGuardTags(textOf(m.content)),
      }))
    : [];
  const system = stripGuardTags(textOf(body.system));
  const inference = (body.inferenceConfig ?? {}) as { maxTokens?: unknown; max_new_tokens?: unknown };
  const maxTokens = [body.max_tokens, inference.maxTokens, inference.max_new_tokens].find((v) => typeof v === "number") as
    | number
    | undefined;
  return { system, messages, maxTokens };
}

/** Invoke bodies may wrap text in `<amazon-bedrock-guardrails-guardContent_xyz>` tags for the guardrail. */
function stripGuardTags(text: string): string {
  return text.replace(/<\/?amazon-bedrock-guardrails-guardContent_[^>]*>/g, "");
}
