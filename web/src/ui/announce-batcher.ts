/**
 * Decides what an `aria-live="polite"` region should say about a streaming answer. Announcing every delta would
 * flood a screen reader (each update interrupts or queues behind the last), so text is released in whole
 * sentences, at most one batch per `minIntervalMs`, and the rest when the answer completes.
 */
export class AnnounceBatcher {
  private pending = "";
  private lastAnnouncedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly minIntervalMs = 4000,
    private readonly minBatchChars = 80,
  ) {}

  /** Adds streamed text; returns a batch of whole sentences to announce now, or null. */
  push(text: string, now: number): string | null {
    this.pending += text;
    if (now - this.lastAnnouncedAt < this.minIntervalMs) return null;
    const cut = lastSentenceEnd(this.pending);
    if (cut < this.minBatchChars) return null;
    const batch = this.pending.slice(0, cut);
    this.pending = this.pending.slice(cut);
    this.lastAnnouncedAt = now;
    return plainText(batch);
  }

  /** The answer is complete: returns whatever has not been announced yet. */
  flush(): string {
    const rest = plainText(this.pending);
    this.pending = "";
    return rest;
  }
}

/** Index just after the last sentence terminator followed by white space, or 0. */
function lastSentenceEnd(text: string): number {
  let end = 0;
  for (const match of text.matchAll(/[.!?:](?=\s)|\n\n/g)) end = match.index + match[0].length;
  return end;
}

/** Markdown punctuation read aloud is noise ("asterisk asterisk"): keep the words. */
export function plainText(markdown: string): string {
  return markdown
    .replace(/```[^\n]*\n?/g, " ")
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/\[([^\]]+)\]\([^)]*\)/g, "$1")
    .replace(/[*_`#>|~]+/g, "")
    .replace(/\s+/g, " ")
    .trim();
}
