/**
 * The worker modes a suite runs in: both (`lambda`, then `ecs`: the worker service process polling the SQS emulator),
 * or only LOCAL_WORKER's when it is set (so `LOCAL_WORKER=ecs npm test` runs every suite in ecs mode once).
 */
import { workerModeFromEnv, type LocalWorkerMode } from "../runtime/local/stack";

export function workerModes(): LocalWorkerMode[] {
  return process.env.LOCAL_WORKER ? [workerModeFromEnv()] : ["lambda", "ecs"];
}

/** A suite title's suffix naming the mode, e.g. " [worker: ecs]". */
export function modeTitle(worker: LocalWorkerMode): string {
  return ` [worker: ${worker}]`;
}
