/** Where streamed markdown can be cut into blocks that later text will not change. Pure: no DOM. */

/**
 * The end of the last block that later text cannot change: a blank line outside a fenced code block, followed by
 * a line that starts a new top-level block (not indented: an indented line may continue a list item). Text up to
 * here is rendered once and kept; only the tail after it is re-parsed as more deltas arrive.
 */
export function stableBoundary(text: string): number {
  const lines = text.split("\n");
  let fence: string | null = null;
  let offset = 0;
  let boundary = 0;
  // The last element is an unfinished line: it can still change, so it never decides anything.
  for (let i = 0; i < lines.length - 1; i += 1) {
    const line = lines[i]!;
    const lineEnd = offset + line.length + 1;
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker !== undefined) {
      if (fence === null) fence = marker;
      else if (marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) fence = null;
    } else if (fence === null && line.trim() === "" && i > 0) {
      const next = lines[i + 1]!;
      if (next !== "" && !/^\s/.test(next)) boundary = lineEnd;
    }
    offset = lineEnd;
  }
  return boundary;
}
