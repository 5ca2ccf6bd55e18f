/** Sizes of text as it travels: inside a JSON string, in UTF-8 (API Gateway counts message bytes). */

/**
 * The longest prefix of `text` whose JSON string form (without its quotes) takes at most `maxBytes` UTF-8 bytes,
 * never splitting a surrogate pair; at least one character, so a page always makes progress.
 */
export function cutToJsonBytes(text: string, maxBytes: number): number {
  let used = 0;
  let i = 0;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    const pair = code >= 0xd800 && code <= 0xdbff && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1));
    const cost = pair ? 4 : jsonBytes(code);
    if (used + cost > maxBytes) break;
    used += cost;
    i += pair ? 2 : 1;
  }
  return i === 0 && text.length > 0 ? (text.length > 1 && isLowSurrogate(text.charCodeAt(1)) ? 2 : 1) : i;
}

const isLowSurrogate = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff;

/** Bytes of one UTF-16 code unit (not part of a pair) inside a JSON string, as JSON.stringify writes it. */
function jsonBytes(code: number): number {
  if (code === 0x22 || code === 0x5c) return 2; // \" and \\
  if (code < 0x20) return code === 0x08 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d ? 2 : 6;
  if (code < 0x80) return 1;
  if (code < 0x800) return 2;
  if (code >= 0xd800 && code <= 0xdfff) return 6; // a lone surrogate is written as \udXXX
  return 3;
}

