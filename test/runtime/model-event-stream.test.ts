/**
 * runtime/model/event-stream.ts and BedrockModelStream's own decoding of InvokeModelWithResponseStream: messages
 * encoded by the SDK's codec (@smithy/eventstream-codec) decode the same whatever the chunking, a damaged or cut
 * message is refused; with a real SDK client the request is the SDK's own (signed here, over HTTP/2), and against the
 * Bedrock emulator the events equal the SDK's own decoding, and in-stream exceptions, errors before the stream and
 * aborts end as before.
 */
import { BedrockRuntimeClient, InvokeModelWithResponseStreamCommand } from "@aws-sdk/client-bedrock-runtime";
import { EventStreamCodec } from "@smithy/eventstream-codec";
import { SignatureV4 } from "@smithy/signature-v4";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { fromUtf8, toUtf8 } from "@smithy/util-utf8";
import { expect } from "chai";
import { ModelError, type ModelEvent } from "../../runtime/chat/ports";
import type { ModelConfig } from "../../runtime/config";
import { BedrockEmulator } from "../../runtime/local/emulators/bedrock";
import { BedrockModelStream } from "../../runtime/model/bedrock";
import { EventStreamDecoder } from "../../runtime/model/event-stream";
import { parseInvokeChunk } from "../../runtime/model/invoke-formats";
import { waitFor } from "../local/helpers";
import { NodeSha256 } from "../sdk-sha256";

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const CLAUDE = "us.anthropic.claude-3-5-haiku-20241022-v1:0";

const messages = [
  codec.encode({
    headers: {
      ":event-type": { type: "string", value: "chunk" },
      ":message-type": { type: "string", value: "event" },
      flag: { type: "boolean", value: true },
      off: { type: "boolean", value: false },
      small: { type: "byte", value: 7 },
      short: { type: "short", value: 300 },
      count: { type: "integer", value: 70000 },
      at: { type: "timestamp", value: new Date("2026-12-05T00:00:00Z") },
      id: { type: "uuid", value: "3f1c2a3e-1111-4222-8333-444455556666" },
      raw: { type: "binary", value: new Uint8Array([1, 2, 3]) },
      "é": { type: "string", value: "ünïcode" },
    },
    body: fromUtf8('{"bytes":"eyJhIjoxfQ=="}'),
  }),
  codec.encode({ headers: { ":message-type": { type: "string", value: "exception" }, ":exception-type": { type: "string", value: "throttlingException" } }, body: fromUtf8("{}") }),
  codec.encode({ headers: {}, body: new Uint8Array(0) }),
];
const stream = Buffer.concat(messages);

describe("runtime/model/event-stream: the event stream decoder", () => {
  it("decodes the SDK codec's messages whatever the chunk boundaries", () => {
    for (const size of [1, 2, 3, 7, 16, 64, stream.length]) {
      const decoder = new EventStreamDecoder();
      const decoded = [];
      for (let at = 0; at < stream.length; at += size) decoded.push(...decoder.push(stream.subarray(at, at + size)));
      decoder.end();
      expect(decoded.map((m) => m.headers)).to.deep.equal([
        { ":event-type": "chunk", ":message-type": "event", "é": "ünïcode" },
        { ":message-type": "exception", ":exception-type": "throttlingException" },
        {},
      ]);
      expect(decoded.map((m) => m.payload.toString("utf8"))).to.deep.equal(['{"bytes":"eyJhIjoxfQ=="}', "{}", ""]);
    }
  });

  it("refuses a damaged message and reports a stream cut inside one", () => {
    const damaged = Buffer.from(messages[0]);
    damaged[damaged.length - 6] ^= 1;
    expect(() => new EventStreamDecoder().push(damaged)).to.throw(ModelError).with.property("code", "MalformedChunk");
    const decoder = new EventStreamDecoder();
    expect(decoder.push(stream.subarray(0, messages[0].length + 5))).to.have.length(1);
    expect(() => decoder.end()).to.throw(ModelError).that.deep.includes({ code: "IncompleteStream", retryable: true });
  });
});

describe("runtime/model/bedrock: Invoke streams decoded from the raw body (Bedrock emulator, real SDK client)", function () {
  this.timeout(15_000);
  let bedrock: BedrockEmulator;
  let client: BedrockRuntimeClient;
  const config: ModelConfig = { modelId: CLAUDE, api: "InvokeModelWithResponseStream", family: "anthropic", guardrail: undefined, maxOutputTokens: 1024 };
  const request = (text: string, signal = new AbortController().signal) => ({ messages: [{ role: "user" as const, text }], maxOutputTokens: 200, signal });
  const collect = async (events: AsyncIterable<ModelEvent>) => {
    const out: ModelEvent[] = [];
    for await (const e of events) out.push(e);
    return out;
  };
  const failure = (events: AsyncIterable<ModelEvent>) => collect(events).then(() => null, (e: unknown) => e);

  before(async () => {
    bedrock = await new BedrockEmulator({ timing: { timeToFirstTokenMs: 5, tokensPerSecond: 2000 } }).start();
    client = new BedrockRuntimeClient({ endpoint: bedrock.endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" }, maxAttempts: 1 });
  });
  after(async () => {
    client.destroy();
    await bedrock.stop();
  });

  it("sends the request the SDK sends (path, headers, body), signed as the SDK signs it over HTTP/2", async () => {
    const seen: Array<{ headers: http2.IncomingHttpHeaders; body: Buffer }> = [];
    const server = http2.createServer();
    server.on("stream", (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        seen.push({ headers, body: Buffer.concat(chunks) });
        stream.respond({ ":status": 400, "content-type": "application/json", "x-amzn-errortype": "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/" });
        stream.end(JSON.stringify({ message: "stand-in" }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const credentials = { accessKeyId: "ASIAEXAMPLE", secretAccessKey: "secret", sessionToken: "token" };
    const standIn = new BedrockRuntimeClient({ endpoint, region: "eu-west-1", credentials, maxAttempts: 1 });
    try {
      const guarded: ModelConfig = { ...config, modelId: "eu.anthropic.claude-3-5-haiku-20241022-v1:0", guardrail: { id: "gr-1", version: "DRAFT", streamMode: "sync" } };
      const error = await failure(new BedrockModelStream(() => standIn, guarded).stream(request("hi")));
      expect(error).to.be.instanceOf(ModelError).that.deep.includes({ code: "ValidationException", retryable: false });
      await standIn
        .send(
          new InvokeModelWithResponseStreamCommand({
            modelId: guarded.modelId,
            contentType: "application/json",
            accept: "application/json",
            body: seen[0]!.body,
            guardrailIdentifier: "gr-1",
            guardrailVersion: "DRAFT",
            trace: "ENABLED",
          }),
        )
        .catch(() => undefined);
      const [ours, sdk] = seen as [(typeof seen)[0], (typeof seen)[0]];
      const sdkOnly = ["x-amz-user-agent", "user-agent", "amz-sdk-invocation-id", "amz-sdk-request"];
      const comparable = (h: http2.IncomingHttpHeaders) => Object.fromEntries(Object.entries(h).filter(([k]) => !["authorization", "x-amz-date", ...sdkOnly].includes(k)));
      expect(comparable(ours.headers)).to.deep.equal(comparable(sdk.headers));
      expect(ours.body.equals(sdk.body)).to.equal(true);
      const signedNames = (h: http2.IncomingHttpHeaders) => String(h.authorization).split("SignedHeaders=")[1]!.split(",")[0]!.split(";");
      expect(signedNames(ours.headers)).to.deep.equal(signedNames(sdk.headers).filter((n) => !sdkOnly.includes(n)));
      // Our signature, recomputed by the SDK's signer from what arrived.
      const signed: Record<string, string> = {};
      for (const name of signedNames(ours.headers)) signed[name] = String(ours.headers[name]);
      const date = String(ours.headers["x-amz-date"]);
      const signingDate = new Date(`${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`);
      const again = await new SignatureV4({ service: "bedrock", region: "eu-west-1", credentials, sha256: NodeSha256 }).sign(
        { method: "POST", protocol: "http:", hostname: "127.0.0.1", path: String(ours.headers[":path"]), query: {}, headers: signed, body: ours.body },
        { signingDate },
      );
      expect(ours.headers.authorization).to.equal(again.headers.authorization);
    } finally {
      standIn.destroy();
      server.close();
    }
  });

  it("yields the events the SDK's own decoding yields, with the emulator's text", async () => {
    // The emulator answers a repeated conversation anew, so each path is checked against its own request's record.
    const prompt = "explain event streams [[tokens:60]]";
    const ours = await collect(new BedrockModelStream(() => client, config).stream(request(prompt)));
    const ourRecord = bedrock.requests.at(-1)!;
    const sdk: ModelEvent[] = [];
    const response = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: CLAUDE, body: JSON.stringify(ourRecord.body) }));
    for await (const part of response.body!) if (part.chunk?.bytes) sdk.push(...parseInvokeChunk("anthropic", part.chunk.bytes));
    const sdkRecord = bedrock.requests.at(-1)!;
    const text = (events: ModelEvent[]) => events.flatMap((e) => (e.type === "text" ? [e.text] : [])).join("");
    // The other events, with the token counts each answer reported replaced by whether they match its record.
    const rest = (events: ModelEvent[], record: typeof ourRecord) =>
      events.filter((e) => e.type !== "text").map((e) => (e.type === "usage" && e.outputTokens !== undefined ? { ...e, outputTokens: e.outputTokens === record.outputTokens } : e));
    expect(text(ours)).to.equal(ourRecord.text);
    expect(text(sdk)).to.equal(sdkRecord.text);
    expect(rest(ours, ourRecord)).to.deep.equal(rest(sdk, sdkRecord));
    expect(rest(ours, ourRecord)).to.deep.include({ type: "stop", reason: "end_turn" });
  });

  it("throws in-stream exceptions and errors before the stream as the same ModelErrors", async () => {
    bedrock.script({ fault: "throttle-in-stream", afterTokens: 3 }, { fault: "model-stream-error", afterTokens: 3 }, { fault: "throttle-before" });
    const model = new BedrockModelStream(() => client, config);
    expect(await failure(model.stream(request("a")))).to.be.instanceOf(ModelError).that.deep.includes({ code: "ThrottlingException", retryable: true });
    expect(await failure(model.stream(request("b")))).to.be.instanceOf(ModelError).that.deep.includes({ code: "ModelStreamErrorException", retryable: false });
    expect(await failure(model.stream(request("c")))).to.be.instanceOf(ModelError).that.deep.includes({ code: "ThrottlingException", retryable: true });
  });

  describe("sessions kept between answers", () => {
    let own: BedrockRuntimeClient;
    let model: BedrockModelStream;
    beforeEach(() => {
      // A client of its own: its transport keeps its own sessions.
      own = new BedrockRuntimeClient({ endpoint: bedrock.endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" }, maxAttempts: 1 });
      model = new BedrockModelStream(() => own, config);
    });
    afterEach(() => own.destroy());
    const answer = async (text: string) => {
      const events = await collect(model.stream(request(`${text} [[tokens:20]]`)));
      expect(events).to.deep.include({ type: "stop", reason: "end_turn" });
      return bedrock.requests.at(-1)!;
    };

    it("sends answers one after another over one connection, answers at once over one each, and keeps no aborted one's", async () => {
      const ports = [];
      for (const text of ["one", "two", "three"]) ports.push((await answer(text)).clientPort);
      expect(new Set(ports).size, "one connection for three answers").to.equal(1);
      const [a, b] = await Promise.all([collect(model.stream(request("four [[tokens:20]]"))), collect(model.stream(request("five [[tokens:20]]")))]);
      expect([a, b].every((events) => events.some((e) => e.type === "stop"))).to.equal(true);
      const together = bedrock.requests.slice(-2).map((r) => r.clientPort);
      expect(new Set(together).size, "two answers at once, two connections").to.equal(2);
      expect(together).to.include(ports[0]);
      // An aborted answer's session is closed, never handed to the next request.
      bedrock.script({ fault: "slow", tokensPerSecond: 40 });
      const controller = new AbortController();
      for await (const e of model.stream(request("slowly [[tokens:300]]", controller.signal))) if (e.type === "text") controller.abort();
      const aborted = bedrock.requests.at(-1)!;
      await waitFor(() => aborted.outcome === "aborted", 3_000, "the emulator to see the abort");
      const kept = new Set(together.filter((port) => port !== aborted.clientPort));
      const next = await answer("six");
      expect(next.clientPort).to.not.equal(aborted.clientPort);
      expect(kept.has(next.clientPort)).to.equal(true);
    });

    it("sends a request once more on a new connection when its kept one is closed under it before any answer; a new connection's failure is the caller's", async () => {
      const first = await answer("one");
      bedrock.script({ fault: "connection-reset" });
      const second = await answer("two");
      const [reset] = bedrock.requests.slice(-2);
      expect(reset).to.deep.include({ fault: "connection-reset", clientPort: first.clientPort });
      expect(second.clientPort).to.not.equal(first.clientPort);
      // Reset on the kept connection, then on the new one: the second failure reaches the caller.
      bedrock.script({ fault: "connection-reset" }, { fault: "connection-reset" });
      const before = bedrock.requests.length;
      expect(await failure(model.stream(request("three [[tokens:20]]")))).to.be.instanceOf(Error);
      expect(bedrock.requests.slice(before).map((r) => r.fault)).to.deep.equal(["connection-reset", "connection-reset"]);
      expect((await answer("four")).fault).to.equal(undefined);
    });

    it("keeps a finished answer's session for the next answer even when the caller aborts the finished request's signal", async () => {
      const controller = new AbortController();
      const events = await collect(model.stream(request("one [[tokens:20]]", controller.signal)));
      expect(events).to.deep.include({ type: "stop", reason: "end_turn" });
      const first = bedrock.requests.at(-1)!;
      controller.abort(); // as a caller that aborts its controller once it is done with the answer
      const second = await answer("two");
      expect(second.clientPort).to.equal(first.clientPort);
    });

    it("closes its kept sessions when the SDK client is destroyed, and a session whose stream ends after it", async () => {
      // Two answers at once: two sessions, both kept.
      await Promise.all([answer("one"), answer("two")]);
      const kept = bedrock.requests.slice(-2).map((r) => r.clientPort!);
      expect(new Set(kept).size).to.equal(2);
      expect(bedrock.sessionPorts()).to.include.members(kept);
      // An answer in flight on one of them while the client is destroyed.
      bedrock.script({ fault: "slow", tokensPerSecond: 200 });
      const events = model.stream(request("slowly [[tokens:40]]"))[Symbol.asyncIterator]();
      expect((await events.next()).done).to.equal(false);
      const streaming = bedrock.requests.at(-1)!;
      const idle = kept.find((port) => port !== streaming.clientPort)!;
      expect(kept).to.include(streaming.clientPort);
      own.destroy();
      await waitFor(() => !bedrock.sessionPorts().includes(idle), 3_000, "the kept session to close");
      expect(bedrock.sessionPorts(), "the session in flight stays open").to.include(streaming.clientPort);
      // The answer in flight goes on to its end; then its session closes instead of being kept.
      for (let e = await events.next(); !e.done; e = await events.next());
      await waitFor(() => !bedrock.sessionPorts().includes(streaming.clientPort!), 3_000, "the finished stream's session to close");
    });

    it("leaves a connection whose server sent GOAWAY for a new one", async () => {
      const first = await answer("one");
      bedrock.goAway();
      const second = await answer("two");
      expect(second.clientPort).to.not.equal(first.clientPort);
    });
  });

  it("ends silently when the caller aborts, and the emulator sees the stream closed", async () => {
    bedrock.script({ fault: "slow", tokensPerSecond: 40 });
    const controller = new AbortController();
    const out: ModelEvent[] = [];
    for await (const e of new BedrockModelStream(() => client, config).stream(request("slowly [[tokens:300]]", controller.signal))) {
      out.push(e);
      if (out.filter((x) => x.type === "text").length === 3) controller.abort();
    }
    expect(out.filter((x) => x.type === "text")).to.have.length(3);
    const record = bedrock.requests.at(-1)!;
    await waitFor(() => record.outcome === "aborted", 3_000, "the emulator to see the abort");
  });
});
