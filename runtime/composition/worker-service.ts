/**
 * The worker service's dependencies: the worker's (./worker.ts: stores, sender, model, one set of clients for the
 * whole process) with the stop checks of all its turns batched into one read per poll, and the job queue.
 */
import { dynamo } from "../aws/dynamo-client";
import { sqsClient } from "../aws/sqs-client";
import { BatchedControlPoll } from "../chat/control-batch";
import { generateTurn } from "../chat/generate";
import { systemClock } from "../chat/clock";
import { DynamoControlSignals } from "../store/dynamo-control-signals";
import { DEFAULT_CLAIM_BACKOFF_SECONDS, type WorkerServiceDeps } from "../worker-service/service";
import { SqsJobSource } from "../worker-service/sqs-jobs";
import { runtimeConfig, runtimeLog } from "./base";
import { generateDependencies } from "./worker";

export function workerServiceDependencies(): WorkerServiceDeps {
  const cfg = runtimeConfig();
  if (!cfg.worker.queueUrl) throw new Error("the worker service needs WORKER_QUEUE_URL");
  const base = generateDependencies();
  const control = new BatchedControlPoll(new DynamoControlSignals(dynamo, cfg.historyTable, base.history), systemClock, cfg.stopPollMs);
  const deps = { ...base, control };
  return {
    jobs: new SqsJobSource(sqsClient, cfg.worker.queueUrl),
    generate: (job, remainingMs, hooks) => generateTurn(job, remainingMs, deps, hooks),
    clock: systemClock,
    log: runtimeLog(),
    settings: {
      turnsPerTask: cfg.worker.turnsPerTask,
      maxReceives: cfg.worker.maxReceives,
      drainMs: cfg.worker.drainMs,
      closeReserveMs: cfg.deadlineMarginMs,
      claimBackoffSeconds: DEFAULT_CLAIM_BACKOFF_SECONDS,
      receiveRetryMs: 1_000,
    },
  };
}
