/**
 * Runs a region's worker service as its own long-running child process (./worker-service-process.ts), polling the
 * region's job queue with the region's environment, as an ECS task runs beside the region's functions.
 */
import { spawn } from "node:child_process";
import { join, resolve } from "node:path";

const REPO_ROOT = resolve(__dirname, "..", "..");

export interface WorkerProcess {
  pid: number;
  /** A crash or an out-of-memory kill: SIGKILL, no drain. */
  kill(): void;
  /** ECS stopping the task: SIGTERM, then waits for the drain and the exit; answers the exit code. */
  stop(): Promise<number | null>;
  /** Resolves when the process has exited (its exit code, null when killed by a signal). */
  exited: Promise<number | null>;
}

export async function startWorkerProcess(env: Record<string, string>): Promise<WorkerProcess> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const [name, value] of Object.entries(env)) {
    if (value === "") delete childEnv[name];
    else childEnv[name] = value;
  }
  const child = spawn(process.execPath, ["--import", "tsx", "--no-warnings=ExperimentalWarning", join(__dirname, "worker-service-process.ts")], {
    cwd: REPO_ROOT,
    env: childEnv,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  await new Promise<void>((resolvePromise, reject) => {
    child.once("message", () => resolvePromise());
    void exited.then((code) => reject(new Error(`the worker service did not start (exit ${code})`)));
  });
  return {
    pid: child.pid!,
    exited,
    kill: () => void child.kill("SIGKILL"),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      return exited;
    },
  };
}
