/**
 * Session titles: the first message summarised (a new session's title), and a title the user typed (`rename`).
 * Plain functions, shared by the runtime and the web page (no Node APIs).
 */
import { MAX_TITLE_LENGTH } from "../protocol";

/** Longest summary of a first message, in characters: about what a sidebar line shows. */
export const SUMMARY_LENGTH = 60;

/** One line: whitespace runs (newlines included) become one space, ends trimmed. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/**
 * The first message as a title: one line, without Markdown's leading marks (`#`, `>`, list bullets) and code
 * fences, cut at the last word boundary before SUMMARY_LENGTH with an ellipsis (a single long word is cut as is).
 */
export function summaryTitle(firstMessage: string): string {
  const plain = oneLine(
    firstMessage
      .replace(/```[^\n]*\n?/g, " ")
      .replace(/^\s{0,3}(#{1,6}|>|[-*+]|\d+[.)])\s+/gm, "")
      // Emphasis and inline code around whole words (not the underscores inside snake_case).
      .replace(/(^|\s)([*_`]{1,3})([^*_`\n]+?)\2(?=$|\s|[.,;:!?])/g, "$1$3"),
  );
  if (plain.length <= SUMMARY_LENGTH) return plain;
  const head = plain.slice(0, SUMMARY_LENGTH);
  const space = head.lastIndexOf(" ");
  const cut = space >= SUMMARY_LENGTH / 2 ? head.slice(0, space) : head;
  return `${cut.replace(/[\s,;:.!?-]+$/, "")}…`;
}

/** A title the user typed, made one line; a reason instead when it is empty or longer than MAX_TITLE_LENGTH. */
export function normaliseTitle(input: string): { title: string } | { problem: string } {
  const title = oneLine(input);
  if (title.length === 0) return { problem: "title must not be empty" };
  if ([...title].length > MAX_TITLE_LENGTH) return { problem: `title must be at most ${MAX_TITLE_LENGTH} characters` };
  return { title };
}
