/**
 * The worker service's health endpoint (runtime/worker-service/health.ts) and the container health check's probe
 * command, run as ECS runs it (`node -e <probe>`): exit 0 while the endpoint answers, 1 when nothing listens and when
 * the endpoint's process does not answer within the probe's timeout (frozen with SIGSTOP, as a blocked loop would be).
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { healthProbeScript, startHealthEndpoint } from "../../runtime/worker-service/health";

/** Runs the probe in its own node process, as the container's health check does; answers its exit code. */
function probe(port: number, timeoutMs: number): Promise<number | null> {
  const child = spawn(process.execPath, ["-e", healthProbeScript(port, timeoutMs)], { stdio: "ignore" });
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

describe("runtime/worker-service: the health endpoint and the container's probe", function () {
  this.timeout(20_000);

  it("answers GET /health with 200 on loopback, anything else with 404, and the probe exits 0", async () => {
    const health = await startHealthEndpoint(0);
    try {
      const ok = await fetch(`http://127.0.0.1:${health.port}/health`);
      expect(ok.status).to.equal(200);
      expect(await ok.text()).to.equal("ok");
      expect((await fetch(`http://127.0.0.1:${health.port}/other`)).status).to.equal(404);
      expect((await fetch(`http://127.0.0.1:${health.port}/health`, { method: "POST" })).status).to.equal(404);
      expect(await probe(health.port, 2_000)).to.equal(0);
    } finally {
      await health.close();
    }
  });

  it("the probe exits 1 when nothing listens", async () => {
    const health = await startHealthEndpoint(0);
    await health.close();
    expect(await probe(health.port, 2_000)).to.equal(1);
  });

  it("the probe exits 1 while the endpoint's process is frozen (it connects but gets no answer), 0 once it runs again", async () => {
    // The endpoint in a process of its own (kept alive by a timer: the endpoint never holds a process open), which the
    // test stops outright (SIGSTOP): as with a blocked event loop, the kernel still accepts the probe's connection, and
    // nothing answers it.
    const child = spawn(process.execPath, ["--import", "tsx", "-e", `setInterval(() => {}, 60_000); import("./runtime/worker-service/health.ts").then(async (m) => process.send((await m.startHealthEndpoint(0)).port))`], {
      cwd: process.cwd(),
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    try {
      const port = await new Promise<number>((resolve) => child.once("message", (m) => resolve(Number(m))));
      child.kill("SIGSTOP");
      expect(await probe(port, 300), "frozen").to.equal(1);
      child.kill("SIGCONT");
      expect(await probe(port, 2_000), "running again").to.equal(0);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
