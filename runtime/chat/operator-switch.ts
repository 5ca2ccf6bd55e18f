/**
 * The operator's kill switch as the message handler sees it: the stored switch read at most once per `ttlMs` per
 * warm container, so a flood of sends costs no extra round trip and flipping the switch reaches every container
 * (and, through the global table, every region) within `ttlMs` plus replication. A failed read keeps the last
 * answer (or "not paused" when there is none): an unreadable switch must not stop the chat for everyone.
 */
import type { Log, OperatorSwitch } from "./ports";

export class CachedOperatorSwitch implements OperatorSwitch {
  private value = false;
  private readAt = Number.NEGATIVE_INFINITY;
  private reading: Promise<boolean> | undefined;

  constructor(
    private readonly stored: OperatorSwitch,
    private readonly ttlMs: number,
    private readonly now: () => number,
    private readonly log: Log,
  ) {}

  answersPaused(): Promise<boolean> {
    if (this.now() - this.readAt < this.ttlMs) return Promise.resolve(this.value);
    this.reading ??= this.stored
      .answersPaused()
      .then(
        (paused) => {
          this.value = paused;
          this.readAt = this.now();
          return paused;
        },
        (error: unknown) => {
          this.log.warn("could not read the operator switch; keeping the last answer", { error: error instanceof Error ? error.name : typeof error });
          return this.value;
        },
      )
      .finally(() => (this.reading = undefined));
    return this.reading;
  }
}
