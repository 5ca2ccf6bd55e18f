/**
 * The worker service's loop: long-polls the job queue for as many jobs as it has free turns (at most turnsPerTask
 * generating at once; the rest wait in the queue, in order), and runs the SAME generateTurn as the Lambda worker
 * for each one.
 * - A job is deleted as soon as its turn is claimed (the SQS adapter batches deletes, ./sqs-jobs.ts), so an answer of
 *   any length never races the visibility timeout; a second delivery finds the turn claimed (generateTurn skips it)
 *   and is deleted too, as is a malformed job.
 * - A claim that fails hands the job back after a growing delay (ChangeMessageVisibility); the queue's redrive moves
 *   it to the dead-letter queue after maxReceives receives, and only that last receive tells the client (`error`).
 * - shutdown() (SIGTERM): stops polling, hands back jobs not yet started (visibility 0), lets turns run for drainMs,
 *   then ends them as at a Lambda deadline (saved, `turn.done` stopped) and resolves once all are closed.
 * A process killed outright (SIGKILL) leaves its turns to the stale-turn rule (runtime/chat/liveness.ts).
 */
import type { GenerationOutcome, TurnHooks } from "../chat/generate";
import { parseJobText } from "../chat/job";
import type { Clock, GenerationJob, Log, TimerHandle } from "../chat/ports";
import { MAX_MESSAGES_PER_RECEIVE, type JobSource, type ReceivedJob } from "./job-source";

export interface WorkerServiceSettings {
  /** Turns generating at once in this process. */
  turnsPerTask: number;
  /** The queue's redrive maxReceiveCount: the receive on which a failed claim is told to the client. */
  maxReceives: number;
  /** After shutdown(), how long turns may run before they are ended. */
  drainMs: number;
  /** Time a turn keeps to close itself after the drain (the generation's deadline margin). */
  closeReserveMs: number;
  /** Hand-back delay after a failed claim: base * 2^(receive - 1) seconds, at most max. */
  claimBackoffSeconds: { base: number; max: number };
  /** Pause after a failed receive (the queue unreachable), so the loop does not spin. */
  receiveRetryMs: number;
}

export const DEFAULT_CLAIM_BACKOFF_SECONDS = { base: 2, max: 60 };

/** A turn in the worker service has no Lambda deadline: generateTurn sees this much time left until shutdown. */
export const NO_DEADLINE_MS = 24 * 3_600_000;

export interface WorkerServiceDeps {
  jobs: JobSource;
  generate(job: GenerationJob, remainingMs: () => number, hooks: TurnHooks): Promise<GenerationOutcome>;
  clock: Clock;
  log: Log;
  settings: WorkerServiceSettings;
}

export function claimBackoffSeconds(receiveCount: number, backoff: WorkerServiceSettings["claimBackoffSeconds"]): number {
  return Math.min(backoff.max, backoff.base * 2 ** Math.max(0, receiveCount - 1));
}

export class WorkerService {
  private readonly polling = new AbortController();
  private readonly endNow = new AbortController();
  private readonly running = new Set<Promise<void>>();
  private freed: (() => void) | undefined;
  private drainEndsAt: number | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly deps: WorkerServiceDeps) {}

  /** Turns this process is working on (received and not yet finished). */
  get inFlight(): number {
    return this.running.size;
  }

  get stopping(): boolean {
    return this.polling.signal.aborted;
  }

  start(): this {
    this.loop ??= this.poll();
    return this;
  }

  /** Graceful stop (SIGTERM): resolves once every turn is closed. */
  async shutdown(): Promise<void> {
    const { clock, log, settings } = this.deps;
    if (!this.stopping) {
      log.info("worker service stopping", { inFlight: this.inFlight, drainMs: settings.drainMs });
      this.drainEndsAt = clock.now() + settings.drainMs;
      this.polling.abort();
      this.freed?.();
    }
    let drain: TimerHandle | undefined;
    if (this.running.size > 0) drain = clock.setTimer(settings.drainMs, () => this.endNow.abort());
    await this.loop;
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
    drain?.cancel();
    log.info("worker service stopped");
  }

  private readonly remainingMs = (): number => {
    if (this.drainEndsAt === undefined) return NO_DEADLINE_MS;
    return Math.max(0, this.drainEndsAt - this.deps.clock.now()) + this.deps.settings.closeReserveMs;
  };

  private async poll(): Promise<void> {
    const { jobs, clock, log, settings } = this.deps;
    while (!this.stopping) {
      const free = settings.turnsPerTask - this.running.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => (this.freed = resolve));
        this.freed = undefined;
        continue;
      }
      let received: ReceivedJob[];
      try {
        received = await jobs.receive(Math.min(MAX_MESSAGES_PER_RECEIVE, free), this.polling.signal);
      } catch (error) {
        log.warn("receiving jobs failed", { error: errorName(error) });
        await clock.sleep(settings.receiveRetryMs, this.polling.signal);
        continue;
      }
      for (const job of received) {
        const task = this.handle(job).finally(() => {
          this.running.delete(task);
          this.freed?.();
        });
        this.running.add(task);
      }
    }
  }

  private async handle(message: ReceivedJob): Promise<void> {
    const { log, settings } = this.deps;
    const ids = { messageId: message.messageId, receiveCount: message.receiveCount };
    if (this.stopping) return this.handBack(message, 0, "released unstarted job on shutdown");
    const job = parseJobText(message.body);
    if (!job) {
      log.error("malformed job deleted", ids);
      return this.remove(message);
    }
    const turnIds = { ...ids, connectionId: job.connectionId, turnId: job.turnId };
    let claimed = false;
    // Deleted once, at the claim (a duplicate's claim finds the turn taken and is deleted then too).
    let removed: Promise<void> | undefined;
    const lastAttempt = message.receiveCount >= settings.maxReceives;
    try {
      const outcome = await this.deps.generate(job, this.remainingMs, {
        onClaimed: () => {
          claimed = true;
          removed = this.remove(message);
        },
        reportClaimFailure: lastAttempt,
        endNow: this.endNow.signal,
      });
      if (outcome.status === "skipped") {
        log.info("duplicate job deleted (turn already claimed or closed)", turnIds);
        removed ??= this.remove(message);
      }
      await removed;
    } catch (error) {
      if (claimed) {
        log.error("turn failed after its claim", { ...turnIds, error: errorName(error) });
        return;
      }
      const delay = claimBackoffSeconds(message.receiveCount, settings.claimBackoffSeconds);
      const why = lastAttempt ? "claim failed on the last receive; the job goes to the dead-letter queue" : "claim failed; job handed back";
      await this.handBack(message, delay, why, { ...turnIds, error: errorName(error) });
    }
  }

  private async remove(message: ReceivedJob): Promise<void> {
    try {
      await this.deps.jobs.delete(message);
    } catch (error) {
      // The job comes back after the visibility timeout and is then a duplicate (deleted).
      this.deps.log.warn("deleting a job failed", { messageId: message.messageId, error: errorName(error) });
    }
  }

  private async handBack(message: ReceivedJob, seconds: number, why: string, attributes: Record<string, string | number> = {}): Promise<void> {
    this.deps.log.warn(why, { messageId: message.messageId, receiveCount: message.receiveCount, delaySeconds: seconds, ...attributes });
    try {
      await this.deps.jobs.setVisibility(message, seconds);
    } catch (error) {
      this.deps.log.warn("handing a job back failed", { messageId: message.messageId, error: errorName(error) });
    }
  }
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
