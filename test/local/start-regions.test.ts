/** `LOCAL_REGIONS=… npm start`: a gateway per region, one more line per region, the page's config lists them all. */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { WebConfig } from "../../runtime/protocol";
import { chatProtocols, openSocket } from "./helpers";

const REPO = resolve(__dirname, "..", "..");

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", "runtime/local/start.ts"], { cwd: REPO, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  const ready = new Promise<void>((resolvePromise, reject) => {
    child.stdout.on("data", () => /Press Ctrl-C/.test(stdout) && resolvePromise());
    void exited.then((code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  return { child, exited, ready, out: () => stdout, err: () => stderr };
}

describe("npm start with LOCAL_REGIONS", function () {
  this.timeout(60_000);
  let dataDir: string;
  before(() => (dataDir = mkdtempSync(join(tmpdir(), "chat-regions-"))));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it("runs every region, prints a WebSocket line per extra region, lists them all in the page's config", async () => {
    const run = start({ PORT: "0", LOCAL_DATA_DIR: dataDir, LOCAL_REGIONS: "us-east-1,eu-west-1", LOCAL_REPLICATION_LAG_MS: "0" });
    try {
      await run.ready;
      const web = /^Chat: (\S+)$/m.exec(run.out())![1]!;
      const primary = /^WebSocket: (\S+)$/m.exec(run.out())![1]!;
      const eu = /^WebSocket \(eu-west-1\): (\S+)$/m.exec(run.out())?.[1];
      expect(primary).to.match(/\/ws\/us-east-1$/);
      expect(eu).to.match(/\/ws\/eu-west-1$/);
      const config = (await (await fetch(`${web}config.json`)).json()) as WebConfig;
      expect(config.regions).to.deep.equal([
        { region: "us-east-1", url: primary },
        { region: "eu-west-1", url: eu },
      ]);
      const token = ((await (await fetch(`${web}local/token?user=roamer`)).json()) as { token: string }).token;
      const socket = await openSocket(eu!, chatProtocols(token));
      socket.send({ action: "ping" });
      expect(await socket.next((f: { type?: string }) => f.type === "pong")).to.deep.include({ type: "pong" });
      socket.ws.close();
    } finally {
      run.child.kill("SIGINT");
      expect(await run.exited).to.equal(0);
    }
  });

  it("refuses a list that is not of AWS regions, naming the variable and an example", async () => {
    const run = start({ PORT: "0", LOCAL_DATA_DIR: join(dataDir, "bad"), LOCAL_REGIONS: "us-east-1,mars" });
    expect(await run.exited).to.equal(1);
    expect(run.err().trim()).to.match(/^LOCAL_REGIONS="us-east-1,mars" is not a list of distinct AWS regions, e\.g\. LOCAL_REGIONS=us-east-1,eu-west-1$/m);
  });
});
