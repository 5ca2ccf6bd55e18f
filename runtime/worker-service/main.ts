/**
 * The ECS worker service's entry point (WORKER_SERVICE_ENTRY): a long-running process that long-polls this region's
 * job queue and generates many turns at once (./service.ts). Configuration: the same environment as the Lambda
 * worker (runtime/env.ts) plus WORKER_QUEUE_URL, WORKER_QUEUE_MAX_RECEIVES, WORKER_TURNS_PER_TASK, WORKER_DRAIN_MS, and
 * WORKER_HEALTH_PORT for the container's health check (./health.ts).
 * SIGTERM (ECS stopping the task) and SIGINT drain and exit 0.
 */
import { systemClock } from "../chat/clock";
import { ENV } from "../env";
import { runtimeLog } from "../composition/base";
import { workerServiceDependencies } from "../composition/worker-service";
import { startHealthEndpoint } from "./health";
import { publishInFlightEmf, publishInFlightEvery } from "./in-flight-metric";
import { WorkerService } from "./service";

function main(): WorkerService {
  const log = runtimeLog();
  const service = new WorkerService(workerServiceDependencies()).start();
  const metric = publishInFlightEvery(() => service.inFlight, systemClock);
  log.info("worker service polling", { pid: process.pid });
  const healthPort = process.env[ENV.workerHealthPort];
  if (healthPort) {
    // A port that cannot be served fails the container's health check, and ECS replaces the task: logged, not fatal.
    startHealthEndpoint(Number(healthPort)).then(
      (health) => log.info("health endpoint listening", { port: health.port }),
      (error: unknown) => log.error("the health endpoint could not start", { port: healthPort, error: error instanceof Error ? error.message : String(error) }),
    );
  }
  const stop = (signal: string) => {
    log.info("worker service received a signal", { signal });
    service.shutdown().then(
      () => {
        metric.cancel();
        publishInFlightEmf(0);
        process.exit(0);
      },
      (error: unknown) => {
        log.error("worker service shutdown failed", { error: error instanceof Error ? error.name : String(error) });
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
  return service;
}

/** The running service (the local stack's wrapper reads its in-flight count). */
export const workerService = main();
