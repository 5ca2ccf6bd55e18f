/**
 * The worker function with a kill switch. Normally each invocation runs the real handler in this process, as the
 * local stack does. When armed, the next invocation runs in a child process (worker-host.ts) that `kill()`
 * SIGKILLs mid-turn; the invocation then fails the way Lambda reports a dead runtime, and `lastEvent` holds the
 * event that Lambda would deliver again (its asynchronous-invocation retry), which a test can replay.
 */
import { fork, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { Context } from "aws-lambda";
import type { LambdaHandler } from "../../runtime/local/emulators/functions";

export class KillableWorker {
  lastEvent: unknown;
  private child: ChildProcess | undefined;
  private armed = false;

  /** Starts the child environment now (module loading takes a while) so the next invocation runs in it. */
  async arm(): Promise<void> {
    const child = fork(join(__dirname, "worker-host.ts"), [], { execArgv: ["--import", "tsx"], env: process.env, stdio: "inherit" });
    await new Promise<void>((resolve, reject) => {
      child.once("message", () => resolve());
      child.once("exit", (code) => reject(new Error(`worker host exited (${code}) before it was ready`)));
    });
    this.child = child;
    this.armed = true;
  }

  /** SIGKILLs the armed environment. */
  kill(): void {
    this.child?.kill("SIGKILL");
  }

  dispose(): void {
    this.child?.kill("SIGKILL");
    this.child = undefined;
  }

  wrap(real: () => Promise<LambdaHandler>): () => Promise<LambdaHandler> {
    return async () => {
      const handler = await real();
      return async (event: unknown, context: Context) => {
        if (!this.armed || !this.child) return handler(event, context);
        this.armed = false;
        this.lastEvent = event;
        const child = this.child;
        return new Promise((resolve, reject) => {
          child.once("message", (answer: { ok: boolean; result?: unknown; error?: string }) =>
            answer.ok ? resolve(answer.result) : reject(new Error(answer.error)),
          );
          child.once("exit", (_code, signal) => reject(new Error(`Runtime exited with error: signal: ${signal ?? "unknown"} (Runtime.ExitError)`)));
          child.send({ event, deadline: Date.now() + context.getRemainingTimeInMillis() });
        });
      };
    };
  }
}
