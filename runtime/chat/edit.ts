/**
 * `edit`: replaces a sent message. The new text becomes a new user turn (marked `replaces`) with a new answer, and
 * the old user turn and every turn after it are marked `droppedBy` the new one: history and the model context leave
 * them out (runtime/README.md, "Edits, continuations and versions"). Admitted exactly like `send` (operator switch,
 * budgets, too_large) and idempotent per clientMessageId (the same claim in the user's ledger).
 *
 * Only turns that are not streaming are marked (a turn is written only by the region generating it): an edit while
 * an answer after the message still streams is `busy`, and an answer that started after the check (a racing
 * regenerate) is asked to stop; it ends as usual and, its user turn being dropped, is shown and used by no one.
 */
import type { EditFrame, TurnStartedFrame } from "../protocol";
import { ChatError, notFound } from "./errors";
import { newTurnIds, sessionOfTurn } from "./ids";
import { isStaleStreaming } from "./liveness";
import { admit, releaseAdmission, type Caller } from "./quotas";
import { estimateTokens } from "./context";
import type { MessageClaim, Turn } from "./ports";
import { announce as announceStarted, assistantTurn, dispatch, touch, userTurn, type StartTurnDeps } from "./start-turn";

/** How many turns after the edited message are read at most (pages of the store's size). */
const MAX_LATER_TURNS = 1000;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

async function laterTurns(deps: StartTurnDeps, sessionId: string, turnId: string): Promise<Turn[]> {
  const turns: Turn[] = [];
  let cursor: string | undefined = deps.history.cursorAfter(sessionId, turnId);
  while (cursor !== undefined && turns.length < MAX_LATER_TURNS) {
    const page = await deps.history.pageTurns(sessionId, 100, cursor);
    turns.push(...page.turns);
    cursor = page.cursor;
  }
  return turns;
}

export async function editMessage(frame: EditFrame, caller: Caller, deps: StartTurnDeps): Promise<void> {
  const { connection } = caller;
  const { clientMessageId } = frame;
  const ids = { clientMessageId };
  const announce = (claim: Pick<MessageClaim, "sessionId" | "userTurnId" | "assistantTurnId">, replaces: string) => {
    const started: TurnStartedFrame = {
      type: "turn.started",
      sessionId: claim.sessionId,
      turnId: claim.assistantTurnId,
      clientMessageId,
      region: deps.settings.region,
      userTurnId: claim.userTurnId,
      replacesTurnId: replaces,
    };
    return announceStarted(deps, connection.connectionId, started);
  };

  // A retry of an edit that was already made re-announces it (before any check: the edited turn is dropped now).
  const earlier = await deps.ledger.getClaim(connection.userId, clientMessageId);
  if (earlier) return announce(earlier, frame.turnId);

  const promptTokens = estimateTokens(frame.text);
  if (promptTokens > deps.settings.contextBudgetTokens) {
    throw new ChatError("too_large", `the message is too long (about ${promptTokens} tokens; at most ${deps.settings.contextBudgetTokens})`, ids);
  }
  const sessionId = sessionOfTurn(frame.turnId);
  const old = sessionId ? await deps.history.getTurn(sessionId, frame.turnId) : undefined;
  if (!sessionId || !old || old.userId !== connection.userId) throw notFound("turn", ids);
  if (old.role !== "user") throw new ChatError("bad_request", "only your own messages can be edited, not answers", ids);
  if (old.droppedBy) throw new ChatError("bad_request", "that message was already replaced; reload the conversation to see the latest", ids);

  const now = deps.clock.now();
  const later = await laterTurns(deps, sessionId, old.turnId);
  if (later.some((t) => t.status === "streaming" && !isStaleStreaming(t, now))) {
    throw new ChatError("busy", "an answer after this message is still being written; stop it, then edit", ids);
  }

  const at = iso(now);
  const [userTurnId, assistantTurnId] = newTurnIds(sessionId, now, 2) as [string, string];
  await admit(deps, caller, assistantTurnId, ids);
  const claim = await deps.ledger.claim({ userId: connection.userId, clientMessageId, sessionId, userTurnId, assistantTurnId, createdAt: at }).catch(async (error: unknown) => {
    await releaseAdmission(deps, caller, assistantTurnId, true);
    throw error;
  });
  if (claim !== "claimed") {
    await releaseAdmission(deps, caller, assistantTurnId, true);
    return announce(claim, frame.turnId);
  }

  const question = userTurn({ sessionId, turnId: userTurnId, userId: connection.userId, text: frame.text, clientMessageId, at, replaces: old.turnId });
  const assistant = assistantTurn({ sessionId, turnId: assistantTurnId, userId: connection.userId, parentTurnId: userTurnId, clientMessageId, at }, deps, caller);
  const undo = async () => {
    await Promise.allSettled([
      deps.history.deleteTurn(sessionId, userTurnId),
      deps.history.deleteTurn(sessionId, assistantTurnId),
      deps.ledger.releaseClaim(connection.userId, clientMessageId),
      releaseAdmission(deps, caller, assistantTurnId, true),
    ]);
  };
  try {
    await deps.history.putNewTurns([question, assistant]);
    // One edit of a message wins (two tabs editing it at once): the conditional mark decides.
    if (!(await deps.history.dropTurn(sessionId, old.turnId, userTurnId, at))) {
      throw new ChatError("bad_request", "that message was just changed elsewhere; reload the conversation to see the latest", ids);
    }
  } catch (error) {
    await undo();
    throw error;
  }

  // Read again now that the message is dropped: an answer started meanwhile (a racing regenerate) is seen here.
  for (const turn of await laterTurns(deps, sessionId, old.turnId)) {
    if (turn.turnId === userTurnId || turn.turnId === assistantTurnId) continue;
    if (turn.status === "streaming") await deps.history.requestStop(sessionId, turn.turnId, at);
    else await deps.history.dropTurn(sessionId, turn.turnId, userTurnId, at);
  }

  await announce({ sessionId, userTurnId, assistantTurnId }, old.turnId);
  await dispatch(deps, caller, assistant, clientMessageId);
  await touch(deps, sessionId, at, assistantTurnId);
}
