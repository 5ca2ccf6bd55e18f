/**
 * `continue`: more of an answer that ended at the length limit (`max_tokens`) or was stopped. The same turn goes
 * on: it is reopened (`streaming` again, owned by this region and connection, claimable by one worker), announced
 * with `turn.started` + `continues`, and the worker gives the model the conversation with the partial answer as
 * the last assistant message (prefill). Its deltas append to the turn's text; every reader (history, `resume` on
 * another connection) sees one turn whose text grows, and one more `turn.done` ends it. Admitted like `send`.
 *
 * The turn's item is written by this region from here on: an ended turn is written by nobody (its worker is done),
 * and the reopening is conditional on the turn being unchanged since it was read, so of two tabs continuing the
 * same answer one wins and the other is told it is already being written.
 */
import type { ContinueFrame, TurnStartedFrame } from "../protocol";
import { ChatError, notFound } from "./errors";
import { sessionOfTurn } from "./ids";
import { admit, holdsConnectionSlot, releaseAdmission, type Caller } from "./quotas";
import type { Turn } from "./ports";
import { announce, type StartTurnDeps } from "./start-turn";

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Whether an answer may be continued: it ended at the length limit or by a stop, with text to go on from. */
export function continuable(turn: Pick<Turn, "role" | "status" | "stopReason" | "text">): boolean {
  if (turn.role !== "assistant" || turn.text.length === 0) return false;
  return turn.status === "stopped" || (turn.status === "complete" && turn.stopReason === "max_tokens");
}

export async function continueAnswer(frame: ContinueFrame, caller: Caller, deps: StartTurnDeps): Promise<void> {
  const { connection } = caller;
  // A refusal names no turn: an error naming a turn reads as that turn's end (as for `stop`), and the turn may be
  // streaming in another tab. Only a failure after `turn.started` names it, because it does end it.
  const ids = {};
  const sessionId = sessionOfTurn(frame.turnId);
  const turn = sessionId ? await deps.history.getTurn(sessionId, frame.turnId) : undefined;
  if (!sessionId || !turn || turn.userId !== connection.userId || turn.droppedBy) throw notFound("turn", ids);
  if (turn.role !== "assistant" || !turn.parentTurnId) throw new ChatError("bad_request", "only an answer can be continued", ids);
  if (turn.status === "streaming") throw new ChatError("bad_request", "that answer is still being written; wait for it to end", ids);
  if (turn.supersededBy) throw new ChatError("bad_request", "a newer version of that answer exists; continue the latest one", ids);
  if (!continuable(turn)) {
    throw new ChatError("bad_request", "only an answer cut by the length limit or stopped can be continued; this one is finished", ids);
  }

  await admit(deps, caller, turn.turnId, ids);
  const at = iso(deps.clock.now());
  const giveBack = () => releaseAdmission(deps, caller, turn.turnId, true);
  try {
    // What was asked of the earlier generation (a stop, resumed connections) must not reach the new one.
    await deps.history.clearTurnControl(sessionId, turn.turnId);
    const reopened = await deps.history.reopenTurn(sessionId, turn.turnId, turn.updatedAt, { region: deps.settings.region, connectionId: connection.connectionId, at });
    if (!reopened) throw new ChatError("bad_request", "that answer is already being continued or changed; wait for it to end", ids);
  } catch (error) {
    await giveBack();
    throw error;
  }

  const firstSeq = (frame.afterSeq ?? -1) + 1;
  const started: TurnStartedFrame = {
    type: "turn.started",
    sessionId,
    turnId: turn.turnId,
    clientMessageId: turn.clientMessageId,
    region: deps.settings.region,
    userTurnId: turn.parentTurnId,
    continues: { seq: firstSeq, offset: turn.text.length },
  };
  await announce(deps, connection.connectionId, started);
  try {
    await deps.queue.enqueue({
      kind: "generate",
      sessionId,
      turnId: turn.turnId,
      userTurnId: turn.parentTurnId,
      connectionId: connection.connectionId,
      userId: connection.userId,
      receivedAt: caller.receivedAt,
      continuation: { firstSeq },
      ...(holdsConnectionSlot(deps.settings) ? {} : { connectionSlot: false as const }),
    });
  } catch (error) {
    deps.log.error("could not invoke the worker", { connectionId: connection.connectionId, turnId: turn.turnId, error: error instanceof Error ? error.name : "unknown" });
    // Closed again as it was, text kept, so it can be continued later.
    await deps.history
      .finishTurn(sessionId, turn.turnId, { text: turn.text, status: turn.status as "stopped" | "complete", stopReason: turn.stopReason ?? "stopped", usage: turn.usage ?? { inputTokens: 0, outputTokens: 0 }, ttftMs: turn.ttftMs ?? null, updatedAt: iso(deps.clock.now()) })
      .catch(() => undefined);
    await releaseAdmission(deps, caller, turn.turnId);
    throw new ChatError("internal", "the answer could not be continued; try again", { turnId: turn.turnId });
  }
  await deps.history.touchSession(sessionId, at).catch(() => undefined);
}
