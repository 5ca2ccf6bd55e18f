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
  /** For an answer: which of the regenerated answers to the same message this is (1-based) and how many exist. */
  version?: { index: number; count: number };
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
 * pages came in), and for a user message answered several times (Regenerate) only its latest answer, which
 * carries its version number.
 */
export function turnsFromHistory(records: Iterable<TurnRecord>): TurnView[] {
  const sorted = [...records].sort((a, b) => (a.turnId < b.turnId ? -1 : a.turnId > b.turnId ? 1 : 0));
  const answers = new Map<string, TurnRecord[]>();
  for (const record of sorted) {
    if (record.role === "assistant" && record.parentTurnId !== undefined) {
      const list = answers.get(record.parentTurnId) ?? [];
      list.push(record);
      answers.set(record.parentTurnId, list);
    }
  }
  const views: TurnView[] = [];
  for (const record of sorted) {
    if (record.role === "assistant" && record.parentTurnId !== undefined) {
      const siblings = answers.get(record.parentTurnId)!;
      if (siblings[siblings.length - 1] !== record) continue;
      views.push({ ...fromRecord(record), version: { index: siblings.length, count: siblings.length } });
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
  };
}
