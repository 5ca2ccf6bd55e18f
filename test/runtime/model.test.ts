import { expect } from "chai";
import type { BedrockRuntimeClient } from "@aws-sdk/client-bedrock-runtime";
import { ModelError, type ModelEvent } from "../../runtime/chat/ports";
import type { ModelConfig } from "../../runtime/config";
import { BedrockModelStream } from "../../runtime/model/bedrock";
import { parseConverseEvent } from "../../runtime/model/converse-format";
import { toModelError } from "../../runtime/model/errors";
import { invokeRequestBody, parseInvokeChunk } from "../../runtime/model/invoke-formats";

const bytes = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));

// Chunks as Bedrock streams them for anthropic.claude-3-5-haiku (InvokeModelWithResponseStream).
const CLAUDE_CHUNKS = [
  { type: "message_start", message: { id: "msg_bdrk_01", type: "message", role: "assistant", model: "claude-3-5-haiku-20241022", content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 14, output_tokens: 1 } } },
  { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
  { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hello" } },
  { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: " there!" } },
  { type: "content_block_stop", index: 0 },
  { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 12 } },
  { type: "message_stop", "amazon-bedrock-invocationMetrics": { inputTokenCount: 14, outputTokenCount: 12, invocationLatency: 812, firstByteLatency: 301 } },
];

// Chunks as Bedrock streams them for amazon.nova-lite (InvokeModelWithResponseStream).
const NOVA_CHUNKS = [
  { messageStart: { role: "assistant" } },
  { contentBlockDelta: { delta: { text: "Hi" }, contentBlockIndex: 0 } },
  { contentBlockDelta: { delta: { text: ", I'm Nova." }, contentBlockIndex: 0 } },
  { contentBlockStop: { contentBlockIndex: 0 } },
  { messageStop: { stopReason: "max_tokens" } },
  { metadata: { usage: { inputTokens: 5, outputTokens: 10 }, metrics: {}, trace: {} }, "amazon-bedrock-invocationMetrics": { inputTokenCount: 5, outputTokenCount: 10, invocationLatency: 367, firstByteLatency: 211 } },
];

function events(chunks: unknown[], family: "anthropic" | "nova"): ModelEvent[] {
  return chunks.flatMap((c) => parseInvokeChunk(family, bytes(c)));
}

describe("runtime/model: Bedrock request and chunk formats", () => {
  it("parses Claude Messages API chunks: text deltas, stop reason, usage", () => {
    const out = events(CLAUDE_CHUNKS, "anthropic");
    expect(out.filter((e) => e.type === "text").map((e) => (e as { text: string }).text).join("")).to.equal("Hello there!");
    expect(out).to.deep.include({ type: "stop", reason: "end_turn" });
    expect(out).to.deep.include({ type: "usage", inputTokens: 14 });
    expect(out.at(-1)).to.deep.equal({ type: "usage", inputTokens: 14, outputTokens: 12 });
  });

  it("parses Nova chunks: text deltas, max_tokens, usage from metadata and invocation metrics", () => {
    const out = events(NOVA_CHUNKS, "nova");
    expect(out.filter((e) => e.type === "text").map((e) => (e as { text: string }).text)).to.deep.equal(["Hi", ", I'm Nova."]);
    expect(out).to.deep.include({ type: "stop", reason: "max_tokens" });
    expect(out).to.deep.include({ type: "usage", inputTokens: 5, outputTokens: 10 });
  });

  it("recognises a guardrail intervention in Invoke chunks (amazon-bedrock-guardrailAction)", () => {
    const claude = events(
      [
        { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Sorry, I can't discuss that." } },
        { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 0 }, "amazon-bedrock-guardrailAction": "INTERVENED" },
      ],
      "anthropic",
    );
    expect(claude).to.deep.include({ type: "guardrail" });
    const nova = events([{ contentBlockDelta: { delta: { text: "Blocked." } } }, { messageStop: { stopReason: "guardrail_intervened" }, "amazon-bedrock-guardrailAction": "INTERVENED" }], "nova");
    expect(nova).to.deep.include({ type: "guardrail" });
    expect(nova).to.deep.include({ type: "stop", reason: "guardrail" });
    expect(events([{ type: "message_delta", delta: { stop_reason: "end_turn" }, "amazon-bedrock-guardrailAction": "NONE" }], "anthropic")).not.to.deep.include({ type: "guardrail" });
  });

  it("turns a Claude error chunk and a non-JSON chunk into ModelErrors", () => {
    expect(() => parseInvokeChunk("anthropic", bytes({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } }))).to.throw(ModelError).with.property("retryable", true);
    expect(() => parseInvokeChunk("nova", new TextEncoder().encode("{oops"))).to.throw(ModelError).with.property("code", "MalformedChunk");
  });

  it("parses ConverseStream events, including guardrail_intervened and exception members", () => {
    const out = [
      { messageStart: { role: "assistant" as const } },
      { contentBlockDelta: { delta: { text: "Part" }, contentBlockIndex: 0 } },
      { contentBlockStop: { contentBlockIndex: 0 } },
      { messageStop: { stopReason: "guardrail_intervened" as const } },
      { metadata: { usage: { inputTokens: 9, outputTokens: 3, totalTokens: 12 }, metrics: { latencyMs: 420 } } },
    ].flatMap((e) => parseConverseEvent(e));
    expect(out).to.deep.equal([
      { type: "text", text: "Part" },
      { type: "stop", reason: "guardrail" },
      { type: "usage", inputTokens: 9, outputTokens: 3 },
    ]);
    expect(() => parseConverseEvent({ throttlingException: { name: "ThrottlingException", message: "slow", $fault: "client" } } as never))
      .to.throw(ModelError)
      .with.property("retryable", true);
    expect(() => parseConverseEvent({ modelStreamErrorException: { message: "x" } } as never)).to.throw(ModelError).with.property("code", "ModelStreamErrorException");
  });

  it("builds Claude and Nova request bodies", () => {
    const messages = [
      { role: "user" as const, text: "q" },
      { role: "assistant" as const, text: "a" },
      { role: "user" as const, text: "q2" },
    ];
    expect(JSON.parse(invokeRequestBody("anthropic", messages, 512))).to.deep.equal({
      anthropic_version: "bedrock-2023-05-31",
      max_tokens: 512,
      messages: messages.map((m) => ({ role: m.role, content: [{ type: "text", text: m.text }] })),
    });
    expect(JSON.parse(invokeRequestBody("nova", messages, 256, "async"))).to.deep.equal({
      schemaVersion: "messages-v1",
      messages: messages.map((m) => ({ role: m.role, content: [{ text: m.text }] })),
      inferenceConfig: { maxTokens: 256 },
      "amazon-bedrock-guardrailConfig": { streamProcessingMode: "ASYNCHRONOUS" },
    });
  });

  it("classifies SDK errors: throttling and 5xx retryable, validation and access not", () => {
    expect(toModelError({ name: "ThrottlingException", $metadata: { httpStatusCode: 429 } }).retryable).to.equal(true);
    expect(toModelError({ name: "Unknown", $metadata: { httpStatusCode: 503 } }).retryable).to.equal(true);
    expect(toModelError({ name: "ServiceUnavailableException" }).retryable).to.equal(true);
    expect(toModelError(Object.assign(new Error("reset"), { code: "ECONNRESET" })).retryable).to.equal(true);
    expect(toModelError({ name: "ValidationException", $metadata: { httpStatusCode: 400 } }).retryable).to.equal(false);
    expect(toModelError({ name: "AccessDeniedException", $metadata: { httpStatusCode: 403 } }).retryable).to.equal(false);
  });
});

// ---- the adapter over a stand-in client ------------------------------------------------------------------------

interface Sent {
  name: string;
  input: Record<string, unknown>;
  signal: AbortSignal | undefined;
}

function fakeClient(respond: (sent: Sent) => Promise<unknown>): { client: () => BedrockRuntimeClient; sent: Sent[] } {
  const sent: Sent[] = [];
  const client = {
    send: (command: { constructor: { name: string }; input: Record<string, unknown> }, options?: { abortSignal?: AbortSignal }) => {
      const s = { name: command.constructor.name, input: command.input, signal: options?.abortSignal };
      sent.push(s);
      return respond(s);
    },
  } as unknown as BedrockRuntimeClient;
  return { client: () => client, sent };
}

async function* parts(items: unknown[], gapMs = 0): AsyncIterable<unknown> {
  for (const item of items) {
    if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
    yield item;
  }
}

async function collect(stream: AsyncIterable<ModelEvent>): Promise<ModelEvent[]> {
  const out: ModelEvent[] = [];
  for await (const e of stream) out.push(e);
  return out;
}

const config = (over: Partial<ModelConfig> = {}): ModelConfig => ({
  modelId: "us.anthropic.claude-3-5-haiku-20241022-v1:0",
  api: "InvokeModelWithResponseStream",
  family: "anthropic",
  guardrail: { id: "gr-123", version: "3", streamMode: "sync" },
  maxOutputTokens: 1024,
  ...over,
});

describe("runtime/model/bedrock: BedrockModelStream", () => {
  const request = (signal = new AbortController().signal) => ({ messages: [{ role: "user" as const, text: "hi" }], maxOutputTokens: 100, signal });

  it("InvokeModelWithResponseStream: sends the Claude body with the guardrail and yields parsed events", async () => {
    const { client, sent } = fakeClient(async () => ({ body: parts(CLAUDE_CHUNKS.map((c) => ({ chunk: { bytes: bytes(c) } }))) }));
    const out = await collect(new BedrockModelStream(client, config()).stream(request()));
    expect(sent[0]!.name).to.equal("InvokeModelWithResponseStreamCommand");
    expect(sent[0]!.input).to.include({ modelId: "us.anthropic.claude-3-5-haiku-20241022-v1:0", contentType: "application/json", guardrailIdentifier: "gr-123", guardrailVersion: "3", trace: "ENABLED" });
    const body = JSON.parse(new TextDecoder().decode(sent[0]!.input.body as Uint8Array));
    expect(body).to.include({ anthropic_version: "bedrock-2023-05-31", max_tokens: 100 });
    expect(sent[0]!.signal).to.be.instanceOf(AbortSignal);
    expect(out.filter((e) => e.type === "text")).to.have.length(2);
  });

  it("InvokeModelWithResponseStream without a guardrail sends no guardrail parameters", async () => {
    const { client, sent } = fakeClient(async () => ({ body: parts(NOVA_CHUNKS.map((c) => ({ chunk: { bytes: bytes(c) } }))) }));
    await collect(new BedrockModelStream(client, config({ modelId: "amazon.nova-lite-v1:0", family: "nova", guardrail: undefined })).stream(request()));
    expect(sent[0]!.input).not.to.have.any.keys("guardrailIdentifier", "guardrailVersion", "trace");
    expect(JSON.parse(new TextDecoder().decode(sent[0]!.input.body as Uint8Array))).to.have.property("inferenceConfig");
  });

  it("ConverseStream: sends guardrailConfig with the stream processing mode", async () => {
    const { client, sent } = fakeClient(async () => ({
      stream: parts([{ contentBlockDelta: { delta: { text: "ok" } } }, { messageStop: { stopReason: "end_turn" } }]),
    }));
    const out = await collect(new BedrockModelStream(client, config({ api: "ConverseStream", guardrail: { id: "gr-1", version: "DRAFT", streamMode: "async" } })).stream(request()));
    expect(sent[0]!.name).to.equal("ConverseStreamCommand");
    expect(sent[0]!.input.guardrailConfig).to.deep.equal({ guardrailIdentifier: "gr-1", guardrailVersion: "DRAFT", streamProcessingMode: "async" });
    expect(sent[0]!.input.inferenceConfig).to.deep.equal({ maxTokens: 100 });
    expect(out).to.deep.equal([{ type: "text", text: "ok" }, { type: "stop", reason: "end_turn" }]);
  });

  it("throws an exception member of the Invoke stream as a ModelError", async () => {
    const { client } = fakeClient(async () => ({
      body: parts([{ chunk: { bytes: bytes(CLAUDE_CHUNKS[2]) } }, { modelStreamErrorException: { message: "boom", originalStatusCode: 500 } }]),
    }));
    const stream = new BedrockModelStream(client, config()).stream(request());
    const seen: ModelEvent[] = [];
    let caught: unknown;
    try {
      for await (const e of stream) seen.push(e);
    } catch (error) {
      caught = error;
    }
    expect(seen).to.deep.equal([{ type: "text", text: "Hello" }]);
    expect(caught).to.be.instanceOf(ModelError).with.property("code", "ModelStreamErrorException");
  });

  it("maps errors from the call itself (throttling → retryable)", async () => {
    const { client } = fakeClient(async () => {
      throw Object.assign(new Error("Too many requests"), { name: "ThrottlingException", $metadata: { httpStatusCode: 429 } });
    });
    let caught: unknown;
    try {
      await collect(new BedrockModelStream(client, config()).stream(request()));
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(ModelError).that.deep.includes({ code: "ThrottlingException", retryable: true });
  });

  it("reports a client that cannot be made (no region, no credentials chain) from the iterator, as a ModelError", async () => {
    const noClient = () => {
      throw Object.assign(new Error("Region is missing"), { name: "ConfigError" });
    };
    for (const api of ["InvokeModelWithResponseStream", "ConverseStream"] as const) {
      const stream = new BedrockModelStream(noClient as never, config({ api })).stream(request());
      let caught: unknown;
      try {
        await collect(stream);
      } catch (error) {
        caught = error;
      }
      expect(caught, api).to.be.instanceOf(ModelError).that.deep.includes({ code: "ConfigError", retryable: false });
    }
  });

  it("ends silently when the caller aborts, whatever the stream does afterwards", async () => {
    const controller = new AbortController();
    const { client, sent } = fakeClient(async () => ({
      body: (async function* () {
        yield { chunk: { bytes: bytes(CLAUDE_CHUNKS[2]) } };
        await new Promise((r) => setTimeout(r, 20));
        throw Object.assign(new Error("aborted"), { name: "AbortError" });
      })(),
    }));
    const out: ModelEvent[] = [];
    for await (const e of new BedrockModelStream(client, config()).stream(request(controller.signal))) {
      out.push(e);
      controller.abort();
    }
    expect(out).to.have.length(1);
    expect(sent[0]!.signal!.aborted).to.equal(true, "the abort reaches the SDK call");
  });

  it("gives up on a response that does not start within the first-byte deadline (retryable)", async () => {
    const { client } = fakeClient(
      (s) => new Promise((_, reject) => s.signal!.addEventListener("abort", () => reject(Object.assign(new Error("aborted"), { name: "AbortError" })))),
    );
    let caught: unknown;
    try {
      await collect(new BedrockModelStream(client, config(), 20).stream(request()));
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(ModelError).that.deep.includes({ code: "TimeoutError", retryable: true });
  });
});
