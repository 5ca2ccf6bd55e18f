/**
 * Export of a conversation, as Markdown (to read) and as JSON (to keep or process). The JSON holds the turns as the
 * server stores them, in the shape `history` returns them (docs/EXPORT.md): no internal fields (user, connection,
 * region of the worker, message ids). Pure, no DOM.
 */
import type { SessionSummary, TurnRecord } from "../../../runtime/protocol";

/** The export's format name and version, first in the JSON. */
export const EXPORT_FORMAT = "chat-export/1";

export interface ConversationExport {
  format: typeof EXPORT_FORMAT;
  exportedAt: string;
  session: SessionSummary;
  turns: TurnRecord[];
}

/**
 * The fields of a turn that an export keeps, in this order (TurnRecord without the paging fields). `supersededBy`
 * marks an earlier version of a regenerated answer; `stopReason` says how an answer ended.
 */
const TURN_FIELDS = ["turnId", "sessionId", "role", "text", "status", "parentTurnId", "supersededBy", "stopReason", "usage", "model", "createdAt", "updatedAt"] as const;

export function exportJson(session: SessionSummary, turns: readonly TurnRecord[], now = new Date()): string {
  const doc: ConversationExport = {
    format: EXPORT_FORMAT,
    exportedAt: now.toISOString(),
    session: { sessionId: session.sessionId, title: session.title, createdAt: session.createdAt, updatedAt: session.updatedAt },
    turns: turns.map((turn) => {
      const kept: Record<string, unknown> = {};
      // A turn the page has not read back from history has no times yet: left out rather than empty.
      for (const field of TURN_FIELDS) if (turn[field] !== undefined && turn[field] !== "") kept[field] = turn[field];
      return kept as unknown as TurnRecord;
    }),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

const STATUS_NOTE: Partial<Record<TurnRecord["status"], string>> = {
  stopped: "(stopped before the end)",
  error: "(the answer failed here)",
  guardrail: "(blocked by the content guardrail)",
  streaming: "(still being written when exported)",
};

export function exportMarkdown(session: SessionSummary, turns: readonly TurnRecord[], now = new Date()): string {
  const lines = [`# ${session.title.trim() || "Untitled chat"}`, "", `_Exported ${now.toISOString()} · started ${session.createdAt}_`, ""];
  // The conversation as it reads now: each message with its current answer; earlier versions are in the JSON.
  const earlier = new Map<string, number>();
  for (const turn of turns) if (turn.supersededBy !== undefined && turn.parentTurnId) earlier.set(turn.parentTurnId, (earlier.get(turn.parentTurnId) ?? 0) + 1);
  for (const turn of turns) {
    if (turn.supersededBy !== undefined) continue;
    lines.push(`## ${turn.role === "user" ? "You" : "Assistant"}`, "", turn.text.trimEnd() || "_(no text)_");
    const note = STATUS_NOTE[turn.status];
    if (note !== undefined) lines.push("", `_${note}_`);
    const versions = turn.role === "assistant" && turn.parentTurnId ? (earlier.get(turn.parentTurnId) ?? 0) : 0;
    if (versions > 0) lines.push("", `_(regenerated: ${versions} earlier ${versions === 1 ? "version" : "versions"} in the JSON export)_`);
    lines.push("");
  }
  return lines.join("\n");
}

/** A file name from the title: letters, digits and dashes, at most 60 characters, then the extension. */
export function exportFileName(title: string, extension: "md" | "json"): string {
  const base = title
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60)
    .replace(/-+$/, "");
  return `${base || "chat"}.${extension}`;
}
