/** The per-turn control poll (a Lambda worker generates one turn): every interval, one consistent read of that turn. */
import type { Clock, HistoryStore, TurnControl, TurnControlPoll, TurnRef } from "./ports";

export class PerTurnControlPoll implements TurnControlPoll {
  constructor(
    private readonly history: Pick<HistoryStore, "turnControl" | "eraseRequested">,
    private readonly clock: Clock,
    private readonly intervalMs: number,
  ) {}

  async next(turn: TurnRef, until: AbortSignal): Promise<TurnControl | undefined> {
    await this.clock.sleep(this.intervalMs, until);
    if (until.aborted) return undefined;
    return this.history.turnControl(turn.sessionId, turn.turnId);
  }

  eraseRequested(turn: TurnRef): Promise<boolean> {
    return this.history.eraseRequested(turn.sessionId, turn.turnId);
  }
}
