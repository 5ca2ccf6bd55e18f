/**
 * Runs a region's worker service as its own long-running child process (./worker-service-process.ts), polling the
 * region's job queue with the region's environment, as an ECS service runs its task beside the region's functions.
 * Like the ECS service scheduler, it starts a new process when one dies (a crash, or `kill()`).
 */
import { fork, type ChildProcess } from "node:child_process";
import { join, resolve } from "node:path";
import { ENV } from "../env";

const REPO_ROOT = resolve(__dirname, "..", "..");

export interface WorkerProcess {
  /** The current process's id. */
  readonly pid: number;
  /** The loopback port of its health endpoint (WORKER_HEALTH_PORT), kept by a replacement process; 0 for none. */
  readonly healthPort: number;
  /** A crash or an out-of-memory kill of the current process: SIGKILL, no drain; a new process starts. */
  kill(): Promise<void>;
  /** ECS stopping the task: SIGTERM, then waits for the drain and the exit; answers the exit code. */
  stop(): Promise<number | null>;
  /** Turns the current process is generating. */
  inFlight(): Promise<number>;
}

interface Running {
  child: ChildProcess;
  exited: Promise<number | null>;
}

async function spawnWorker(env: NodeJS.ProcessEnv): Promise<Running> {
  const child = fork(join(__dirname, "worker-service-process.ts"), [], {
    cwd: REPO_ROOT,
    env,
    execArgv: ["--import", "tsx", "--disable-warning=ExperimentalWarning"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  await new Promise<void>((resolvePromise, reject) => {
    const onMessage = (m: unknown) => {
      if ((m as { ready?: boolean }).ready) {
        child.off("message", onMessage);
        resolvePromise();
      }
    };
    child.on("message", onMessage);
    void exited.then((code) => reject(new Error(`the worker service did not start (exit ${code})`)));
  });
  return { child, exited };
}

export async function startWorkerProcess(env: Record<string, string>): Promise<WorkerProcess> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const [name, value] of Object.entries(env)) {
    if (value === "") delete childEnv[name];
    else childEnv[name] = value;
  }
  let stopping = false;
  let current = await spawnWorker(childEnv);
  let replacing: Promise<void> | undefined;
  const supervise = (running: Running) => {
    void running.exited.then(() => {
      if (stopping || current !== running) return;
      replacing = spawnWorker(childEnv).then((next) => {
        current = next;
        supervise(next);
      });
    });
  };
  supervise(current);
  return {
    get pid() {
      return current.child.pid!;
    },
    healthPort: Number(childEnv[ENV.workerHealthPort] ?? 0),
    async kill() {
      const dying = current;
      dying.child.kill("SIGKILL");
      await dying.exited;
      await replacing;
    },
    async stop() {
      stopping = true;
      await replacing?.catch(() => undefined);
      const { child, exited } = current;
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      return exited;
    },
    async inFlight() {
      await replacing;
      const { child } = current;
      return new Promise<number>((resolvePromise, reject) => {
        const onMessage = (m: unknown) => {
          const n = (m as { inFlight?: number }).inFlight;
          if (typeof n === "number") {
            child.off("message", onMessage);
            resolvePromise(n);
          }
        };
        child.on("message", onMessage);
        if (!child.send("in-flight")) reject(new Error("the worker service is not reachable"));
      });
    },
  };
}
