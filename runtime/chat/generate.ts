/**
 * The worker's use case: generate one assistant turn and stream it to the client.
 *
 * Every path ends the turn: it is saved with a final status (never left `streaming`) and the client gets exactly
 * one `turn.done`, or one `error` naming the turn when the model failed before any text. Endings:
 * - model end → `complete` (stopReason `end_turn` / `max_tokens`); guardrail → `guardrail`
 * - `stop` request (polled every stopPollMs) → model stream aborted, `stopped`
 * - Lambda deadline near (remaining < deadlineMarginMs) → aborted, `stopped` (partial answer kept)
 * - 410 from @connections → not a stop: the answer is generated to its end and saved, the connection record is
 *   deleted, and a client that reconnects resumes it (./resume.ts: watchers are polled beside the stop request)
 * - model failure before the first text → bounded retry with backoff + jitter, then `error` frame `model_error`
 * - model failure, a stream cut before its stop reason, or a stall after text → `error`, partial text saved,
 *   `turn.done` with stopReason `error`
 * The end frame goes out only after the turn is saved: the final save is retried with backoff and jitter until half
 * the deadline margin is left (DynamoDB may be briefly unavailable). If it never succeeds the client gets `error`
 * `internal` naming the turn (not `turn.done`): the store still holds the turn `streaming` with its last checkpoint,
 * which reads as failed once stale (read.ts), so client and history agree that the answer did not complete.
 */
import type { StopReason, TurnStatus, Usage } from "../protocol";
import { buildContext, withPrefill } from "./context";
import { PerTurnControlPoll } from "./control-poll";
import type { Undeliverable } from "./delta-streamer";
import { HEARTBEAT_MS } from "./liveness";
import { TurnFanout } from "./turn-fanout";
import { usageWithEstimates, type ReportedUsage } from "./usage-estimate";
import { backoffDelay, retryWhile, withRetry, type Backoff, type RetryPolicy } from "./retry";
import {
  ModelError,
  type ChatMetrics,
  type Clock,
  type ConnectionSender,
  type ConnectionStore,
  type GenerationJob,
  type HistoryStore,
  type Log,
  type ModelMessage,
  type ModelStopReason,
  type ModelStream,
  type TimerHandle,
  type Turn,
  type TurnControlPoll,
  type TurnWatcher,
  type UserLedger,
} from "./ports";
import { dayKey } from "./windows";

export interface GenerateSettings {
  flushIntervalMs: number;
  stopPollMs: number;
  contextBudgetTokens: number;
  maxOutputTokens: number;
  deadlineMarginMs: number;
  /** Model calls before the first text: attempts, backoff base and cap. */
  modelRetry: RetryPolicy;
  /** Claiming the turn at the start (the SDK already retries each call); bounded, then the worker fails. */
  claimRetry: RetryPolicy;
  /** The final save of the turn: retried with this backoff until half the deadline margin is left. */
  saveBackoff: Backoff;
  /** A model stream silent for this long is abandoned. */
  idleTimeoutMs: number;
  /** How often the text delivered so far is saved while the turn streams. */
  checkpointMs: number;
}

export const DEFAULT_GENERATE_SETTINGS: Omit<GenerateSettings, "flushIntervalMs" | "stopPollMs" | "contextBudgetTokens" | "maxOutputTokens" | "deadlineMarginMs"> = {
  modelRetry: { attempts: 3, baseMs: 300, maxMs: 3000 },
  claimRetry: { attempts: 4, baseMs: 100, maxMs: 1000 },
  saveBackoff: { baseMs: 100, maxMs: 1000 },
  idleTimeoutMs: 60_000,
  checkpointMs: 2_000,
};

export interface GenerateDeps {
  history: HistoryStore;
  connections: ConnectionStore;
  /** The per-user budgets in the home region: the turn's tokens are counted and its slot freed when it ends. */
  ledger: Pick<UserLedger, "releaseGeneration" | "addTokens">;
  sender: ConnectionSender;
  model: ModelStream;
  clock: Clock;
  log: Log;
  metrics: ChatMetrics;
  settings: GenerateSettings;
  /** How the turn polls for stop requests and resuming connections; default one read per turn (./control-poll.ts). */
  control?: TurnControlPoll;
}

/** What a long-running worker (runtime/worker-service/) adds to a turn; the Lambda worker passes none. */
export interface TurnHooks {
  /** Called once the turn is claimed (the worker service deletes the turn's job from its queue then). */
  onClaimed?: () => void;
  /** Whether a failed claim sends the client an `error` (default true); the worker service does on a job's last receive only. */
  reportClaimFailure?: boolean;
  /** Aborted when the process must end its turns (SIGTERM): the turn ends as it does at the Lambda deadline. */
  endNow?: AbortSignal;
}

/** Why generation ended, for logs and metrics. */
export type GenerationCause =
  | "end_turn"
  | "max_tokens"
  | "guardrail"
  | "stopped"
  | "deadline"
  | "idle"
  | "model_error"
  | "internal"
  /** The turn could not be saved before the deadline (reported for the turn in place of its own ending). */
  | "unsaved";

export interface GenerationOutcome {
  turnId: string;
  status: TurnStatus | "skipped";
  stopReason?: StopReason;
  cause?: GenerationCause;
  frames: number;
  text: string;
}

type AbortCause = "stopped" | "deadline" | "idle";

const ENDINGS: Record<GenerationCause, { status: Exclude<TurnStatus, "streaming">; stopReason: StopReason }> = {
  end_turn: { status: "complete", stopReason: "end_turn" },
  max_tokens: { status: "complete", stopReason: "max_tokens" },
  guardrail: { status: "guardrail", stopReason: "guardrail" },
  stopped: { status: "stopped", stopReason: "stopped" },
  deadline: { status: "stopped", stopReason: "stopped" },
  idle: { status: "error", stopReason: "error" },
  model_error: { status: "error", stopReason: "error" },
  internal: { status: "error", stopReason: "error" },
  unsaved: { status: "error", stopReason: "error" },
};

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function isRetryableModelError(error: unknown): boolean {
  return error instanceof ModelError && error.retryable;
}

export async function generateTurn(
  job: GenerationJob,
  remainingMs: () => number,
  deps: GenerateDeps,
  hooks: TurnHooks = {},
): Promise<GenerationOutcome> {
  const { history, clock, log } = deps;
  const ids = { connectionId: job.connectionId, turnId: job.turnId };
  // Independent calls at once (the pre-model latency is their slowest, not their sum): the claim, a stop sent before
  // the worker started, and, unless the job carries the context (the message handler read it, ./start-turn.ts), the
  // context Query (which also reads the user turn). The reads are only used once the claim succeeded, so a repeated
  // delivery still calls the model at most once.
  const [claim, stopRequested, context] = await Promise.allSettled([
    withRetry(() => history.startGeneration(job.sessionId, job.turnId, iso(clock.now())), deps.settings.claimRetry, clock),
    history.stopRequested(job.sessionId, job.turnId),
    job.context ?? buildContext(history, { sessionId: job.sessionId, turnId: job.userTurnId }, deps.settings.contextBudgetTokens),
  ]);
  let turn: Turn | undefined;
  try {
    if (claim.status === "rejected") throw claim.reason;
    turn = claim.value;
  } catch (error) {
    // Nothing can be saved: tell the client (best effort); the turn shows as failed once stale (read.ts).
    log.error("could not claim the turn", { ...ids, error: describe(error) });
    deps.metrics.error("internal");
    if (hooks.reportClaimFailure !== false) {
      await deps.sender
        .post(job.connectionId, { type: "error", code: "internal", message: "the answer could not be started", turnId: job.turnId })
        .catch(() => undefined);
    }
    throw error;
  }
  hooks.onClaimed?.();
  if (!turn) {
    // Another delivery claimed it, or it ended or was erased: whoever claimed it sends its one end. (A session deleted
    // before the worker started keeps the turn for its worker, ./conversations.ts: that claim stops at once.)
    log.info("turn already generated or closed; nothing to do", ids);
    return { turnId: job.turnId, status: "skipped", frames: 0, text: "" };
  }
  const prepared: Prepared = { stopRequested: stopRequested.status === "fulfilled" && stopRequested.value, context };
  // A reopened turn (`continue`) keeps its text even when the job lost what says so (a late duplicate delivery).
  const continued = job.continuation === undefined && turn.continuedAt !== undefined ? { ...job, continuation: { firstSeq: 0 } } : job;
  return new Generation(continued, turn, remainingMs, deps, prepared, hooks.endNow).run();
}

/** What the worker read beside its claim: whether a stop came first, and the model context (or why not). */
interface Prepared {
  stopRequested: boolean;
  context: PromiseSettledResult<ModelMessage[] | undefined>;
}

/** Why the turn's own watchers (stop polls, checkpoints) end: the turn is over. */
const TURN_ENDED = Object.assign(new Error("the turn ended"), { name: "AbortError" });

class Generation {
  private readonly abort = new AbortController();
  private readonly finished = new AbortController();
  private abortCause: AbortCause | undefined;
  private readonly fanout: TurnFanout;
  /** The connections that resumed the turn and that this worker streams to (saved with the turn). */
  private readonly served = new Set<string>();
  private acknowledgements: Promise<unknown>[] = [];
  /** The connection that sent the message answered 410. */
  private senderGone = false;
  private lastWriteAt: number;
  private readonly ids: { connectionId: string; turnId: string };
  /** What the model reported of this generation's usage (./usage-estimate.ts fills in the rest at the end). */
  private reported: ReportedUsage = { usage: { inputTokens: 0, outputTokens: 0 }, input: false, output: false };
  /** This generation's usage, as counted against the day: set at the end. */
  private usage: Usage = { inputTokens: 0, outputTokens: 0 };
  /** The messages the model was sent. */
  private sent: ModelMessage[] = [];
  private ttftMs: number | null = null;
  private modelStop: ModelStopReason | undefined;
  private guardrail = false;
  private failure: unknown;
  private idleTimer: TimerHandle | undefined;
  private lastModelEventAt = 0;
  private checkpointTimer: TimerHandle | undefined;
  private checkpoint: Promise<void> = Promise.resolve();
  private checkpointedText = "";
  /** A continuation whose prefill lost its trailing white space: the model's first white space is not doubled. */
  private trimLead = false;
  /** The Lambda time left when the generation began. */
  private readonly initialRemainingMs: number;
  /** What others ask of the turn: the worker service's batched poll, or this turn's own reads (a Lambda worker). */
  private readonly poll: TurnControlPoll;

  constructor(
    private readonly job: GenerationJob,
    private readonly turn: Turn,
    private readonly remainingMs: () => number,
    private readonly deps: GenerateDeps,
    private readonly prepared: Prepared,
    private readonly endNow?: AbortSignal,
  ) {
    this.ids = { connectionId: job.connectionId, turnId: job.turnId };
    this.initialRemainingMs = remainingMs();
    this.poll = deps.control ?? new PerTurnControlPoll(deps.history, deps.clock, deps.settings.stopPollMs);
    this.lastWriteAt = deps.clock.now();
    this.fanout = new TurnFanout({
      turnId: job.turnId,
      sender: deps.sender,
      clock: deps.clock,
      intervalMs: deps.settings.flushIntervalMs,
      onLost: (connectionId: string, why: Undeliverable, error?: unknown) => {
        // Not a stop: the answer goes on and is saved; the client can resume it on a new connection.
        if (connectionId === job.connectionId && why === "gone") this.senderGone = true;
        const log = why === "gone" ? this.deps.log.info : this.deps.log.warn;
        log.call(this.deps.log, "a connection following the turn is lost; generating on", { ...this.ids, follower: connectionId, why, error: describe(error) });
      },
    });
    if (job.continuation) {
      // `continue` (./continue.ts): the turn's text goes on; the sender's deltas carry only what is new.
      this.fanout.push(turn.text);
      this.checkpointedText = turn.text;
      this.trimLead = /\s$/.test(turn.text);
    }
    this.fanout.follow({ connectionId: job.connectionId, firstSeq: job.continuation?.firstSeq ?? 0, offset: turn.text.length });
  }

  /**
   * Time kept in reserve to close the turn before the Lambda deadline. Never more than half the time left, so a
   * function timeout shorter than the configured margin still streams instead of closing every turn at once.
   */
  private margin(): number {
    return Math.min(this.deps.settings.deadlineMarginMs, Math.floor(this.initialRemainingMs / 2));
  }

  async run(): Promise<GenerationOutcome> {
    const { clock } = this.deps;
    const deadline = clock.setTimer(Math.max(0, this.initialRemainingMs - this.margin()), () => this.stop("deadline"));
    const endNow = () => this.stop("deadline");
    if (this.endNow?.aborted) endNow();
    this.endNow?.addEventListener("abort", endNow, { once: true });
    const stopWatch = this.watchControl();
    this.scheduleCheckpoint();
    let cause: GenerationCause;
    try {
      cause = await this.generate();
    } catch (error) {
      this.deps.log.error("generation failed", { ...this.ids, error: describe(error) });
      cause = "internal";
    } finally {
      deadline.cancel();
      this.endNow?.removeEventListener("abort", endNow);
      this.idleTimer?.cancel();
      this.checkpointTimer?.cancel();
      // With a reason of its own: abort() without one builds a DOMException (a stack trace) per turn.
      this.finished.abort(TURN_ENDED);
    }
    await stopWatch;
    await this.fanout.close();
    await this.checkpoint;
    await Promise.allSettled(this.acknowledgements);
    return this.close(cause);
  }

  private stop(cause: AbortCause): void {
    if (this.abort.signal.aborted) return;
    this.abortCause = cause;
    this.abort.abort(new Error(`generation ${cause}`));
  }

  /**
   * Polls what others ask of the turn (one consistent read every stopPollMs while it generates): a stop request, and
   * connections that resumed the turn (./resume.ts), which from then on get the text they lack and the live tail.
   */
  private async watchControl(): Promise<void> {
    const { log } = this.deps;
    const poll = this.poll;
    const turn = { sessionId: this.job.sessionId, turnId: this.job.turnId };
    while (!this.finished.signal.aborted && !this.abort.signal.aborted) {
      try {
        const control = await poll.next(turn, this.finished.signal);
        if (!control || this.finished.signal.aborted) return;
        for (const watcher of control.watchers) this.takeOn(watcher);
        if (control.stopRequested) this.stop("stopped");
      } catch (error) {
        log.warn("control poll failed", { ...this.ids, error: describe(error) });
      }
    }
  }

  /**
   * The turn's session was deleted while it generated (./conversations.ts asked for the erase): after the worker's
   * last write and the end frame, the turn and its control items go, in the region that wrote them. Checked after
   * every ending, not only a stop: an erase request that came after the last poll is still honoured.
   */
  private async eraseIfSessionDeleted(): Promise<void> {
    const { sessionId, turnId } = this.job;
    try {
      if (!(await this.poll.eraseRequested({ sessionId, turnId }))) return;
      await this.deps.history.eraseTurn(sessionId, turnId);
      this.deps.log.info("turn erased: its session was deleted", this.ids);
    } catch (error) {
      // Left behind: the turn's items expire with the history retention, the erase request within a day.
      this.deps.log.warn("erasing the turn of a deleted session failed", { ...this.ids, error: describe(error) });
    }
  }

  private takeOn(watcher: TurnWatcher): void {
    if (this.served.has(watcher.connectionId)) return;
    const { history, clock, log } = this.deps;
    this.served.add(watcher.connectionId);
    // A connection in another region is reached through that region's @connections endpoint. The connection that
    // sent the message already follows the turn (follow answers false): it is acknowledged all the same, so the
    // resuming side does not send the turn a second time.
    const route = watcher.region === this.turn.region ? undefined : { endpoint: watcher.callbackEndpoint, region: watcher.region };
    this.fanout.follow({ connectionId: watcher.connectionId, route, firstSeq: watcher.afterSeq + 1, offset: watcher.offset });
    log.info("resumed on another connection", { ...this.ids, follower: watcher.connectionId, region: watcher.region });
    this.acknowledgements.push(
      history.acknowledgeWatcher(this.job.sessionId, this.job.turnId, watcher.connectionId, iso(clock.now())).catch((error: unknown) => {
        log.warn("acknowledging a watcher failed", { ...this.ids, follower: watcher.connectionId, error: describe(error) });
      }),
    );
  }

  /**
   * Saves the generated text every checkpointMs when it changed, and at least every HEARTBEAT_MS regardless: a turn
   * whose worker stopped writing reads as interrupted (./liveness.ts). One write at a time.
   */
  private scheduleCheckpoint(): void {
    this.checkpointTimer = this.deps.clock.setTimer(this.deps.settings.checkpointMs, () => {
      if (this.finished.signal.aborted) return;
      const text = this.fanout.text;
      const now = this.deps.clock.now();
      if (text === this.checkpointedText && now - this.lastWriteAt < HEARTBEAT_MS) return this.scheduleCheckpoint();
      this.checkpoint = this.deps.history
        .saveProgress(this.job.sessionId, this.job.turnId, text, iso(now))
        .then(
          () => {
            this.checkpointedText = text;
            this.lastWriteAt = now;
          },
          (error: unknown) => this.deps.log.warn("checkpoint failed", { ...this.ids, error: describe(error) }),
        )
        .finally(() => {
          if (!this.finished.signal.aborted) this.scheduleCheckpoint();
        });
    });
  }

  /**
   * Counts what the model reported it used (also for a stopped or failed answer) against the user's day, and frees
   * the user's concurrent-answer slot. A failure is logged: the slot is reclaimed once the turn reads as ended
   * (quotas.ts), the tokens of that one turn go uncounted.
   */
  private async settleBudget(): Promise<void> {
    const { ledger, clock, log } = this.deps;
    const tokens = this.usage.inputTokens + this.usage.outputTokens;
    const [counted, released] = await Promise.allSettled([
      tokens > 0 ? ledger.addTokens(this.job.userId, dayKey(clock.now()), tokens) : Promise.resolve(),
      ledger.releaseGeneration(this.job.userId, this.job.turnId),
    ]);
    if (counted.status === "rejected") log.error("could not count the turn's tokens", { ...this.ids, tokens, error: describe(counted.reason) });
    if (released.status === "rejected") log.warn("could not free the user's answer slot", { ...this.ids, error: describe(released.reason) });
  }

  /**
   * The model was heard from: the idle limit counts from now. One timer per turn, which re-arms itself for what is
   * left when it fires early, rather than a new timer for every model event.
   */
  private resetIdleTimer(): void {
    this.lastModelEventAt = this.deps.clock.now();
    this.idleTimer ??= this.armIdleTimer(this.deps.settings.idleTimeoutMs);
  }

  private armIdleTimer(ms: number): TimerHandle {
    return this.deps.clock.setTimer(ms, () => {
      const left = this.lastModelEventAt + this.deps.settings.idleTimeoutMs - this.deps.clock.now();
      this.idleTimer = left > 0 ? this.armIdleTimer(left) : undefined;
      if (left <= 0) this.stop("idle");
    });
  }

  private async generate(): Promise<GenerationCause> {
    const { model, settings, clock, log } = this.deps;
    // A stop that came before the worker started was read beside the claim: the model is never called.
    if (this.prepared.stopRequested) this.stop("stopped");
    if (this.abort.signal.aborted) return this.abortCause!;
    const { context } = this.prepared;
    if (context.status === "rejected") throw context.reason;
    const messages = context.value && (this.job.continuation ? withPrefill(context.value, this.turn.text) : context.value);
    // The context was read for the job's user turn; the claimed turn says which one it answers.
    if (!messages || this.turn.parentTurnId !== this.job.userTurnId) {
      log.error("the user turn this answers is missing", { ...this.ids, parentTurnId: this.turn.parentTurnId });
      return "internal";
    }
    this.sent = messages;
    const signal = this.abort.signal;

    for (let attempt = 1; ; attempt++) {
      this.resetIdleTimer();
      try {
        for await (const event of model.stream({ messages, maxOutputTokens: settings.maxOutputTokens, signal })) {
          // An aborted HTTP/2 stream may end the loop silently or keep yielding buffered events: check the signal.
          if (signal.aborted) break;
          this.resetIdleTimer();
          switch (event.type) {
            case "text": {
              const text = this.trimLead ? event.text.trimStart() : event.text;
              if (text.length === 0) break;
              this.trimLead = false;
              if (this.ttftMs === null) this.ttftMs = Math.max(0, clock.now() - this.job.receivedAt);
              this.fanout.push(text);
              break;
            }
            case "usage": {
              const { usage, input, output } = this.reported;
              this.reported = {
                usage: { inputTokens: event.inputTokens ?? usage.inputTokens, outputTokens: event.outputTokens ?? usage.outputTokens },
                input: input || event.inputTokens !== undefined,
                output: output || event.outputTokens !== undefined,
              };
              break;
            }
            case "guardrail":
              this.guardrail = true;
              break;
            case "stop":
              this.modelStop = event.reason;
              break;
          }
        }
        // Bedrock ends every finished answer with its stop reason; a stream that ends without one was cut (a lost
        // connection looks exactly like this), so the answer is not complete.
        if (!signal.aborted && this.modelStop === undefined && !this.guardrail) {
          throw new ModelError("the model stream ended before its stop reason", "IncompleteStream", true);
        }
      } catch (error) {
        if (signal.aborted) break;
        const delay = backoffDelay(attempt, settings.modelRetry);
        const timeLeft = this.remainingMs() - this.margin();
        if (this.ttftMs === null && isRetryableModelError(error) && attempt < settings.modelRetry.attempts && timeLeft > delay) {
          log.warn("model call failed before the first token; retrying", { ...this.ids, attempt, delayMs: delay, error: describe(error) });
          await clock.sleep(delay, signal);
          if (signal.aborted) break;
          continue;
        }
        this.failure = error;
        log.error("model stream failed", { ...this.ids, attempt, error: describe(error) });
      }
      break;
    }

    if (signal.aborted) return this.abortCause!;
    if (this.failure !== undefined) return "model_error";
    if (this.guardrail || this.modelStop === "guardrail") return "guardrail";
    return this.modelStop ?? "end_turn";
  }

  private async close(cause: GenerationCause): Promise<GenerationOutcome> {
    const { history, connections, sender, clock, log, metrics, settings } = this.deps;
    const { status, stopReason } = ENDINGS[cause];
    const text = this.fanout.text;
    const ttftMs = text.length > 0 ? this.ttftMs : null;
    this.usage = usageWithEstimates(this.reported, this.sent, text.slice(this.job.continuation ? this.turn.text.length : 0));
    const servedWatchers = this.served.size > 0 ? { servedWatchers: [...this.served] } : {};
    // A continued turn reports and saves all its usage; the budget counts only this generation's (settleBudget).
    const earlier = this.job.continuation ? this.turn.usage : undefined;
    const usage: Usage = { inputTokens: this.usage.inputTokens + (earlier?.inputTokens ?? 0), outputTokens: this.usage.outputTokens + (earlier?.outputTokens ?? 0) };

    // The model is done: count its tokens and free the user's slot while the turn is saved, so that a client that
    // asks `usage` or sends again on turn.done sees both (and the end frame waits for no extra round trip).
    const settled = this.settleBudget();
    // Keep half the margin for the end frame and the slot release (each a single call).
    const reserveMs = Math.floor(this.margin() / 2);
    let saved = false;
    try {
      const closed = await retryWhile(
        () => history.finishTurn(this.job.sessionId, this.job.turnId, { text, status, stopReason, usage, ttftMs, updatedAt: iso(clock.now()), ...servedWatchers }),
        settings.saveBackoff,
        clock,
        (delayMs) => this.remainingMs() - delayMs > reserveMs,
        (error, attempt, delayMs) => log.warn("saving the turn failed; retrying", { ...this.ids, attempt, delayMs, error: describe(error) }),
      );
      if (!closed) log.warn("turn was already closed", this.ids);
      saved = true;
    } catch (error) {
      log.error("saving the turn failed until the deadline; telling the client it failed", { ...this.ids, error: describe(error) });
      metrics.error("internal");
    }

    await settled;
    // The end goes to every connection still following the turn (the sender's, and any that resumed it).
    const frame = !saved
      ? ({ type: "error", code: "internal", message: "the answer could not be saved", turnId: this.job.turnId } as const)
      : (cause === "model_error" || cause === "idle" || cause === "internal") && text.length === 0
        ? ({ type: "error", code: cause === "internal" ? "internal" : "model_error", message: "the answer could not be generated", turnId: this.job.turnId } as const)
        : ({ type: "turn.done", turnId: this.job.turnId, stopReason, usage, ttftMs } as const);
    await Promise.all(
      this.fanout.connected.map(async (follower) => {
        try {
          const result = await sender.post(follower.connectionId, frame, follower.route);
          if (result === "gone" && follower.connectionId === this.job.connectionId) this.senderGone = true;
        } catch (error) {
          log.warn("posting the end of the turn failed", { ...this.ids, follower: follower.connectionId, error: describe(error) });
        }
      }),
    );
    if (frame.type === "error" && saved) metrics.error(frame.code);

    try {
      if (this.senderGone) await connections.delete(this.job.connectionId);
      else if (this.job.connectionSlot !== false) await connections.releaseSlot(this.job.connectionId, this.job.turnId);
    } catch (error) {
      log.warn("updating the connection failed", { ...this.ids, error: describe(error) });
    }

    const frames = this.fanout.frames;
    const end = saved ? { cause, status, stopReason } : { cause: "unsaved" as const, ...ENDINGS.unsaved };
    metrics.turnFinished({ ttftMs, outputTokens: this.usage.outputTokens, frames, stopReason: end.stopReason, cause: end.cause });
    log.info("turn finished", { ...this.ids, ...end, frames, ttftMs, outputTokens: this.usage.outputTokens, chars: text.length });
    await this.eraseIfSessionDeleted();
    return { turnId: this.job.turnId, ...end, frames, text };
  }
}

/** An error's name and code for logs (never its payload, which may quote the prompt). */
export function describe(error: unknown): string {
  if (error instanceof ModelError) return `${error.name}:${error.code}`;
  if (error instanceof Error) return error.name;
  return typeof error;
}
