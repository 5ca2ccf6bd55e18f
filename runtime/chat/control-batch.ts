/**
 * The batched control poll of a process that generates many turns at once (the worker service): every interval,
 * ONE read answers for all of its turns whether a stop was requested and whether a connection rang to resume the
 * turn, instead of one read per turn. Only a turn whose doorbell rang since it last looked reads its watchers
 * (HistoryStore.turnControl), which happens once per resume, not per poll. A turn's last look, after its last write
 * (was its session deleted meanwhile?), joins the next batched read too.
 */
import type { Clock, HistoryStore, Log, TurnControl, TurnControlPoll, TurnRef } from "./ports";

/** What one batched read tells about a turn. */
export interface ControlSignals {
  stopRequested: boolean;
  /** The stop request asks for the turn to be erased (its session was deleted). */
  erase?: boolean;
  /** The last doorbell a resuming connection rang (`<at>#<connectionId>`), if any. */
  bell?: string;
}

export interface ControlSignalStore extends Pick<HistoryStore, "turnControl" | "eraseRequested"> {
  /** One read for many turns (keyed by turnId in the answer; a turn without control items may be absent). */
  controlSignals(turns: TurnRef[]): Promise<Map<string, ControlSignals>>;
}

interface Waiter {
  turn: TurnRef;
  resolve(control: TurnControl | undefined): void;
  reject(error: unknown): void;
}

interface LastLook {
  turn: TurnRef;
  resolve(erase: boolean): void;
  reject(error: unknown): void;
}

export class BatchedControlPoll implements TurnControlPoll {
  private waiters = new Map<string, Waiter>();
  private lastLooks = new Map<string, LastLook>();
  /** The last doorbell each turn answered; forgotten when the turn stops polling. */
  private readonly answeredBells = new Map<string, string>();
  private tickScheduled = false;

  /** Set once the batched read was refused (a role without dynamodb:BatchGetItem): each turn reads its own then. */
  private perTurn = false;

  constructor(
    private readonly store: ControlSignalStore,
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly log?: Log,
  ) {}

  next(turn: TurnRef, until: AbortSignal): Promise<TurnControl | undefined> {
    if (until.aborted) {
      this.answeredBells.delete(turn.turnId);
      return Promise.resolve(undefined);
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.waiters.delete(turn.turnId);
        this.answeredBells.delete(turn.turnId);
        resolve(undefined);
      };
      until.addEventListener("abort", onAbort, { once: true });
      const settle =
        <T>(fn: (v: T) => void) =>
        (v: T) => {
          until.removeEventListener("abort", onAbort);
          fn(v);
        };
      this.waiters.set(turn.turnId, { turn, resolve: settle(resolve), reject: settle(reject) });
      this.schedule();
    });
  }

  eraseRequested(turn: TurnRef): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.lastLooks.set(turn.turnId, { turn, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.tickScheduled) return;
    this.tickScheduled = true;
    this.clock.setTimer(this.intervalMs, () => {
      this.tickScheduled = false;
      void this.tick();
    });
  }

  private async tick(): Promise<void> {
    const batch = [...this.waiters.values()];
    const lastLooks = [...this.lastLooks.values()];
    this.waiters = new Map();
    this.lastLooks = new Map();
    if (batch.length === 0 && lastLooks.length === 0) return;
    if (this.perTurn) {
      await Promise.all([
        ...batch.map((w) => this.store.turnControl(w.turn.sessionId, w.turn.turnId).then(w.resolve, w.reject)),
        ...lastLooks.map((l) => this.store.eraseRequested(l.turn.sessionId, l.turn.turnId).then(l.resolve, l.reject)),
      ]);
      return;
    }
    // A turn once, even if it is in both lists (a batched read refuses a key asked twice).
    const turns = new Map([...batch, ...lastLooks].map((w) => [w.turn.turnId, w.turn]));
    let signals: Map<string, ControlSignals>;
    try {
      signals = await this.store.controlSignals([...turns.values()]);
    } catch (error) {
      if ((error as { name?: unknown }).name === "AccessDeniedException") {
        // Stops must keep working: one read per turn, as the Lambda worker does, until the role is fixed.
        this.perTurn = true;
        this.log?.error("the batched stop read was refused; reading per turn (grant dynamodb:BatchGetItem on the history table)");
      }
      for (const w of [...batch, ...lastLooks]) w.reject(error);
      return;
    }
    for (const l of lastLooks) l.resolve(signals.get(l.turn.turnId)?.erase === true);
    await Promise.all(batch.map((w) => this.answer(w, signals.get(w.turn.turnId) ?? { stopRequested: false })));
  }

  private async answer(waiter: Waiter, signal: ControlSignals): Promise<void> {
    const { turn } = waiter;
    if (signal.bell === undefined || signal.bell === this.answeredBells.get(turn.turnId)) {
      return waiter.resolve({ stopRequested: signal.stopRequested, watchers: [], acknowledged: [] });
    }
    try {
      const control = await this.store.turnControl(turn.sessionId, turn.turnId);
      // Items replicate one by one between regions: the doorbell may arrive before the watcher it announces, so it
      // counts as answered only once that watcher is read.
      const connectionId = signal.bell.slice(signal.bell.indexOf("#") + 1);
      if (control.watchers.some((w) => w.connectionId === connectionId)) this.answeredBells.set(turn.turnId, signal.bell);
      waiter.resolve({ ...control, stopRequested: control.stopRequested || signal.stopRequested });
    } catch (error) {
      waiter.reject(error);
    }
  }
}
