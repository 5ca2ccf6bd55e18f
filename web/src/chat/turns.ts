/** The conversation as the page shows it, and how history pages fold into it. Pure functions, no DOM. */
import type { Role, StopReason, TurnRecord, TurnStatus, Usage } from "../../../runtime/protocol";

export type TurnViewStatus = TurnStatus | "pending";

export interface TurnView {
  /** Stable key of the element: the turnId, or a local key until the server names the turn. */
  key: string;
  turnId?: string;
  role: Role;
  text: string;
  status: TurnViewStatus;
  /** For an assistant turn: the key of the user turn it answers. */
  parentKey?: string;
  usage?: Usage;
  ttftMs?: number | null;
  stopReason?: StopReason;
  region?: string;
  model?: string;
  /** A problem to show on the turn, in words. */
  error?: string;
  /**
   * For an answer: which of the versions (Regenerate) of the answer to the same message this is (1-based), how many
   * exist, and the current (latest) one, which Regenerate and Continue apply to.
   */
  version?: { index: number; count: number; latestTurnId?: string };
  /** When the turn was written (ISO 8601). */
  createdAt?: string;
}

export function statusFromStopReason(reason: StopReason): TurnStatus {
  switch (reason) {
    case "end_turn":
    case "max_tokens":
      return "complete";
    case "stopped":
      return "stopped";
    case "guardrail":
      return "guardrail";
    case "error":
      return "error";
  }
}

/** Whether Continue applies: the latest version of an answer that hit the length limit or was stopped. */
export function canContinue(turn: TurnView): boolean {
  if (turn.role !== "assistant" || turn.text === "" || turn.turnId === undefined) return false;
  if (turn.version !== undefined && turn.version.index !== turn.version.count) return false;
  return turn.status === "stopped" || (turn.status === "complete" && turn.stopReason === "max_tokens");
}

/**
 * Folds a history record into what is known of that turn. A turn too long for one message comes in parts on
 * consecutive pages (`textOffset`, `partial`: runtime/chat/history-page.ts); a part continues the text at its offset.
 */
export function foldRecord(known: TurnRecord | undefined, record: TurnRecord): TurnRecord {
  const { textOffset, ...whole } = record;
  if (textOffset === undefined || textOffset === 0 || known === undefined) return textOffset === undefined ? record : whole;
  return { ...whole, text: known.text.slice(0, textOffset) + record.text };
}

/**
 * History records → the turns to show: ordered by turnId (turn ids sort by creation time, whatever order the
 * pages came in). A user message answered several times (Regenerate) shows one of its answers, the latest unless
 * `chosen` (user turn id → 1-based version) says otherwise, with its version number. An answer whose message is
 * not shown (an edit replaced it while the answer was starting) is not shown either.
 */
export function turnsFromHistory(records: Iterable<TurnRecord>, chosen: ReadonlyMap<string, number> = new Map()): TurnView[] {
  const sorted = [...records].sort((a, b) => (a.turnId < b.turnId ? -1 : a.turnId > b.turnId ? 1 : 0));
  const answers = new Map<string, TurnRecord[]>();
  for (const record of sorted) {
    if (record.role === "assistant" && record.parentTurnId !== undefined) {
      const list = answers.get(record.parentTurnId) ?? [];
      list.push(record);
      answers.set(record.parentTurnId, list);
    }
  }
  const users = new Set(sorted.filter((r) => r.role === "user").map((r) => r.turnId));
  const views: TurnView[] = [];
  for (const record of sorted) {
    if (record.role === "assistant" && record.parentTurnId !== undefined) {
      if (!users.has(record.parentTurnId)) continue;
      const siblings = answers.get(record.parentTurnId)!;
      const index = Math.min(Math.max(chosen.get(record.parentTurnId) ?? siblings.length, 1), siblings.length);
      if (siblings[index - 1] !== record) continue;
      views.push({ ...fromRecord(record), version: { index, count: siblings.length, latestTurnId: siblings[siblings.length - 1]!.turnId } });
    } else {
      views.push(fromRecord(record));
    }
  }
  return views;
}

function fromRecord(record: TurnRecord): TurnView {
  return {
    key: record.turnId,
    turnId: record.turnId,
    role: record.role,
    text: record.text,
    status: record.status,
    parentKey: record.parentTurnId,
    usage: record.usage,
    model: record.model,
    createdAt: record.createdAt,
    ...(record.stopReason !== undefined ? { stopReason: record.stopReason } : {}),
  };
}
