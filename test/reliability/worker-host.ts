/**
 * A Lambda execution environment for the worker in its own process, so a test can kill it the way Lambda's
 * sandbox dies (SIGKILL: no finally blocks, no last frame, sockets reset). It inherits the local stack's
 * environment from the parent (`fork`), runs the unchanged handler, and answers over IPC.
 */
import type { Context } from "aws-lambda";
import { handler } from "../../runtime/handlers/worker";

interface Job {
  event: unknown;
  deadline: number;
}

process.on("message", (job: Job) => {
  const context = { getRemainingTimeInMillis: () => Math.max(0, job.deadline - Date.now()) } as Context;
  handler(job.event, context).then(
    (result) => process.send?.({ ok: true, result }),
    (error: unknown) => process.send?.({ ok: false, error: error instanceof Error ? error.message : String(error) }),
  );
});
process.send?.({ ready: true });
