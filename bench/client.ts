/**
 * A protocol client for benchmarks and the reliability suite: a real WebSocket (`ws`) that timestamps every frame
 * on arrival with `performance.now()` (the same monotonic clock the in-process emulators are observed with), and
 * helpers to run one turn and collect its frames. Frames are kept raw as well as parsed, so the checks can tell
 * API Gateway's own messages (`{"message": …}`) from protocol frames.
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import WebSocket from "ws";
import type { DeltaFrame, ErrorFrame, ServerFrame, TurnDoneFrame, TurnStartedFrame } from "../runtime/protocol";

export interface Received {
  /** performance.now() when the frame arrived. */
  at: number;
  raw: string;
  /** Parsed JSON, or undefined when the frame was not JSON. */
  json: Record<string, unknown> | undefined;
}

export interface TurnFrames {
  clientMessageId: string;
  /** performance.now() just before the send frame went out. */
  sentAt: number;
  started?: TurnStartedFrame & { at: number };
  deltas: Array<DeltaFrame & { at: number }>;
  done?: TurnDoneFrame & { at: number };
  /** An error frame naming this turn or its clientMessageId. */
  error?: ErrorFrame & { at: number };
  /** Concatenated delta texts in arrival order. */
  text: string;
  /** Every turn.done and error frame naming the turn (the protocol allows exactly one). */
  endCount: number;
}

export type Handshake = { ok: true; client: ChatClient } | { ok: false; status: number };

export class ChatClient {
  readonly frames: Received[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly waiters = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on("message", (data: WebSocket.RawData) => {
      const at = performance.now();
      const raw = Buffer.isBuffer(data) ? data.toString("utf8") : Array.isArray(data) ? Buffer.concat(data).toString("utf8") : Buffer.from(data).toString("utf8");
      let json: Record<string, unknown> | undefined;
      try {
        const parsed: unknown = JSON.parse(raw);
        if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
      } catch {
        // not JSON: kept raw
      }
      this.frames.push({ at, raw, json });
      for (const wake of [...this.waiters]) wake();
    });
    ws.on("close", () => {
      for (const wake of [...this.waiters]) wake();
    });
    ws.on("error", () => undefined);
  }

  /** Opens a connection; resolves with the client, or with the HTTP status of a refused handshake. */
  static handshake(url: string, token: string | undefined): Promise<Handshake> {
    // The token is the second offered subprotocol (wire protocol, Connect). A token no browser could offer (not an
    // RFC 7230 token, e.g. empty or with "/") goes in the raw header, so the server's refusal is still what is measured.
    const offerable = token !== undefined && /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(token);
    return new Promise((resolve, reject) => {
      const ws =
        token === undefined || offerable
          ? new WebSocket(url, token === undefined ? undefined : ["chat.v1", token])
          : new WebSocket(url, { headers: { "Sec-WebSocket-Protocol": `chat.v1, ${token}` } });
      ws.once("unexpected-response", (_req, res) => {
        resolve({ ok: false, status: res.statusCode ?? 0 });
        res.resume();
        ws.terminate();
      });
      ws.once("open", () => resolve({ ok: true, client: new ChatClient(ws) }));
      ws.once("error", (error) => reject(error));
    });
  }

  static async connect(url: string, token: string): Promise<ChatClient> {
    const result = await ChatClient.handshake(url, token);
    if (!result.ok) throw new Error(`handshake refused with HTTP ${result.status}`);
    return result.client;
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends a frame (an object is JSON-encoded); returns performance.now() just before it went out. */
  send(frame: unknown): number {
    const at = performance.now();
    this.ws.send(typeof frame === "string" || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame));
    return at;
  }

  /** Sends raw bytes as a binary frame. */
  sendBinary(data: Buffer): number {
    const at = performance.now();
    this.ws.send(data, { binary: true });
    return at;
  }

  /** Resolves when `probe` returns a value (re-run on every frame and on close), or rejects after `timeoutMs`. */
  until<T>(probe: () => T | undefined, timeoutMs = 10_000, what = "frame"): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        let value: T | undefined;
        try {
          value = probe();
        } catch (error) {
          finish();
          return reject(error instanceof Error ? error : new Error(String(error)));
        }
        if (value !== undefined) {
          finish();
          resolve(value);
        } else if (this.ws.readyState === WebSocket.CLOSED) {
          finish();
          reject(new Error(`connection closed while waiting for ${what}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no ${what} within ${timeoutMs} ms (last frames: ${this.frames.slice(-3).map((f) => f.raw.slice(0, 120)).join(" | ")})`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** The next frame after index `from` whose JSON matches. */
  nextFrame(accept: (json: Record<string, unknown>) => boolean, from = 0, timeoutMs = 10_000): Promise<Received> {
    return this.until(() => this.frames.slice(from).find((f) => f.json !== undefined && accept(f.json)), timeoutMs, "matching frame");
  }

  /** Sends `ping` and waits for `pong`. */
  async ping(timeoutMs = 5_000): Promise<number> {
    const from = this.frames.length;
    const sentAt = this.send({ action: "ping" });
    const pong = await this.nextFrame((f) => f.type === "pong", from, timeoutMs);
    return pong.at - sentAt;
  }

  /** Starts a turn; the frames collected so far for it are returned by `turnFrames`. */
  startTurn(text: string, sessionId?: string, clientMessageId: string = randomUUID()): { clientMessageId: string; sentAt: number } {
    const sentAt = this.send({ action: "send", clientMessageId, text, ...(sessionId ? { sessionId } : {}) });
    return { clientMessageId, sentAt };
  }

  /** Everything received so far about the turn started with `clientMessageId`. */
  turnFrames(clientMessageId: string, sentAt: number): TurnFrames {
    const result: TurnFrames = { clientMessageId, sentAt, deltas: [], text: "", endCount: 0 };
    for (const f of this.frames) {
      const j = f.json as (ServerFrame & Record<string, unknown>) | undefined;
      if (!j) continue;
      if (j.type === "turn.started" && j.clientMessageId === clientMessageId) result.started = { ...j, at: f.at };
    }
    const turnId = result.started?.turnId;
    for (const f of this.frames) {
      const j = f.json as (ServerFrame & Record<string, unknown>) | undefined;
      if (!j) continue;
      if (j.type === "delta" && turnId && j.turnId === turnId) {
        result.deltas.push({ ...j, at: f.at });
        result.text += j.text;
      } else if (j.type === "turn.done" && turnId && j.turnId === turnId) {
        result.done ??= { ...j, at: f.at };
        result.endCount++;
      } else if (j.type === "error" && ((turnId && j.turnId === turnId) || (j.clientMessageId === clientMessageId && f.at >= sentAt))) {
        result.error ??= { ...j, at: f.at };
        result.endCount++;
      }
    }
    return result;
  }

  /** The frames of the turn `turnId` received from index `from` on (a regenerated answer, whose clientMessageId is the original's). */
  framesOfTurn(turnId: string, from = 0): TurnFrames {
    const result: TurnFrames = { clientMessageId: "", sentAt: 0, deltas: [], text: "", endCount: 0 };
    for (const f of this.frames.slice(from)) {
      const j = f.json as (ServerFrame & Record<string, unknown>) | undefined;
      if (!j || j.turnId !== turnId) continue;
      if (j.type === "turn.started") {
        result.started = { ...j, at: f.at };
        result.clientMessageId = j.clientMessageId;
      } else if (j.type === "delta") {
        result.deltas.push({ ...j, at: f.at });
        result.text += j.text;
      } else if (j.type === "turn.done") {
        result.done ??= { ...j, at: f.at };
        result.endCount++;
      } else if (j.type === "error") {
        result.error ??= { ...j, at: f.at };
        result.endCount++;
      }
    }
    return result;
  }

  /**
   * Resolves when the turn has ended (turn.done or an error naming it), with its frames read again after a ping's
   * round trip: whatever the server sent before the pong has arrived, so a second end or a late delta is in them.
   */
  async awaitTurnEnd(clientMessageId: string, sentAt: number, timeoutMs = 60_000): Promise<TurnFrames> {
    let cursor = 0;
    let turnId: string | undefined;
    await this.until(() => {
      for (; cursor < this.frames.length; cursor++) {
        const j = this.frames[cursor].json;
        if (!j) continue;
        if (j.type === "turn.started" && j.clientMessageId === clientMessageId) turnId = j.turnId as string;
        // An error naming only the clientMessageId answers one attempt of the send: one sent before `sentAt` (a refused
        // first try that the client then re-sent) is not this attempt's end.
        const names = (turnId !== undefined && j.turnId === turnId) || (j.clientMessageId === clientMessageId && (j.type !== "error" || this.frames[cursor].at >= sentAt));
        if ((j.type === "turn.done" || j.type === "error") && names) return true;
      }
      return undefined;
    }, timeoutMs, `end of turn ${clientMessageId}`);
    await this.settle();
    return this.turnFrames(clientMessageId, sentAt);
  }

  /** A ping's round trip on an open connection: frames are delivered in order, so all sent before it are here. */
  async settle(timeoutMs = 10_000): Promise<void> {
    if (!this.open) return;
    try {
      await this.ping(timeoutMs);
    } catch (error) {
      // The server closed the connection meanwhile: everything it sent has arrived.
      if (this.open) throw error;
    }
  }

  /** Sends a message and waits for its turn to end. */
  async turn(text: string, sessionId?: string, timeoutMs = 60_000): Promise<TurnFrames> {
    const { clientMessageId, sentAt } = this.startTurn(text, sessionId);
    return this.awaitTurnEnd(clientMessageId, sentAt, timeoutMs);
  }

  close(): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
    return this.closed;
  }

  /** Drops the TCP connection without a close frame (a lost network). */
  terminate(): void {
    this.ws.terminate();
  }
}
