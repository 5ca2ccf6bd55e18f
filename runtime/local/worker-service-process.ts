/**
 * The local stack's worker service process (LOCAL_WORKER=ecs): the unchanged entry point
 * (runtime/worker-service/main.ts), plus an IPC line to its parent: `ready` once it polls, and its in-flight turns
 * when asked (so tests can wait for a still stack). It goes down with its parent, as a region's processes do in an
 * outage.
 */
import { workerService } from "../worker-service/main";

process.on("disconnect", () => process.exit(1));
process.on("message", (message: unknown) => {
  if (message === "in-flight") process.send?.({ inFlight: workerService.inFlight });
});
process.send?.({ ready: true });
