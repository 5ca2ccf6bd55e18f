import {
  BedrockRuntimeClient,
  ConverseStreamCommand,
  InvokeModelWithResponseStreamCommand,
  type ConverseStreamOutput,
} from "@aws-sdk/client-bedrock-runtime";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { expect } from "chai";
import { BedrockEmulator } from "../../../runtime/local/emulators/bedrock";
import { tokenize, writeAnswer } from "../../../runtime/local/emulators/bedrock-text";
import { waitFor } from "../helpers";

const CLAUDE = "us.anthropic.claude-3-5-haiku-20241022-v1:0";
const NOVA = "amazon.nova-lite-v1:0";

function claudeBody(text: string, maxTokens = 1024) {
  return JSON.stringify({
    anthropic_version: "bedrock-2023-05-31",
    max_tokens: maxTokens,
    system: "You are helpful.",
    messages: [{ role: "user", content: [{ type: "text", text }] }],
  });
}

function novaBody(text: string) {
  return JSON.stringify({
    schemaVersion: "messages-v1",
    messages: [{ role: "user", content: [{ text }] }],
    inferenceConfig: { maxTokens: 512 },
  });
}

/** Reads an Invoke stream to the end: the model's JSON chunks, decoded. */
async function invokeChunks(client: BedrockRuntimeClient, input: ConstructorParameters<typeof InvokeModelWithResponseStreamCommand>[0]) {
  const response = await client.send(new InvokeModelWithResponseStreamCommand(input));
  const chunks: Array<Record<string, unknown>> = [];
  for await (const event of response.body!) {
    if (event.chunk?.bytes) chunks.push(JSON.parse(Buffer.from(event.chunk.bytes).toString("utf8")) as Record<string, unknown>);
  }
  return { chunks, response };
}

async function converseEvents(client: BedrockRuntimeClient, input: ConstructorParameters<typeof ConverseStreamCommand>[0]) {
  const response = await client.send(new ConverseStreamCommand(input));
  const events: ConverseStreamOutput[] = [];
  for await (const event of response.stream!) events.push(event);
  return events;
}

const claudeText = (chunks: Array<Record<string, unknown>>) =>
  chunks
    .filter((c) => c.type === "content_block_delta")
    .map((c) => (c.delta as { text: string }).text)
    .join("");

describe("local/bedrock: Bedrock runtime emulator through the real SDK (HTTP/2)", function () {
  this.timeout(15_000);
  let bedrock: BedrockEmulator;
  let client: BedrockRuntimeClient;

  before(async () => {
    bedrock = await new BedrockEmulator({ timing: { timeToFirstTokenMs: 5, tokensPerSecond: 2000 } }).start();
    client = new BedrockRuntimeClient({
      endpoint: bedrock.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      maxAttempts: 1,
    });
  });
  after(async () => {
    client.destroy();
    await bedrock.stop();
  });

  it("streams Anthropic Claude message chunks with invocation metrics", async () => {
    const { chunks } = await invokeChunks(client, {
      modelId: CLAUDE,
      contentType: "application/json",
      accept: "application/json",
      body: claudeBody("How should I size DynamoDB partitions for chat history?"),
    });
    const types = chunks.map((c) => c.type);
    expect(types.slice(0, 2)).to.deep.equal(["message_start", "content_block_start"]);
    expect(types.slice(-3)).to.deep.equal(["content_block_stop", "message_delta", "message_stop"]);
    expect(types.filter((t) => t === "content_block_delta").length).to.be.greaterThan(3);
    const messageDelta = chunks.at(-2)!;
    expect(messageDelta.delta).to.deep.include({ stop_reason: "end_turn" });
    const metrics = chunks.at(-1)!["amazon-bedrock-invocationMetrics"] as Record<string, number>;
    expect(metrics).to.include.keys("inputTokenCount", "outputTokenCount", "invocationLatency", "firstByteLatency");
    expect(metrics.outputTokenCount).to.equal((messageDelta.usage as { output_tokens: number }).output_tokens);
    const record = bedrock.requests.at(-1)!;
    expect(record).to.include({ api: "invoke", modelId: CLAUDE, outcome: "complete" });
    expect(claudeText(chunks)).to.equal(record.text);
    expect(record.text.toLowerCase()).to.include("dynamodb");
  });

  it("continues a prefilled answer (the last message the assistant's) with the rest of it, not from the start", async () => {
    const prompt = "Write a story about a lighthouse [[tokens:120]]";
    const cut = await invokeChunks(client, { modelId: CLAUDE, body: claudeBody(prompt, 40) });
    expect(cut.chunks.at(-2)!.delta).to.deep.include({ stop_reason: "max_tokens" });
    const partial = claudeText(cut.chunks);
    const body = JSON.stringify({
      anthropic_version: "bedrock-2023-05-31",
      max_tokens: 1024,
      system: "You are helpful.",
      messages: [
        { role: "user", content: [{ type: "text", text: prompt }] },
        { role: "assistant", content: [{ type: "text", text: partial.trimEnd() }] },
      ],
    });
    const rest = claudeText((await invokeChunks(client, { modelId: CLAUDE, body })).chunks);
    const whole = writeAnswer("Write a story about a lighthouse ", { seed: 1, attempt: 0, targetTokens: 120 });
    expect(partial.trimEnd() + rest).to.equal(whole);
    expect(bedrock.requests.at(-1)).to.include({ prefill: partial.trimEnd(), outcome: "complete" });

    let refused: unknown;
    await invokeChunks(client, { modelId: CLAUDE, body: body.replace(JSON.stringify(partial.trimEnd()), JSON.stringify(`${partial.trimEnd()} `)) }).catch((e: unknown) => (refused = e));
    expect(String(refused)).to.match(/final assistant content cannot end with trailing whitespace/);

    const made = { role: "assistant", content: [{ type: "text", text: "A text this model never wrote" }] };
    const fresh = claudeText(
      (await invokeChunks(client, { modelId: CLAUDE, body: JSON.stringify({ anthropic_version: "bedrock-2023-05-31", max_tokens: 200, messages: [{ role: "user", content: [{ type: "text", text: "hello there" }] }, made] }) })).chunks,
    );
    expect(fresh.startsWith("\n\n")).to.equal(true, "a new paragraph after a prefill it did not write");
  });

  it("streams Amazon Nova chunks when the model id is a Nova model", async () => {
    const { chunks } = await invokeChunks(client, { modelId: NOVA, body: novaBody("Explain websocket backpressure briefly") });
    expect(Object.keys(chunks[0])).to.deep.equal(["messageStart"]);
    const deltas = chunks.filter((c) => "contentBlockDelta" in c);
    expect(deltas.length).to.be.greaterThan(0);
    expect(chunks.at(-2)).to.deep.equal({ messageStop: { stopReason: "end_turn" } });
    const last = chunks.at(-1)!;
    expect(last.metadata).to.have.nested.property("usage.outputTokens");
    expect(last).to.have.property("amazon-bedrock-invocationMetrics");
    const text = deltas.map((c) => (c.contentBlockDelta as { delta: { text: string } }).delta.text).join("");
    expect(text).to.equal(bedrock.requests.at(-1)!.text);
  });

  it("streams ConverseStream events ending in messageStop and metadata", async () => {
    const events = await converseEvents(client, {
      modelId: CLAUDE,
      messages: [{ role: "user", content: [{ text: "Write a function that parses CSV lines" }] }],
      inferenceConfig: { maxTokens: 800 },
    });
    expect(events[0].messageStart?.role).to.equal("assistant");
    const text = events.map((e) => e.contentBlockDelta?.delta?.text ?? "").join("");
    expect(text).to.include("```ts");
    expect(events.at(-2)?.messageStop?.stopReason).to.equal("end_turn");
    const usage = events.at(-1)?.metadata?.usage;
    expect(usage?.outputTokens).to.be.greaterThan(0);
    expect(usage?.totalTokens).to.equal(usage!.inputTokens! + usage!.outputTokens!);
  });

  it("stops at max_tokens", async () => {
    const { chunks } = await invokeChunks(client, { modelId: CLAUDE, body: claudeBody("Tell me everything in detail", 10) });
    expect(chunks.at(-2)!.delta).to.deep.include({ stop_reason: "max_tokens" });
    expect((chunks.at(-2)!.usage as { output_tokens: number }).output_tokens).to.equal(10);
  });

  it("writes varied answers from the prompt, deterministic for a seed", () => {
    const a = writeAnswer("How do I cache JWKS keys in Lambda?", { seed: 7 });
    const b = writeAnswer("What makes a good pizza dough?", { seed: 7 });
    expect(a).to.equal(writeAnswer("How do I cache JWKS keys in Lambda?", { seed: 7 }));
    expect(a).to.not.equal(b);
    expect(a.toLowerCase()).to.match(/jwks|lambda|cache/);
    expect(b.toLowerCase()).to.match(/pizza|dough|good/);
    expect(tokenize(a).join("")).to.equal(a);
    expect(writeAnswer("a long answer please", { seed: 1, targetTokens: 400 }).length).to.be.greaterThan(1000);
  });

  it("answers the same conversation anew on each request (a Regenerate), recording the attempt", async () => {
    const prompt = "Regenerate me: what should I know about connection pools?";
    const first = claudeText((await invokeChunks(client, { modelId: CLAUDE, body: claudeBody(prompt) })).chunks);
    const second = claudeText((await invokeChunks(client, { modelId: CLAUDE, body: claudeBody(prompt) })).chunks);
    expect(bedrock.requests.slice(-2).map((r) => r.attempt)).to.deep.equal([0, 1]);
    expect(second).to.not.equal(first);
    expect(first).to.equal(writeAnswer(prompt, { seed: 1, attempt: 0 }));
    expect(second).to.equal(writeAnswer(prompt, { seed: 1, attempt: 1 }));
  });

  it("answers 429 ThrottlingException before the stream", async () => {
    bedrock.script({ fault: "throttle-before" });
    const error = await client
      .send(new InvokeModelWithResponseStreamCommand({ modelId: CLAUDE, body: claudeBody("hi") }))
      .then(() => null, (e: Error & { $metadata?: { httpStatusCode?: number } }) => e);
    expect(error?.name).to.equal("ThrottlingException");
    expect(error?.$metadata?.httpStatusCode).to.equal(429);
  });

  it("answers 5xx as InternalServerException / ServiceUnavailableException", async () => {
    bedrock.script({ fault: "5xx" }, { fault: "5xx", status: 503 });
    const send = () =>
      client
        .send(new ConverseStreamCommand({ modelId: CLAUDE, messages: [{ role: "user", content: [{ text: "hi" }] }] }))
        .then(() => null, (e: Error) => e.name);
    expect(await send()).to.equal("InternalServerException");
    expect(await send()).to.equal("ServiceUnavailableException");
  });

  it("throws in-stream throttlingException and modelStreamErrorException from the for-await loop", async () => {
    bedrock.script({ fault: "throttle-in-stream", afterTokens: 3 }, { fault: "model-stream-error", afterTokens: 3 });
    const names: string[] = [];
    for (let i = 0; i < 2; i++) {
      const error = await invokeChunks(client, { modelId: CLAUDE, body: claudeBody("hello there") }).then(
        () => null,
        (e: Error) => e,
      );
      names.push(error?.name ?? "none");
    }
    expect(names).to.deep.equal(["ThrottlingException", "ModelStreamErrorException"]);
  });

  it("takes faults from magic words in the prompt, so the browser can trigger them", async () => {
    const error = await converseEvents(client, {
      modelId: CLAUDE,
      messages: [{ role: "user", content: [{ text: "please fail [[fault:model-stream-error]]" }] }],
    }).then(() => null, (e: Error) => e);
    expect(error?.name).to.equal("ModelStreamErrorException");
  });

  it("records the client's abort (abortSignal) with the time the stream closed at the emulator", async () => {
    bedrock.script({ fault: "slow", tokensPerSecond: 20 });
    const controller = new AbortController();
    const response = await client.send(
      new InvokeModelWithResponseStreamCommand({ modelId: CLAUDE, body: claudeBody("stream slowly [[tokens:300]]") }),
      { abortSignal: controller.signal },
    );
    let deltas = 0;
    let abortedAt = 0;
    try {
      for await (const event of response.body!) {
        if (event.chunk) deltas++;
        if (deltas === 4) {
          abortedAt = Date.now();
          controller.abort();
        }
      }
    } catch (error) {
      expect((error as Error).name).to.match(/AbortError/);
    }
    // An aborted HTTP/2 stream can end the loop silently: the signal is the source of truth.
    expect(controller.signal.aborted).to.equal(true);
    const record = bedrock.requests.at(-1)!;
    await waitFor(() => record.outcome === "aborted", 3_000, "the emulator to see the abort");
    expect(record.closedAt).to.be.at.least(abortedAt);
    expect(record.text.length).to.be.greaterThan(0);
  });

  it("stalls mid-stream until the client gives up", async () => {
    bedrock.script({ fault: "stall", afterTokens: 2 });
    const controller = new AbortController();
    const response = await client.send(new ConverseStreamCommand({ modelId: CLAUDE, messages: [{ role: "user", content: [{ text: "hello" }] }] }), {
      abortSignal: controller.signal,
    });
    // The client's patience starts once text has arrived (a busy machine may take longer than that for the first token).
    let timer: NodeJS.Timeout | undefined;
    let text = "";
    try {
      for await (const event of response.stream!) {
        text += event.contentBlockDelta?.delta?.text ?? "";
        if (text !== "") timer ??= setTimeout(() => controller.abort(), 300);
      }
    } catch {
      // aborted
    }
    clearTimeout(timer);
    expect(controller.signal.aborted).to.equal(true);
    expect(text.length).to.be.greaterThan(0);
    await waitFor(() => bedrock.requests.at(-1)!.outcome === "aborted", 3_000, "the stall to be aborted");
  });

  it("a stall with a length pauses once, then the answer completes", async () => {
    bedrock.script({ fault: "stall", afterTokens: 2, stallMs: 150 });
    const events = await converseEvents(client, { modelId: CLAUDE, messages: [{ role: "user", content: [{ text: "hello" }] }] });
    expect(events.at(-2)?.messageStop?.stopReason).to.equal("end_turn");
    expect(bedrock.requests.at(-1)!).to.include({ outcome: "complete", fault: "stall" });
  });

  describe("guardrails", () => {
    it("Invoke: blocked input streams the canned message with amazon-bedrock-guardrailAction INTERVENED", async () => {
      const { chunks } = await invokeChunks(client, {
        modelId: CLAUDE,
        guardrailIdentifier: "gr-local",
        guardrailVersion: "1",
        trace: "ENABLED",
        body: claudeBody("Let us discuss the forbidden topic"),
      });
      expect(claudeText(chunks)).to.equal("Sorry, the model cannot answer this question.");
      expect(chunks.every((c) => c["amazon-bedrock-guardrailAction"] === "INTERVENED")).to.equal(true);
      expect(chunks.at(-1)!["amazon-bedrock-trace"]).to.deep.equal({
        guardrail: { input: { "gr-local": { wordPolicy: { customWords: [{ match: "forbidden topic", action: "BLOCKED", detected: true }] } } } },
      });
      const record = bedrock.requests.at(-1)!;
      expect(record.guardrail).to.deep.include({ identifier: "gr-local", version: "1", trace: "ENABLED" });
      expect(record.outcome).to.equal("guardrail");
    });

    it("Invoke: without a guardrail the same prompt is answered normally", async () => {
      const { chunks } = await invokeChunks(client, { modelId: CLAUDE, body: claudeBody("Let us discuss the forbidden topic") });
      expect(chunks.some((c) => "amazon-bedrock-guardrailAction" in c)).to.equal(false);
      expect(bedrock.requests.at(-1)!.guardrail).to.equal(undefined);
    });

    it("Converse: blocked input ends with stopReason guardrail_intervened", async () => {
      const events = await converseEvents(client, {
        modelId: NOVA,
        messages: [{ role: "user", content: [{ text: "forbidden topic please" }] }],
        guardrailConfig: { guardrailIdentifier: "gr-local", guardrailVersion: "DRAFT", streamProcessingMode: "async", trace: "enabled" },
      });
      expect(events.find((e) => e.messageStop)?.messageStop?.stopReason).to.equal("guardrail_intervened");
      const assessment = events.at(-1)?.metadata?.trace?.guardrail?.inputAssessment?.["gr-local"];
      expect(assessment?.wordPolicy?.customWords?.[0]).to.include({ match: "forbidden topic", action: "BLOCKED" });
      expect(bedrock.requests.at(-1)!.guardrail).to.deep.include({ streamProcessingMode: "async" });
    });

    it("intervenes mid-output: some text, then the blocked message, flagged from that chunk on", async () => {
      const { chunks } = await invokeChunks(client, {
        modelId: CLAUDE,
        guardrailIdentifier: "gr-local",
        guardrailVersion: "1",
        body: claudeBody("write some unsafe output"),
      });
      const firstFlagged = chunks.findIndex((c) => c["amazon-bedrock-guardrailAction"] === "INTERVENED");
      expect(firstFlagged).to.be.greaterThan(2);
      expect(claudeText(chunks)).to.match(/\n\nSorry, the model cannot answer this question\.$/);
      expect(chunks.slice(firstFlagged).every((c) => c["amazon-bedrock-guardrailAction"] === "INTERVENED")).to.equal(true);
    });
  });

  it("serves HTTP/1.1 clients too (NodeHttpHandler)", async () => {
    const http1 = new BedrockRuntimeClient({
      endpoint: bedrock.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      requestHandler: new NodeHttpHandler(),
    });
    const { chunks } = await invokeChunks(http1, { modelId: CLAUDE, body: claudeBody("short answer please") });
    expect(chunks.at(-1)!.type).to.equal("message_stop");
    http1.destroy();
  });
});
