/**
 * Restarts a person makes: `npm start` stopped by its pid (not Ctrl-C in its terminal) stops everything it
 * started, and a restart on the same PORT serves the WebSocket at the same URL (the page's own origin), so a
 * client that was connected reconnects there and finds its session.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chatProtocols, openSocket, type TestSocket } from "./helpers";

const REPO = resolve(__dirname, "..", "..");

interface Running {
  child: ChildProcess;
  wsUrl: string;
  webUrl: string;
  exited: Promise<number | null>;
}

/** Runs a command that starts the stack and resolves once it says it is ready. */
function run(command: string, args: string[], env: Record<string, string>): Promise<Running> {
  const child = spawn(command, args, { cwd: REPO, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return new Promise((resolvePromise, reject) => {
    const onData = (data: Buffer) => {
      output += data.toString();
      const web = /^Chat: (\S+)$/m.exec(output);
      const ws = /^WebSocket: (\S+)$/m.exec(output);
      if (web && ws && /Press Ctrl-C/.test(output)) resolvePromise({ child, webUrl: web[1]!, wsUrl: ws[1]!, exited });
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void exited.then((code) => reject(new Error(`${command} ${args.join(" ")} exited with ${code}:\n${output}`)));
  });
}

/** A port that is free now (the stack must be able to take the same one again after a restart). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((r) => {
    server.once("error", () => r(false));
    server.listen(port, "127.0.0.1", () => server.close(() => r(true)));
  });
}

async function token(webUrl: string, user: string): Promise<string> {
  return ((await (await fetch(`${webUrl}local/token?user=${user}`)).json()) as { token: string }).token;
}

async function answered(socket: TestSocket, text: string): Promise<string> {
  socket.send({ action: "send", clientMessageId: randomUUID(), text });
  const started = await socket.next<{ type: string; sessionId: string; turnId: string }>((f) => f.type === "turn.started" || f.type === "error");
  expect(started.type, JSON.stringify(started)).to.equal("turn.started");
  const done = await socket.next<{ type: string; turnId?: string }>((f) => (f.type === "turn.done" || f.type === "error") && f.turnId === started.turnId, 20_000);
  expect(done.type).to.equal("turn.done");
  return started.sessionId;
}

describe("npm start: stopped by its pid, restarted on the same port", function () {
  this.timeout(120_000);
  let dataDir: string;
  const running: Running[] = [];

  before(() => (dataDir = mkdtempSync(join(tmpdir(), "chat-restart-"))));
  after(async () => {
    for (const r of running) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill("SIGINT");
    await Promise.all(running.map((r) => r.exited));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("SIGTERM to npm's pid stops every process it started; the same URL answers again after a restart", async () => {
    const port = await freePort();
    const env = { PORT: String(port), LOCAL_DATA_DIR: dataDir };
    const first = await run("npm", ["start", "--silent"], env);
    running.push(first);
    expect(first.wsUrl).to.equal(`ws://127.0.0.1:${port}/ws/us-east-1`);
    const user = await token(first.webUrl, "restarter");
    const socket = await openSocket(first.wsUrl, chatProtocols(user));
    const sessionId = await answered(socket, "Keep this conversation across a restart");

    first.child.kill("SIGTERM"); // what `kill <pid>` does: npm, not the stack, gets the signal
    expect(await first.exited).to.equal(0);
    expect((await socket.closed).code, "the gateway said goodbye through the page's origin").to.equal(1001);
    expect(await portIsFree(port), "nothing left holding the port").to.equal(true);
    expect(existsSync(join(dataDir, "stack.pid")), "the data folder is released").to.equal(false);

    const second = await run(process.execPath, ["--import", "tsx", "runtime/local/start.ts"], env);
    running.push(second);
    expect(second.wsUrl, "the page's WebSocket URL did not change").to.equal(first.wsUrl);
    const again = await openSocket(first.wsUrl, chatProtocols(user));
    again.send({ action: "history", sessionId });
    const history = await again.next<{ type: string; turns: Array<{ role: string; status: string }> }>((f) => f.type === "history" || f.type === "error");
    expect(history.type).to.equal("history");
    expect(history.turns.map((t) => [t.role, t.status])).to.deep.equal([
      ["user", "complete"],
      ["assistant", "complete"],
    ]);
    again.ws.close();
  });
});
