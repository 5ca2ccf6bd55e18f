/**
 * The local stack's worker service process (LOCAL_WORKER=ecs): the unchanged entry point
 * (runtime/worker-service/main.ts), which tells its parent over IPC once it polls, and goes down with its parent as a
 * region's processes do in an outage.
 */
import "../worker-service/main";

process.on("disconnect", () => process.exit(1));
process.send?.({ ready: true });
