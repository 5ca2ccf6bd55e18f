/**
 * Starts the stack exactly as `npm start` does (node + tsx on runtime/local/start.ts, PORT from the environment),
 * reads the printed URLs and chats through a real WebSocket client against the real handlers.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { WebConfig } from "../../runtime/protocol";
import { chatProtocols, handshakeStatus, openSocket, type TestSocket } from "./helpers";

const REPO = resolve(__dirname, "..", "..");

interface Started {
  child: ChildProcess;
  webUrl: string;
  wsUrl: string;
  output: () => string;
  exited: Promise<number | null>;
}

function npmStart(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, ["--import", "tsx", "runtime/local/start.ts"], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URLs printed within 20 s:\n${output}`)), 20_000);
    const onData = (data: Buffer) => {
      output += data.toString();
      const web = /^Chat: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(output);
      const ws = /^WebSocket: (ws:\/\/127\.0\.0\.1:\d+\/\S*)$/m.exec(output);
      if (web && ws) {
        clearTimeout(timer);
        resolvePromise({ child, webUrl: web[1], wsUrl: ws[1], output: () => output, exited });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code}:\n${output}`));
    });
  });
}

async function stopWithCtrlC(started: Started): Promise<number | null> {
  started.child.kill("SIGINT");
  return started.exited;
}

async function tokenFor(webUrl: string, user: string): Promise<string> {
  const response = await fetch(`${webUrl}local/token?user=${user}`);
  expect(response.status).to.equal(200);
  return ((await response.json()) as { token: string }).token;
}

/** Sends a message and collects its turn: turn.started, the deltas, turn.done. */
async function chat(socket: TestSocket, text: string, sessionId?: string) {
  const clientMessageId = randomUUID();
  socket.send({ action: "send", clientMessageId, text, ...(sessionId ? { sessionId } : {}) });
  const started = await socket.next<{ type: string; turnId: string; sessionId: string; clientMessageId: string }>(
    (f) => f.type === "turn.started" || f.type === "error",
    10_000,
  );
  expect(started.type, JSON.stringify(started)).to.equal("turn.started");
  expect(started.clientMessageId).to.equal(clientMessageId);
  const done = await socket.next<{ type: string; turnId: string; stopReason: string }>(
    (f) => (f.type === "turn.done" || f.type === "error") && f.turnId === started.turnId,
    15_000,
  );
  const deltas = (socket.frames as Array<{ type: string; turnId: string; seq: number; text: string }>).filter(
    (f) => f.type === "delta" && f.turnId === started.turnId,
  );
  return { started, done, deltas };
}

describe("npm start (runtime/local/start.ts) end to end", function () {
  this.timeout(60_000);
  let dataDir: string;
  let stack: Started | undefined;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "chat-local-"));
    stack = await npmStart({ PORT: "0", LOCAL_DATA_DIR: dataDir });
  });
  after(async () => {
    if (stack && stack.child.exitCode === null) await stopWithCtrlC(stack);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("prints its start-up notes calmly: no exception names or error codes a newcomer would take for a failure", async () => {
    while (!stack!.output().includes("Press Ctrl-C to stop.")) await new Promise((r) => setTimeout(r, 50));
    const startUp = stack!.output().split("Press Ctrl-C to stop.")[0]!;
    expect(startUp).to.not.match(/Exception|Error|not enforced|failed/i);
  });

  it("serves config.json for the web client and a page at /", async () => {
    const config = (await (await fetch(`${stack!.webUrl}config.json`)).json()) as WebConfig;
    expect(config.auth).to.deep.equal({ mode: "local", tokenUrl: "/local/token" });
    expect(config.emulator).to.equal(true);
    expect(config.modelLabel).to.match(/emulator/i);
    expect(config.regions).to.deep.equal([{ region: "us-east-1", url: stack!.wsUrl }]);
    const page = await fetch(stack!.webUrl);
    expect(page.status).to.equal(200);
    expect(page.headers.get("content-type")).to.match(/text\/html/);
    expect((await fetch(`${stack!.webUrl}local/token?user=`)).status).to.equal(400);
  });

  it("chats: token from /local/token, send, then turn.started, ordered deltas and turn.done", async () => {
    const socket = await openSocket(stack!.wsUrl, chatProtocols(await tokenFor(stack!.webUrl, "alice")));
    const { started, done, deltas } = await chat(socket, "How do I keep a WebSocket connection alive behind a proxy?");
    expect(done.type).to.equal("turn.done");
    expect(done.stopReason).to.equal("end_turn");
    expect(deltas.length).to.be.greaterThan(0);
    expect(deltas.map((d) => d.seq)).to.deep.equal(deltas.map((_, i) => i));
    expect(deltas.map((d) => d.text).join("").length).to.be.greaterThan(20);
    socket.send({ action: "ping" });
    expect(await socket.next((f: { type?: string }) => f.type === "pong")).to.deep.include({ type: "pong" });
    socket.send({ action: "sessions" });
    const sessions = await socket.next<{ type: string; sessions: Array<{ sessionId: string }> }>((f) => f.type === "sessions");
    expect(sessions.sessions.map((s) => s.sessionId)).to.include(started.sessionId);
    socket.ws.close();
  });

  it("refuses a forged token, a wrong client's token and no token at the handshake", async () => {
    const real = await tokenFor(stack!.webUrl, "mallory");
    const [header, payload] = real.split(".");
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown>;
    const tampered = Buffer.from(JSON.stringify({ ...claims, sub: "someone-else" })).toString("base64url");
    const forged = `${header}.${tampered}.${real.split(".")[2]}`;
    expect(await handshakeStatus(stack!.wsUrl, chatProtocols(forged))).to.be.oneOf([401, 403]);
    expect(await handshakeStatus(stack!.wsUrl, chatProtocols("not-a-jwt"))).to.be.oneOf([401, 403]);
    expect(await handshakeStatus(stack!.wsUrl)).to.equal(401);
  });

  it("stops cleanly on Ctrl-C and keeps sessions (and the signing key) across a restart", async () => {
    const token = await tokenFor(stack!.webUrl, "bob");
    let socket = await openSocket(stack!.wsUrl, chatProtocols(token));
    const { started } = await chat(socket, "Remember this session please");
    socket.ws.close();
    expect(await stopWithCtrlC(stack!)).to.equal(0);
    stack = await npmStart({ PORT: "0", LOCAL_DATA_DIR: dataDir });
    // The token minted before the restart still verifies: the key was kept in the data directory.
    socket = await openSocket(stack.wsUrl, chatProtocols(token));
    socket.send({ action: "sessions" });
    const sessions = await socket.next<{ type: string; sessions: Array<{ sessionId: string }> }>((f) => f.type === "sessions");
    expect(sessions.sessions.map((s) => s.sessionId)).to.include(started.sessionId);
    socket.ws.close();
  });

  it("says clearly when the port is taken, and exits 1", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const child = spawn(process.execPath, ["--import", "tsx", "runtime/local/start.ts"], {
        cwd: REPO,
        env: { ...process.env, PORT: String(port), LOCAL_DATA_DIR: join(dataDir, "other") },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
      expect(code).to.equal(1);
      // The one line the program prints about the port (a runtime may print warnings of its own around it).
      const aboutPort = stderr.split("\n").filter((line) => /\bport\b/i.test(line));
      expect(aboutPort, stderr).to.have.length(1);
      expect(aboutPort[0]).to.include(`Port ${port} is already in use`);
      expect(aboutPort[0]).to.match(new RegExp(`\\bPORT=${port + 1} npm start`));
      expect(stderr, "a stack trace").to.not.match(/^\s+at /m);
    } finally {
      blocker.close();
    }
  });
});
