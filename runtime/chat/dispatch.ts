/**
 * One client frame, from any route (`send`, `stop`, …, `$default`): validate it, run its use case and answer
 * through the @connections API. Failures become an `error` frame; the connection stays usable.
 */
import type { ClientFrame, ServerFrame } from "../protocol";
import { ChatError } from "./errors";
import type { FrameBudget } from "./frame-budget";
import { deleteSession, renameSession } from "./conversations";
import { parseClientFrame } from "./frames";
import type { ChatMetrics, Connection } from "./ports";
import { listSessions, readHistory } from "./read";
import { resumeTurn } from "./resume";
import { regenerate, sendMessage, type StartTurnDeps } from "./start-turn";
import { stopTurn } from "./stop";
import { continueAnswer } from "./continue";
import { editMessage } from "./edit";
import { readUsage } from "./usage";

export type MessageDeps = StartTurnDeps & {
  metrics: ChatMetrics;
  /** The per-connection frame budget of this container (none: frames are not limited per connection). */
  frameBudget?: FrameBudget;
};

export interface IncomingFrame {
  connectionId: string;
  body: string | null | undefined;
  receivedAt: number;
}

export type MessageOutcome = { action: ClientFrame["action"] | "invalid"; error?: ChatError["code"] };

async function reply(deps: MessageDeps, connectionId: string, frame: ServerFrame): Promise<void> {
  await deps.sender.post(connectionId, frame);
}

async function run(frame: ClientFrame, connection: Connection, receivedAt: number, deps: MessageDeps): Promise<void> {
  const caller = { connection, receivedAt };
  switch (frame.action) {
    case "send":
      return sendMessage(frame, caller, deps);
    case "regenerate":
      return regenerate(frame, caller, deps);
    case "stop":
      return stopTurn(frame, connection, deps);
    case "sessions":
      return reply(deps, connection.connectionId, await listSessions(connection, deps));
    case "history":
      return reply(deps, connection.connectionId, await readHistory(frame, connection, deps));
    case "ping":
      return reply(deps, connection.connectionId, { type: "pong" });
    case "resume":
      return resumeTurn(frame, connection, deps);
    case "usage":
      return reply(deps, connection.connectionId, await readUsage(connection, deps));
    case "edit":
      return editMessage(frame, caller, deps);
    case "continue":
      return continueAnswer(frame, caller, deps);
    case "rename":
      return reply(deps, connection.connectionId, await renameSession(frame, connection, deps));
    case "delete":
      return reply(deps, connection.connectionId, await deleteSession(frame, connection, deps));
  }
}

/**
 * The ids an error about this frame names when the use case named none (the protocol: an error names "the turnId /
 * clientMessageId it concerns"): a send's clientMessageId, so the client can match a failed send to its message.
 * A failed `stop` does not name its turn: an error naming a turn reads as that turn's end, and the turn streams on.
 */
function idsOf(frame: ClientFrame | undefined): { clientMessageId?: string } {
  return frame?.action === "send" || frame?.action === "edit" ? { clientMessageId: frame.clientMessageId } : {};
}

/** True once the token that opened the connection has expired (`exp` is in seconds, `at` in milliseconds). */
export function tokenExpired(connection: Connection, at: number): boolean {
  return at >= connection.tokenExpiresAt * 1000;
}

/**
 * A frame after the token's expiry: `forbidden`, naming no turn or message (the frame was not looked at, so the
 * client may send it again after reconnecting with a fresh token), then the server closes the socket.
 */
async function refuseExpired(connectionId: string, deps: MessageDeps): Promise<void> {
  deps.log.info("frame refused", { connectionId, code: "forbidden", reason: "token expired" });
  deps.metrics.error("forbidden");
  const frame = new ChatError("forbidden", "the sign-in token has expired; reconnect with a fresh one").toFrame();
  try {
    await reply(deps, connectionId, frame);
  } catch (error) {
    deps.log.warn("could not post the error frame", { connectionId, error: error instanceof Error ? error.name : typeof error });
  }
  try {
    await deps.sender.close(connectionId);
  } catch (error) {
    // The socket stays open for now; its next frame is refused again and the close retried.
    deps.log.error("could not close an expired connection", { connectionId, error: error instanceof Error ? error.name : typeof error });
  }
}

/**
 * A frame over the connection's frame budget: `rate_limited` with when to retry, and the frame is not looked at
 * (no store read); a connection that keeps flooding is closed.
 */
async function refuseOverBudget(connectionId: string, verdict: { retryAfterMs: number; close: boolean }, deps: MessageDeps): Promise<MessageOutcome> {
  deps.metrics.error("rate_limited");
  const frame = new ChatError("rate_limited", "too many frames on this connection; slow down", {}, verdict.retryAfterMs).toFrame();
  await reply(deps, connectionId, frame).catch(() => undefined);
  if (verdict.close) {
    deps.log.warn("closing a connection that keeps exceeding its frame budget", { connectionId });
    await deps.sender.close(connectionId).catch((error: unknown) =>
      deps.log.error("could not close a flooding connection", { connectionId, error: error instanceof Error ? error.name : typeof error }),
    );
  }
  return { action: "invalid", error: "rate_limited" };
}

export async function handleClientFrame(input: IncomingFrame, deps: MessageDeps): Promise<MessageOutcome> {
  const { connectionId } = input;
  let action: MessageOutcome["action"] = "invalid";
  let parsed: ClientFrame | undefined;
  try {
    const budget = deps.frameBudget?.take(connectionId, input.receivedAt);
    if (budget && !budget.ok) return await refuseOverBudget(connectionId, budget, deps);
    // Parsed first (no I/O), so that a failure further on still names what the frame concerns.
    let invalid: unknown;
    try {
      parsed = parseClientFrame(input.body);
    } catch (error) {
      invalid = error;
    }
    // Every frame, ping and malformed ones included, is then checked against the caller's connection: its token may
    // have expired. A warm container reads it once per socket (CachedConnectionStore), so this costs no round trip.
    const connection = await deps.connections.get(connectionId);
    if (connection && tokenExpired(connection, input.receivedAt)) {
      await refuseExpired(connectionId, deps);
      return { action, error: "forbidden" };
    }
    if (parsed === undefined) throw invalid;
    const frame = parsed;
    action = frame.action;
    if (frame.action === "ping") {
      await reply(deps, connectionId, { type: "pong" });
      return { action };
    }
    if (!connection) throw new ChatError("forbidden", "connection is not registered; reconnect");
    await run(frame, connection, input.receivedAt, deps);
    return { action };
  } catch (error) {
    // An error the use case named keeps its ids (e.g. the new turn); any other failure (a store or network error)
    // names what the frame concerns, so the client can match it to the message it sent.
    const chatError =
      error instanceof ChatError
        ? new ChatError(error.code, error.message, { ...idsOf(parsed), ...error.ids }, error.retryAfterMs)
        : new ChatError("internal", "something went wrong; try again", idsOf(parsed));
    if (!(error instanceof ChatError)) {
      deps.log.error("frame failed", { connectionId, action, error: error instanceof Error ? error.name : typeof error });
    } else {
      deps.log.info("frame refused", { connectionId, action, code: chatError.code });
    }
    deps.metrics.error(chatError.code);
    try {
      await reply(deps, connectionId, chatError.toFrame());
    } catch (postError) {
      deps.log.warn("could not post the error frame", { connectionId, error: postError instanceof Error ? postError.name : typeof postError });
    }
    return { action, error: chatError.code };
  }
}
