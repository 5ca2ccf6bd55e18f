/**
 * Search of the conversation list: by title, and by the text of the conversations this page has loaded (the server
 * keeps no search index; a conversation not opened since the page loaded is found by its title only). Pure, no DOM.
 */
import type { SessionSummary } from "../../../runtime/protocol";

export interface SearchHit {
  session: SessionSummary;
  /** Where the text matched, when the title alone did not: a short excerpt around the first match. */
  excerpt?: string;
}

const EXCERPT_CONTEXT = 30;

function fold(text: string): string {
  return text.toLocaleLowerCase().normalize("NFKD").replace(/\p{M}/gu, "");
}

export class ConversationSearch {
  /** Session → its loaded text (user and assistant turns, one line each). */
  private readonly texts = new Map<string, string>();

  /** Records what the page shows of a conversation (called on every render of it). */
  remember(sessionId: string, turns: readonly { text: string }[]): void {
    this.texts.set(sessionId, turns.map((t) => t.text.replace(/\s+/g, " ").trim()).filter(Boolean).join("\n"));
  }

  forget(sessionId: string): void {
    this.texts.delete(sessionId);
  }

  /** Sessions whose title and loaded text together hold every word of `query` (any case, accents ignored), in list order. */
  filter(sessions: readonly SessionSummary[], query: string): SearchHit[] {
    const words = fold(query).split(/\s+/).filter(Boolean);
    if (words.length === 0) return sessions.map((session) => ({ session }));
    const hits: SearchHit[] = [];
    for (const session of sessions) {
      const title = fold(session.title);
      const text = this.texts.get(session.sessionId) ?? "";
      const folded = fold(text);
      if (!words.every((w) => title.includes(w) || folded.includes(w))) continue;
      // A word the title lacks was found in the text: show where.
      const inText = words.find((w) => !title.includes(w));
      hits.push(inText === undefined ? { session } : { session, excerpt: excerpt(text, folded, inText) });
    }
    return hits;
  }
}

/** About EXCERPT_CONTEXT characters either side of the first match, on one line, in whole words, with ellipses where cut. */
function excerpt(text: string, folded: string, word: string): string {
  const at = folded.indexOf(word);
  // Folding can change lengths (ligatures); fall back to the start of the text when positions drift.
  const start = Math.max(0, (at < 0 ? 0 : at) - EXCERPT_CONTEXT);
  const end = Math.min(text.length, (at < 0 ? 0 : at) + word.length + EXCERPT_CONTEXT);
  let line = text.slice(start, end).replace(/\s+/g, " ");
  // Whole words only: a cut word at either end goes.
  if (start > 0) line = line.replace(/^\S*\s/, "");
  if (end < text.length) line = line.replace(/\s\S*$/, "");
  line = line.trim();
  return `${start > 0 ? "…" : ""}${line}${end < text.length ? "…" : ""}`;
}
