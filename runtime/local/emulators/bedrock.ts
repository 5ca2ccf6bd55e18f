/**
 * Bedrock runtime emulator: `POST /model/{modelId}/invoke-with-response-stream` and
 * `POST /model/{modelId}/converse-stream`, answered in the real event-stream encoding over cleartext HTTP/2
 * (what the SDK's default NodeHttp2Handler speaks to an `http://` endpoint; HTTP/1.1 clients are served too).
 * It writes its own answers (bedrock-text.ts) or relays a local OpenAI-compatible server, applies a guardrail
 * when one is named, plays scripted faults, and records every request for tests and benchmarks.
 */
import { createServer as createHttp1Server, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttp2Server, type Http2ServerRequest, type ServerHttp2Session } from "node:http2";
import { createServer as createNetServer, type Socket } from "node:net";
import { randomUUID } from "node:crypto";
import { answerEncoder, conversationOf, exceptionMessage, modelFamily, type ApiKind, type StreamEnd } from "./bedrock-formats";
import { streamChatCompletion, type OpenAiPassthrough } from "./bedrock-openai";
import { continuation, splitPrefill } from "./bedrock-prefill";
import { approxTokens, hash, prng, tokenize, writeAnswer } from "./bedrock-text";
import { close, listen, readBody, sendAwsError, type AnyRequest, type AnyResponse } from "./http";

export type BedrockFault =
  /** 429 ThrottlingException before the stream starts. */
  | { fault: "throttle-before" }
  /** 500 InternalServerException or 503 ServiceUnavailableException before the stream starts. */
  | { fault: "5xx"; status?: 500 | 503 }
  /** An in-stream `throttlingException` event after some tokens. */
  | { fault: "throttle-in-stream"; afterTokens?: number }
  /** An in-stream `modelStreamErrorException` event after some tokens. */
  | { fault: "model-stream-error"; afterTokens?: number }
  /** The stream goes quiet after some tokens, for `stallMs` (default: until the client gives up). */
  | { fault: "stall"; afterTokens?: number; stallMs?: number }
  /** Tokens trickle at this rate. */
  | { fault: "slow"; tokensPerSecond?: number }
  /** The guardrail intervenes mid-output (needs a guardrail on the request, like the trigger words). */
  | { fault: "guardrail-output"; afterTokens?: number }
  /** The connection is closed under the request before any answer, as a server closing an idle connection does. */
  | { fault: "connection-reset" };

export type BedrockFaultName = BedrockFault["fault"];

export interface BedrockTiming {
  /** Time to the first token, in ms. */
  timeToFirstTokenMs: number;
  tokensPerSecond: number;
}

export interface GuardrailBehaviour {
  /** A prompt containing one of these (case-insensitive) is blocked on input. */
  inputTriggers: string[];
  /** A prompt containing one of these gets an answer that the guardrail cuts off mid-output. */
  outputTriggers: string[];
  blockedInputMessage: string;
  blockedOutputMessage: string;
}

export interface BedrockEmulatorOptions {
  port?: number;
  host?: string;
  timing?: Partial<BedrockTiming>;
  guardrail?: Partial<GuardrailBehaviour>;
  /** Seed of the local model's writing (same seed + same prompt = same answer). */
  seed?: number;
  /** Relay a local OpenAI-compatible server instead of writing answers. */
  passthrough?: OpenAiPassthrough | null;
}

export interface BedrockRequestRecord {
  id: string;
  api: ApiKind;
  modelId: string;
  body: Record<string, unknown>;
  /** Guardrail named by the request (Invoke headers or Converse guardrailConfig). */
  guardrail?: { identifier: string; version: string; trace?: string; streamProcessingMode?: string };
  prompt: string;
  /** How many earlier requests to this emulator carried the same conversation (a Regenerate asks again). */
  attempt: number;
  /** The text of a trailing assistant message: the answer goes on from it (runtime/chat/continue.ts). */
  prefill?: string;
  fault?: BedrockFaultName;
  /** The client's port: requests with the same one came over the same connection. */
  clientPort?: number;
  receivedAt: number;
  firstTokenAt?: number;
  /** When the stream ended at the emulator, for whatever reason. */
  closedAt?: number;
  outcome?: "complete" | "aborted" | "fault" | "guardrail" | "error";
  /** Text streamed so far. */
  text: string;
  outputTokens: number;
}

export const DEFAULT_TIMING: BedrockTiming = { timeToFirstTokenMs: 350, tokensPerSecond: 60 };
export const DEFAULT_GUARDRAIL: GuardrailBehaviour = {
  inputTriggers: ["forbidden topic"],
  outputTriggers: ["unsafe output"],
  blockedInputMessage: "Sorry, the model cannot answer this question.",
  blockedOutputMessage: "Sorry, the model cannot answer this question.",
};

/** Magic words a prompt (typed in the browser) can carry: `[[fault:stall]]`, `[[tokens:400]]`. */
const FAULT_WORD = /\[\[fault:([a-z0-9-]+)\]\]/i;
const TOKENS_WORD = /\[\[tokens:(\d+)\]\]/i;

export class BedrockEmulator {
  readonly requests: BedrockRequestRecord[] = [];
  timing: BedrockTiming;
  guardrail: GuardrailBehaviour;
  private readonly scripted: BedrockFault[] = [];
  /**
   * Requests seen per conversation. A Regenerate sends the model exactly the conversation of the first answer
   * (runtime/chat/context.ts hides the replaced one), and a real model samples anew; this counter stands in for
   * that sampling, so the Nth identical request gets the Nth answer: deterministic for a seed and a sequence of
   * requests, and recorded on each request (`attempt`).
   */
  private readonly attempts = new Map<number, number>();
  private readonly net = createNetServer((socket) => this.route(socket));
  private readonly h2 = createHttp2Server((req, res) => void this.onRequest(req, res));
  private readonly h1 = createHttp1Server((req, res) => void this.onRequest(req, res));
  private readonly sockets = new Set<Socket>();
  private readonly h2Sessions = new Set<ServerHttp2Session>();
  private readonly waiters: Array<() => void> = [];
  private port = 0;

  constructor(private readonly options: BedrockEmulatorOptions = {}) {
    this.h2.on("session", (session: ServerHttp2Session) => {
      this.h2Sessions.add(session);
      session.once("close", () => this.h2Sessions.delete(session));
    });
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
    this.guardrail = { ...DEFAULT_GUARDRAIL, ...options.guardrail };
  }

  async start(): Promise<this> {
    this.port = await listen(this.net, this.options.port ?? 0, this.options.host ?? "127.0.0.1");
    return this;
  }

  /** `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Queues faults: each of the next requests takes one, in order. */
  script(...faults: BedrockFault[]): void {
    this.scripted.push(...faults);
  }

  /**
   * Closes every connection's HTTP/2 session with a GOAWAY (streams in flight finish), as a server does before it
   * goes away or when a connection has been idle too long.
   */
  goAway(): void {
    for (const session of this.h2Sessions) session.close();
  }

  /** The client ports of the HTTP/2 sessions open now: a client's kept connections among them. */
  sessionPorts(): number[] {
    return [...this.h2Sessions].flatMap((session) => (session.socket?.remotePort === undefined ? [] : [session.socket.remotePort]));
  }

  /** Drops faults not yet used. */
  clearScript(): void {
    this.scripted.length = 0;
  }

  /** Resolves with the first recorded request matching `accept` (already recorded ones count). */
  async waitForRequest(
    accept: (r: BedrockRequestRecord) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<BedrockRequestRecord> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.requests.find(accept);
      if (found) return found;
      if (Date.now() > deadline) throw new Error("no matching Bedrock request recorded in time");
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.h2.close();
    this.h1.close();
    await close(this.net);
  }

  private nextAttempt(conversation: { system: string; messages: unknown[] }): number {
    const key = hash(JSON.stringify([conversation.system, conversation.messages]));
    const attempt = this.attempts.get(key) ?? 0;
    this.attempts.set(key, attempt + 1);
    return attempt;
  }

  private attemptsMade(conversation: { system: string; messages: unknown[] }): number {
    return this.attempts.get(hash(JSON.stringify([conversation.system, conversation.messages]))) ?? 0;
  }

  private notify(): void {
    this.waiters.splice(0).forEach((w) => w());
  }

  /** HTTP/2 with prior knowledge starts with the connection preface `PRI * HTTP/2.0`; anything else is HTTP/1.1. */
  private route(socket: Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.once("data", (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      if (first.subarray(0, 3).toString("latin1") === "PRI") {
        // The HTTP/2 session takes over the socket's native handle (no JavaScript stream in between, so a chunk costs
        // one write) and reads first what is buffered, the preface put back above (Node.js issue #35475).
        this.h2.emit("connection", socket);
        return;
      }
      this.h1.emit("connection", socket);
      socket.resume();
    });
  }

  private async onRequest(req: AnyRequest, res: AnyResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const match = /^\/model\/([^/]+)\/(invoke-with-response-stream|converse-stream)$/.exec(url.pathname);
    if (req.method !== "POST" || !match) {
      await readBody(req);
      return sendAwsError(res, 404, "UnknownOperationException", `No operation at ${req.method} ${url.pathname}`);
    }
    const modelId = decodeURIComponent(match[1]);
    const api: ApiKind = match[2] === "converse-stream" ? "converse" : "invoke";
    const raw = await readBody(req);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw?.toString("utf8") ?? "") as Record<string, unknown>;
      if (typeof body !== "object" || body === null) throw new Error("not an object");
    } catch {
      return sendAwsError(res, 400, "ValidationException", "Malformed input request, please reformat your input and try again.");
    }
    const conversation = conversationOf(body);
    // A trailing assistant message is a prefill (`continue`): attempts count the conversation without it.
    const { messages: asked, prefill } = splitPrefill(conversation.messages);
    const prompt = [...conversation.messages].reverse().find((m) => m.role === "user")?.text ?? "";
    if (conversation.messages.length === 0) {
      return sendAwsError(res, 400, "ValidationException", "messages: at least one message is required");
    }
    if (prefill !== undefined && /\s$/.test(prefill)) {
      // As Anthropic's Messages API ("Prefill Claude's response": the prefill cannot end with trailing white space).
      return sendAwsError(res, 400, "ValidationException", "messages: final assistant content cannot end with trailing whitespace");
    }
    const guardrail = guardrailOf(api, req, body);
    if (guardrail === "invalid") {
      return sendAwsError(res, 400, "ValidationException", "A guardrail identifier needs a guardrail version.");
    }
    const fault = this.scripted.shift() ?? faultFromPrompt(prompt);
    const record: BedrockRequestRecord = {
      id: randomUUID(),
      api,
      modelId,
      body,
      guardrail: guardrail ?? undefined,
      prompt,
      attempt: prefill === undefined ? this.nextAttempt(conversation) : this.attemptsMade({ system: conversation.system, messages: asked }),
      prefill,
      fault: fault?.fault,
      clientPort: req.socket?.remotePort,
      receivedAt: Date.now(),
      text: "",
      outputTokens: 0,
    };
    this.requests.push(record);
    this.notify();

    if (fault?.fault === "throttle-before") {
      record.outcome = "fault";
      record.closedAt = Date.now();
      return sendAwsError(res, 429, "ThrottlingException", "Too many requests, please wait before trying again.");
    }
    if (fault?.fault === "connection-reset") {
      record.outcome = "fault";
      record.closedAt = Date.now();
      const h2 = (req as Http2ServerRequest).stream?.session;
      if (h2) h2.destroy();
      else (req as IncomingMessage).socket.destroy();
      return;
    }
    if (fault?.fault === "5xx") {
      record.outcome = "fault";
      record.closedAt = Date.now();
      return fault.status === 503
        ? sendAwsError(res, 503, "ServiceUnavailableException", "Bedrock is unable to process your request.")
        : sendAwsError(res, 500, "InternalServerException", "The server encountered an internal error.");
    }
    await this.stream(req, res, record, conversation, fault);
  }

  private async stream(
    _req: AnyRequest,
    res: AnyResponse,
    record: BedrockRequestRecord,
    conversation: ReturnType<typeof conversationOf>,
    fault: BedrockFault | undefined,
  ): Promise<void> {
    const headers: Record<string, string> = {
      "content-type": "application/vnd.amazon.eventstream",
      "x-amzn-requestid": record.id,
    };
    if (record.api === "invoke") headers["x-amzn-bedrock-content-type"] = "application/json";
    (res as ServerResponse).writeHead(200, headers);
    const closed = new AbortController();
    let finished = false;
    res.on("close", () => {
      if (!finished) {
        record.outcome ??= "aborted";
        record.closedAt ??= Date.now();
        this.notify();
      }
      closed.abort();
    });
    const write = (messages: Uint8Array[]) => {
      for (const m of messages) if (!closed.signal.aborted) (res as ServerResponse).write(m);
      return !closed.signal.aborted;
    };
    const finish = (outcome: BedrockRequestRecord["outcome"]) => {
      finished = true;
      record.outcome = outcome;
      record.closedAt = Date.now();
      if (!closed.signal.aborted) res.end();
      this.notify();
    };

    const encoder = answerEncoder(record.api, modelFamily(record.modelId), record.modelId);
    let inputTokens = approxTokens(conversation.system + conversation.messages.map((m) => m.text).join("\n"));
    const maxTokens = conversation.maxTokens ?? 4096;
    const random = prng(hash(record.prompt) ^ (this.options.seed ?? 1));
    const tokensPerSecond = fault?.fault === "slow" ? (fault.tokensPerSecond ?? 3) : this.timing.tokensPerSecond;
    const lowerPrompt = record.prompt.toLowerCase();
    const traced = record.guardrail?.trace !== undefined && /^enabled/i.test(record.guardrail.trace);
    const traceOf = (direction: "input" | "output", triggers: string[]) =>
      traced
        ? {
            guardrailId: record.guardrail!.identifier,
            direction,
            match: triggers.find((t) => lowerPrompt.includes(t.toLowerCase())) ?? "[[fault:guardrail-output]]",
          }
        : undefined;
    const end = (stopReason: StreamEnd["stopReason"], guardrailTrace?: StreamEnd["guardrailTrace"]): StreamEnd => ({
      stopReason,
      guardrailTrace,
      usage: { inputTokens, outputTokens: record.outputTokens },
      invocationLatencyMs: Date.now() - record.receivedAt,
      firstByteLatencyMs: (record.firstTokenAt ?? Date.now()) - record.receivedAt,
    });

    if (!(await sleep(this.timing.timeToFirstTokenMs, closed.signal))) return;
    const inputBlocked =
      record.guardrail !== undefined && this.guardrail.inputTriggers.some((t) => lowerPrompt.includes(t.toLowerCase()));
    if (inputBlocked) encoder.intervene();
    if (!write(encoder.start(inputTokens))) return;

    if (inputBlocked) {
      // Blocked input: the guardrail's canned message is the whole answer; the model is never called.
      record.firstTokenAt = Date.now();
      record.text = this.guardrail.blockedInputMessage;
      write(encoder.delta(record.text));
      record.outputTokens = 0;
      write(encoder.end(end("guardrail_intervened", traceOf("input", this.guardrail.inputTriggers))));
      return finish("guardrail");
    }
    const outputIntervention =
      record.guardrail &&
      (fault?.fault === "guardrail-output" || this.guardrail.outputTriggers.some((t) => lowerPrompt.includes(t.toLowerCase())))
        ? (fault?.fault === "guardrail-output" ? fault.afterTokens : undefined) ?? 12
        : undefined;
    const inStreamFault =
      fault?.fault === "throttle-in-stream" || fault?.fault === "model-stream-error" || fault?.fault === "stall" ? fault : undefined;
    let faultAfter = inStreamFault ? (inStreamFault.afterTokens ?? 5) : undefined;

    let source: AsyncIterable<string[]>;
    let passthroughUsage: (() => { inputTokens?: number; outputTokens?: number; finishReason?: string }) | undefined;
    try {
      if (this.options.passthrough) {
        const relay = await streamChatCompletion(
          this.options.passthrough,
          { modelId: record.modelId, system: conversation.system, messages: conversation.messages, maxTokens },
          closed.signal,
        );
        source = (async function* () {
          for await (const text of relay.text) yield [text];
        })();
        passthroughUsage = relay.usage;
      } else {
        const target = TOKENS_WORD.exec(record.prompt)?.[1];
        const write = (attempt: number) =>
          writeAnswer(record.prompt.replace(FAULT_WORD, "").replace(TOKENS_WORD, ""), {
            seed: this.options.seed ?? 1,
            attempt,
            targetTokens: target ? Number(target) : undefined,
          });
        const answer = record.prefill === undefined ? write(record.attempt) : continuation(record.prefill, write, record.attempt);
        source = paced(tokenize(answer), tokensPerSecond, random, closed.signal);
      }
      let stopReason: StreamEnd["stopReason"] = "end_turn";
      for await (const tokens of source) {
        if (closed.signal.aborted) return;
        const counted = this.options.passthrough ? approxTokens(tokens.join("")) : tokens.length;
        if (record.outputTokens >= maxTokens) {
          stopReason = "max_tokens";
          break;
        }
        // A group that would cross max_tokens is cut to fit (local answers count one token per word).
        const allowed = this.options.passthrough ? tokens : tokens.slice(0, maxTokens - record.outputTokens);
        const piece = allowed.join("");
        record.firstTokenAt ??= Date.now();
        record.text += piece;
        record.outputTokens += this.options.passthrough ? counted : allowed.length;
        if (!write(encoder.delta(piece))) return;
        if (outputIntervention !== undefined && record.outputTokens >= outputIntervention) {
          encoder.intervene();
          const notice = `\n\n${this.guardrail.blockedOutputMessage}`;
          record.text += notice;
          write(encoder.delta(notice));
          write(encoder.end(end("guardrail_intervened", traceOf("output", this.guardrail.outputTriggers))));
          return finish("guardrail");
        }
        if (faultAfter !== undefined && record.outputTokens >= faultAfter) {
          if (fault?.fault === "throttle-in-stream") {
            write([exceptionMessage("throttlingException", { message: "Too many tokens, please wait before trying again." })]);
            return finish("fault");
          }
          if (fault?.fault === "model-stream-error") {
            write([
              exceptionMessage("modelStreamErrorException", {
                message: "Model stream error: the model failed to produce the rest of the answer.",
                originalStatusCode: 500,
                originalMessage: "internal model error",
              }),
            ]);
            return finish("fault");
          }
          if (fault?.fault === "stall") {
            faultAfter = undefined; // one stall, then the answer goes on
            if (!(await sleep(fault.stallMs ?? 24 * 3600_000, closed.signal))) return;
          }
        }
      }
      if (closed.signal.aborted) return;
      const usage = passthroughUsage?.();
      if (usage?.outputTokens !== undefined) record.outputTokens = usage.outputTokens;
      if (usage?.inputTokens !== undefined) inputTokens = usage.inputTokens;
      if (usage?.finishReason === "length") stopReason = "max_tokens";
      write(encoder.end(end(stopReason)));
      finish("complete");
    } catch (error) {
      if (closed.signal.aborted) return;
      write([exceptionMessage("internalServerException", { message: error instanceof Error ? error.message : String(error) })]);
      finish("error");
    }
  }
}

/** Yields the pieces in chunks of 1–3 tokens, spaced at `tokensPerSecond` on average, with some jitter. */
async function* paced(
  tokens: string[],
  tokensPerSecond: number,
  random: () => number,
  signal: AbortSignal,
): AsyncIterable<string[]> {
  const perToken = 1000 / Math.max(0.001, tokensPerSecond);
  let i = 0;
  let due = Date.now();
  while (i < tokens.length) {
    const n = 1 + Math.floor(random() * 3);
    const group = tokens.slice(i, i + n);
    i += n;
    if (i > n) {
      // Real streams arrive unevenly; ±40 % per chunk keeps the average rate.
      due += perToken * n * (0.6 + random() * 0.8);
      if (!(await sleep(due - Date.now(), signal))) return;
    }
    yield group;
  }
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return new Promise((resolve) => setImmediate(() => resolve(!signal.aborted)));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function faultFromPrompt(prompt: string): BedrockFault | undefined {
  const name = FAULT_WORD.exec(prompt)?.[1]?.toLowerCase();
  const known: BedrockFaultName[] = [
    "throttle-before",
    "5xx",
    "throttle-in-stream",
    "model-stream-error",
    "stall",
    "slow",
    "guardrail-output",
    "connection-reset",
  ];
  return known.includes(name as BedrockFaultName) ? ({ fault: name } as BedrockFault) : undefined;
}

function header(req: AnyRequest, name: string): string | undefined {
  const value = (req as IncomingMessage | Http2ServerRequest).headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Invoke: `X-Amzn-Bedrock-GuardrailIdentifier`/`-Version`/`-Trace` headers; Converse: `guardrailConfig`. */
function guardrailOf(api: ApiKind, req: AnyRequest, body: Record<string, unknown>): BedrockRequestRecord["guardrail"] | "invalid" | null {
  if (api === "invoke") {
    const identifier = header(req, "x-amzn-bedrock-guardrailidentifier");
    if (!identifier) return null;
    const version = header(req, "x-amzn-bedrock-guardrailversion");
    if (!version) return "invalid";
    const config = body["amazon-bedrock-guardrailConfig"] as { streamProcessingMode?: string } | undefined;
    return { identifier, version, trace: header(req, "x-amzn-bedrock-trace"), streamProcessingMode: config?.streamProcessingMode };
  }
  const config = body.guardrailConfig as
    | { guardrailIdentifier?: string; guardrailVersion?: string; trace?: string; streamProcessingMode?: string }
    | undefined;
  if (!config?.guardrailIdentifier) return null;
  if (!config.guardrailVersion) return "invalid";
  return {
    identifier: config.guardrailIdentifier,
    version: config.guardrailVersion,
    trace: config.trace,
    streamProcessingMode: config.streamProcessingMode,
  };
}

