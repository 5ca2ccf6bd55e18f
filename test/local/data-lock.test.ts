import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DataDirInUseError, lockDataDir } from "../../runtime/local/data-lock";
import { until } from "../runtime/until";

/** A zombie: a forked child that exits at once under a parent that never reaps it. */
const ZOMBIE_PARENT = "import os, time\npid = os.fork()\nif pid == 0:\n    os._exit(0)\nprint(pid, flush=True)\ntime.sleep(30)\n";

async function withZombie(use: (pid: number) => void): Promise<void> {
  const parent = spawn("python3", ["-c", ZOMBIE_PARENT], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const pid = await new Promise<number>((resolve) => parent.stdout.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
    // Wait for the state under test: the child has exited and is not reaped (Z). A fixed number of event-loop turns
    // was too short under the suite's parallel load (the child was still running).
    await until(() => /\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8")), "the forked child to become a zombie", 15_000);
    use(pid);
  } finally {
    parent.kill("SIGKILL");
  }
}

describe("runtime/local/data-lock: one local stack per data folder", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "chat-lock-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("refuses a folder a live process holds, naming it and the way out", () => {
    const holder = spawn("sleep", ["30"]);
    try {
      writeFileSync(join(dir, "stack.pid"), String(holder.pid));
      expect(() => lockDataDir(dir)).to.throw(DataDirInUseError, new RegExp(`pid ${holder.pid}.*LOCAL_DATA_DIR`));
    } finally {
      holder.kill("SIGKILL");
    }
  });

  it("takes over a folder whose holder is dead, also when it is a zombie not yet reaped", async () => {
    writeFileSync(join(dir, "stack.pid"), "999999999");
    lockDataDir(dir)();
    if (process.platform !== "linux") return;
    await withZombie((pid) => {
      writeFileSync(join(dir, "stack.pid"), String(pid));
      const release = lockDataDir(dir);
      expect(readFileSync(join(dir, "stack.pid"), "utf8")).to.equal(String(process.pid));
      release();
    });
  });
});
