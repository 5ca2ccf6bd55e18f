/** A minimal WebSocket chat client for integration tests: collects server frames and waits for them. */
import WebSocket from "ws";
import type { ServerFrame } from "../../../runtime/protocol";

export class ChatClient {
  readonly frames: ServerFrame[] = [];
  /** Text frames that are not protocol frames (e.g. API Gateway's "Endpoint request timed out"). */
  readonly foreign: string[] = [];
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on("message", (data) => {
      const raw = data.toString();
      try {
        const parsed = JSON.parse(raw) as ServerFrame;
        if (typeof parsed === "object" && parsed !== null && "type" in parsed) this.frames.push(parsed);
        else this.foreign.push(raw);
      } catch {
        this.foreign.push(raw);
      }
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on("close", () => {
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Connects offering `chat.v1` and the token as subprotocols (wire protocol, Connect); no token: none offered. */
  static open(url: string, token?: string): Promise<ChatClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, token === undefined ? undefined : ["chat.v1", token]);
      socket.once("open", () => resolve(new ChatClient(socket)));
      socket.once("unexpected-response", (_req, res) => reject(Object.assign(new Error(`handshake refused: ${res.statusCode}`), { statusCode: res.statusCode })));
      socket.once("error", reject);
    });
  }

  /** Resolves with the handshake's HTTP status when the gateway refuses it. */
  static async refusal(url: string, token?: string): Promise<number | "accepted"> {
    try {
      const client = await ChatClient.open(url, token);
      client.close();
      return "accepted";
    } catch (error) {
      return (error as { statusCode?: number }).statusCode ?? -1;
    }
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  of<T extends ServerFrame["type"]>(type: T): Extract<ServerFrame, { type: T }>[] {
    return this.frames.filter((f) => f.type === type) as Extract<ServerFrame, { type: T }>[];
  }

  async waitFor<T extends ServerFrame>(match: (f: ServerFrame) => f is T, timeoutMs?: number): Promise<T>;
  async waitFor(match: (f: ServerFrame) => boolean, timeoutMs?: number): Promise<ServerFrame>;
  async waitFor(match: (f: ServerFrame) => boolean, timeoutMs = 15_000): Promise<ServerFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(match);
      if (found) return found;
      if (Date.now() > deadline || this.socket.readyState === WebSocket.CLOSED) {
        throw new Error(`no matching frame; got ${JSON.stringify(this.frames.map((f) => f.type))}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => (clearTimeout(t), resolve()));
      });
    }
  }

  /** The frame that ends a turn: `turn.done`, or an `error` naming it. */
  ending(turnId: string, timeoutMs?: number): Promise<ServerFrame> {
    return this.waitFor((f) => (f.type === "turn.done" || f.type === "error") && f.turnId === turnId, timeoutMs);
  }

  deltaText(turnId: string): string {
    return this.of("delta").filter((d) => d.turnId === turnId).map((d) => d.text).join("");
  }

  close(): void {
    this.socket.close();
  }
}
