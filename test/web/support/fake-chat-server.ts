/**
 * A small stand-in for the chat backend that speaks the real wire protocol (runtime/protocol.ts) over a real
 * WebSocket, serves dist/web, /config.json and /local/token. The browser tests use it for what the local stack
 * cannot script: an answer with exact content (markup that must render inert) and a delta stream with gaps and
 * duplicates. Its answers are plain scripted text; its turn ids sort by creation time, like the runtime's.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import type { ClientFrame, ErrorCode, ServerFrame, SessionSummary, TurnRecord, WebConfig } from "../../../runtime/protocol";
import { contentSecurityPolicy, originOf } from "../../../runtime/web-security-headers";

export interface ScriptedAnswer {
  /** Pieces sent as consecutive deltas (seq 0, 1, …). */
  pieces: string[];
  /** Pause between deltas, ms. */
  intervalMs?: number;
  /** Send the deltas in this order of indexes instead (to test reordering), duplicates allowed. */
  order?: number[];
}

export interface FakeChatServer {
  webUrl: string;
  wsUrl: string;
  /** Answers for the next sends/regenerates, in order; afterwards a default answer is written. */
  script(...answers: ScriptedAnswer[]): void;
  /** Closes every open WebSocket from the server side (like a dropped network or a gateway restart). */
  dropConnections(): void;
  /** While true, WebSocket upgrades are refused (503), as when a region is unreachable. */
  refuseConnections(refuse: boolean): void;
  /** While true, `/local/token` answers 503 (the identity provider is down). */
  failTokens(fail: boolean): void;
  /** The next `send` is processed but its connection is dropped before turn.started reaches the browser. */
  dropOnNextSend(): void;
  /**
   * The tokens of the open connections count as expired from now on: their next frame gets `error` `forbidden`
   * and the server closes them, as the runtime does after a token's `exp`.
   */
  expireConnections(): void;
  /** The token each accepted handshake offered (as its second subprotocol), in order. */
  handshakeTokens: string[];
  /** Frames received from browsers, in order. */
  received: ClientFrame[];
  stop(): Promise<void>;
}

const MIME: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".svg": "image/svg+xml",
};

interface Turn extends TurnRecord {
  userName: string;
}

export interface FakeServerOptions {
  /** The region this server pretends to be (default us-east-1). */
  region?: string;
  /** The regions written into config.json, given this server's own WebSocket URL (default: just this one). */
  configRegions?: (ownUrl: string) => WebConfig["regions"];
  /** The sign-in written into config.json, given this server's page URL (default: the local dev sign-in). */
  configAuth?: (webUrl: string) => WebConfig["auth"];
}

export async function startFakeChatServer(webRoot: string, options: FakeServerOptions = {}): Promise<FakeChatServer> {
  const region = options.region ?? "us-east-1";
  const scripted: ScriptedAnswer[] = [];
  const received: ClientFrame[] = [];
  const sessions = new Map<string, SessionSummary & { userName: string }>();
  const turns: Turn[] = [];
  const byClientMessageId = new Map<string, { sessionId: string; turnId: string; userTurnId: string }>();
  const generating = new Map<string, { stop: () => void }>();
  let counter = 0;
  let refusing = false;
  let tokensFailing = false;
  let dropNextSend = false;
  const newId = (prefix: string) => `${prefix}${Date.now().toString(36).padStart(10, "0")}${String(counter++).padStart(6, "0")}`;

  const http = createServer((req, res) => void serveHttp(req, res));
  // Selects chat.v1 as the runtime's $connect does; a browser drops a connection whose answer names none.
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => (offered.has("chat.v1") ? "chat.v1" : false) });
  const sockets = new Set<WebSocket>();
  const expired = new WeakSet<WebSocket>();
  const handshakeTokens: string[] = [];

  async function serveHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === "/config.json") return send(res, 200, "application/json", JSON.stringify(pageConfig()));
    if (url.pathname === "/local/token" && tokensFailing) return send(res, 503, "application/json", JSON.stringify({ message: "down" }));
    if (url.pathname === "/local/token") {
      const user = url.searchParams.get("user") ?? "";
      if (user === "") return send(res, 400, "application/json", JSON.stringify({ message: "user is required" }));
      return send(res, 200, "application/json", JSON.stringify({ token: fakeToken(user) }));
    }
    const path = normalize(url.pathname === "/" ? "/index.html" : url.pathname);
    if (path.includes("..")) return send(res, 400, "text/plain", "bad path");
    const file = join(webRoot, path);
    const info = await stat(file).catch(() => null);
    if (info === null || !info.isFile()) return send(res, 404, "text/plain", "not found");
    // The deployed page's policy, with this config's WebSocket and identity provider hosts.
    const config = pageConfig();
    const connect = [...config.regions.map((r) => originOf(r.url)), ...(config.auth.mode === "cognito" ? [originOf(config.auth.authority), originOf(config.auth.domain)] : [])];
    send(res, 200, MIME[extname(file)] ?? "application/octet-stream", await readFile(file), { "content-security-policy": contentSecurityPolicy({ connect }) });
  }

  function pageConfig(): WebConfig {
    return {
      regions: options.configRegions?.(wsUrl()) ?? [{ region, url: wsUrl() }],
      auth: options.configAuth?.(`http://127.0.0.1:${port}/`) ?? { mode: "local", tokenUrl: "/local/token" },
      modelLabel: "Fake model (test server)",
      emulator: true,
    };
  }

  http.on("upgrade", (req, socket, head) => {
    // The token is the subprotocol offered after chat.v1 (wire protocol, Connect); the URL carries none.
    const offered = String(req.headers["sec-websocket-protocol"] ?? "").split(",").map((p) => p.trim());
    const token = offered[0] === "chat.v1" && offered[1] ? offered[1] : null;
    const userName = token === null ? null : userOf(token);
    if (refusing) {
      socket.end("HTTP/1.1 503 Service Unavailable\r\n\r\n");
      return;
    }
    if (userName === null) {
      socket.end("HTTP/1.1 401 Unauthorized\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      handshakeTokens.push(token!);
      sockets.add(ws);
      ws.on("close", () => sockets.delete(ws));
      ws.on("message", (data) => {
        let frame: ClientFrame;
        try {
          frame = JSON.parse(String(data)) as ClientFrame;
        } catch {
          return post(ws, { type: "error", code: "bad_request", message: "not JSON" });
        }
        received.push(frame);
        if (expired.has(ws)) {
          post(ws, { type: "error", code: "forbidden", message: "the sign-in token has expired; reconnect with a fresh one" });
          return ws.close(1000);
        }
        onFrame(ws, userName, frame);
      });
    });
  });

  function onFrame(ws: WebSocket, userName: string, frame: ClientFrame): void {
    switch (frame.action) {
      case "ping":
        return post(ws, { type: "pong" });
      case "sessions":
        return post(ws, {
          type: "sessions",
          sessions: [...sessions.values()]
            .filter((s) => s.userName === userName)
            .sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : -1))
            .map(({ userName: _owner, ...summary }) => summary),
        });
      case "history": {
        const session = sessions.get(frame.sessionId);
        if (session === undefined || session.userName !== userName) return post(ws, { type: "error", code: "not_found", message: "no such session" });
        const all = turns.filter((t) => t.sessionId === frame.sessionId).map(({ userName: _owner, ...record }) => record);
        const start = frame.cursor === undefined ? 0 : Number(frame.cursor);
        const page = all.slice(start, start + 4);
        const next = start + 4 < all.length ? String(start + 4) : undefined;
        return post(ws, { type: "history", sessionId: frame.sessionId, turns: page, ...(next !== undefined ? { cursor: next } : {}) });
      }
      case "stop":
        generating.get(frame.turnId)?.stop();
        return;
      case "send": {
        const refusal = /\[\[error:([a-z_]+)\]\]/.exec(frame.text)?.[1];
        if (refusal !== undefined) {
          return post(ws, { type: "error", code: refusal as ErrorCode, message: "refused by the test server", clientMessageId: frame.clientMessageId });
        }
        const seen = byClientMessageId.get(frame.clientMessageId);
        if (seen !== undefined) {
          return post(ws, { type: "turn.started", sessionId: seen.sessionId, turnId: seen.turnId, clientMessageId: frame.clientMessageId, region, userTurnId: seen.userTurnId });
        }
        let sessionId = frame.sessionId;
        const now = new Date().toISOString();
        if (sessionId === undefined) {
          sessionId = newId("s");
          sessions.set(sessionId, { sessionId, title: frame.text.slice(0, 60), createdAt: now, updatedAt: now, userName });
        } else if (sessions.get(sessionId)?.userName !== userName) {
          return post(ws, { type: "error", code: "not_found", message: "no such session", clientMessageId: frame.clientMessageId });
        }
        sessions.get(sessionId)!.updatedAt = now;
        const userTurn: Turn = { turnId: newId("t"), sessionId, role: "user", text: frame.text, status: "complete", createdAt: now, updatedAt: now, userName };
        turns.push(userTurn);
        if (dropNextSend) {
          dropNextSend = false;
          ws.terminate();
        }
        return startAnswer(ws, userTurn, frame.clientMessageId);
      }
      case "regenerate": {
        const answered = turns.find((t) => t.turnId === frame.turnId && t.userName === userName && t.role === "assistant");
        const userTurn = turns.find((t) => t.turnId === answered?.parentTurnId);
        if (answered === undefined || userTurn === undefined) return post(ws, { type: "error", code: "not_found", message: "no such turn", turnId: frame.turnId });
        return startAnswer(ws, userTurn, newId("regen-"));
      }
    }
  }

  function startAnswer(ws: WebSocket, userTurn: Turn, clientMessageId: string): void {
    const now = new Date().toISOString();
    const answer: Turn = {
      turnId: newId("t"),
      sessionId: userTurn.sessionId,
      role: "assistant",
      text: "",
      status: "streaming",
      parentTurnId: userTurn.turnId,
      createdAt: now,
      updatedAt: now,
      userName: userTurn.userName,
    };
    turns.push(answer);
    byClientMessageId.set(clientMessageId, { sessionId: userTurn.sessionId, turnId: answer.turnId, userTurnId: userTurn.turnId });
    post(ws, { type: "turn.started", sessionId: userTurn.sessionId, turnId: answer.turnId, clientMessageId, region, userTurnId: userTurn.turnId });
    const script = scripted.shift() ?? defaultAnswer(userTurn.text);
    const order = script.order ?? script.pieces.map((_, i) => i);
    const startedAt = Date.now();
    let firstAt: number | null = null;
    let index = 0;
    let stopped = false;
    const timer = setInterval(() => {
      if (stopped || index >= order.length) return finish(stopped ? "stopped" : "end_turn");
      const seq = order[index++]!;
      firstAt ??= Date.now();
      answer.text = script.pieces.slice(0, Math.max(...order.slice(0, index)) + 1).join("");
      post(ws, { type: "delta", turnId: answer.turnId, seq, text: script.pieces[seq]! });
    }, script.intervalMs ?? 15);
    generating.set(answer.turnId, { stop: () => (stopped = true) });
    function finish(reason: "stopped" | "end_turn"): void {
      clearInterval(timer);
      generating.delete(answer.turnId);
      answer.status = reason === "stopped" ? "stopped" : "complete";
      if (reason === "end_turn") answer.text = script.pieces.join("");
      answer.usage = { inputTokens: userTurn.text.split(/\s+/).length, outputTokens: index };
      answer.updatedAt = new Date().toISOString();
      post(ws, { type: "turn.done", turnId: answer.turnId, stopReason: reason, usage: answer.usage, ttftMs: firstAt === null ? null : firstAt - startedAt });
    }
  }

  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const port = (http.address() as AddressInfo).port;
  const wsUrl = () => `ws://127.0.0.1:${port}/ws`;

  return {
    webUrl: `http://127.0.0.1:${port}/`,
    wsUrl: wsUrl(),
    received,
    handshakeTokens,
    script: (...answers) => scripted.push(...answers),
    expireConnections: () => {
      for (const ws of sockets) expired.add(ws);
    },
    refuseConnections: (refuse) => {
      refusing = refuse;
    },
    failTokens: (fail) => {
      tokensFailing = fail;
    },
    dropOnNextSend: () => {
      dropNextSend = true;
    },
    dropConnections: () => {
      for (const ws of sockets) ws.terminate();
    },
    stop: async () => {
      for (const { stop } of generating.values()) stop();
      for (const ws of sockets) ws.terminate();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

function post(ws: WebSocket, frame: ServerFrame): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store", ...headers });
  res.end(body);
}

let tokensMinted = 0;

/** Unsigned, JWT-shaped (the page only reads `exp`); this server trusts its own tokens by their payload. Each is new (`jti`). */
function fakeToken(user: string): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const claims = { sub: user, "cognito:username": user, exp: Math.floor(Date.now() / 1000) + 3600, jti: String(++tokensMinted) };
  return `${encode({ alg: "none", typ: "JWT" })}.${encode(claims)}.`;
}

function userOf(token: string): string | null {
  try {
    const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as { sub?: unknown };
    return typeof claims.sub === "string" && claims.sub !== "" ? claims.sub : null;
  } catch {
    return null;
  }
}

/** Markdown with a list and a table; `[[tokens:N]]` in the prompt makes it about N pieces long. */
function defaultAnswer(prompt: string): ScriptedAnswer {
  const target = Number(/\[\[tokens:(\d+)\]\]/.exec(prompt)?.[1] ?? 0);
  const topic = prompt.replace(/\[\[[^\]]*\]\]/g, "").replace(/[*_`<>]/g, "").trim();
  let text =
    `You asked: *${topic}*.\n\nHere is a short answer with a list:\n\n` +
    "1. First, a point worth making.\n2. Second, a **bold** one.\n3. Third, some `code`.\n\n" +
    "| column | value |\n| --- | --- |\n| a | 1 |\n| b | 2 |\n\n";
  for (let n = 1; (text.match(/\S+\s*/g)?.length ?? 0) < target; n += 1) {
    text += `Paragraph ${n}: streaming keeps the reader busy while the rest is written, one piece at a time.\n\n`;
  }
  text += "That is all.";
  return { pieces: text.match(/\S+\s*|\s+/g) ?? [text] };
}
