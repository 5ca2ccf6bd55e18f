/**
 * The local model: writes readable, varied answers derived from the prompt — paragraphs that pick up the
 * prompt's words, sometimes a list, a code block when the prompt asks about code — deterministic for a given
 * seed and prompt. It is a stand-in for a real model, and the web page says so.
 */

const STOPWORDS = new Set(
  (
    "a about above after again against all also am an and any are as at be because been before being below between " +
    "both but by can could did do does doing down during each few for from further had has have having he her here " +
    "hers him his how i if in into is it its itself just me more most my no nor not now of off on once only or other " +
    "our out over own same she should so some such than that the their them then there these they this those through " +
    "to too under until up very was we were what when where which while who whom why will with would you your please " +
    "tell explain give write show make want need like know think thanks hello"
  ).split(" "),
);

/** A small, fast, seedable PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/** The words of a prompt worth talking about, most frequent first. */
export function topicsOf(prompt: string): string[] {
  const counts = new Map<string, number>();
  for (const word of prompt.toLowerCase().match(/[\p{L}][\p{L}\p{N}'-]{2,}/gu) ?? []) {
    if (STOPWORDS.has(word)) continue;
    counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([w]) => w);
}

const OPENINGS = [
  "Here is how I would think about {a}.",
  "Good question — {a} comes up a lot, and it is worth being precise.",
  "Short version: {a} depends on {b}, and the details matter.",
  "Let me walk through {a} step by step.",
  "There are a few ways to look at {a}.",
];

const SENTENCES = [
  "The first thing to settle is what {a} should guarantee, because everything about {b} follows from it.",
  "In practice, {a} works best when {b} is kept small and easy to observe.",
  "A common mistake is to treat {a} and {b} as the same problem; they fail in different ways.",
  "If you measure one thing, measure how {a} behaves under load, not only in the happy path.",
  "It helps to write down what happens to {a} when {b} is slow, missing or wrong.",
  "Most of the complexity around {a} disappears once {b} has a single owner.",
  "Start with the simplest version of {a} that could work, then add {b} where the numbers ask for it.",
  "The trade-off is between how quickly {a} responds and how much {b} it has to keep around.",
  "People who have run {a} in production usually mention {b} first.",
  "None of this is specific to {a}: the same reasoning applies to {b} and {c}.",
  "Keep an eye on the edges — an empty {a}, a very large {b}, and two requests arriving at once.",
  "A quick experiment with {a} will tell you more than a long debate about {b}.",
];

const LIST_INTROS = ["A checklist:", "Things to try, in order:", "What to look at:", "The main points:"];
const LIST_ITEMS = [
  "Define what a good outcome for {a} looks like.",
  "Check how {b} behaves when it is retried.",
  "Put a deadline on every call that touches {a}.",
  "Log one line per request with the {b} id.",
  "Test {a} with the smallest and the largest realistic input.",
  "Write down who owns {b}.",
  "Make the failure of {a} visible to the user, not silent.",
  "Compare two versions of {c} side by side.",
];
const CLOSINGS = [
  "If you tell me more about your {a}, I can be more specific.",
  "Happy to go deeper on {b} if that helps.",
  "That should be enough to get started with {a}.",
  "",
];

const CODE_WORDS = /\b(code|function|typescript|javascript|python|script|program|example|snippet|implement|bug)\b/i;

export interface AnswerOptions {
  seed: number;
  /** Approximate length in tokens; by default it varies with the prompt (about 60–260). */
  targetTokens?: number;
}

export function writeAnswer(prompt: string, options: AnswerOptions): string {
  const random = prng(hash(`${options.seed}:${prompt}`));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const topics = topicsOf(prompt);
  const generic = ["the data", "the interface", "error handling", "the tests", "latency", "the users", "the budget", "the defaults"];
  // {a} is the prompt's main subject; {b} and {c} rotate through its other words, then generic nouns.
  const others = [...topics.slice(1, 4), ...[...generic].sort(() => random() - 0.5)];
  const word = (i: number) => (i === 0 ? (topics[0] ?? "this") : others[(i - 1) % others.length]);
  let cursor = 0;
  const fill = (template: string) =>
    template.replace(/\{([abc])\}/g, (_, slot: string) => (slot === "a" ? word(0) : word(1 + ((cursor * 2 + (slot === "b" ? 0 : 1)) % others.length))));
  // Each sentence template is used at most once per answer, until all have been.
  const deck: string[] = [];
  const nextSentence = () => {
    if (deck.length === 0) deck.push(...[...SENTENCES].sort(() => random() - 0.5));
    return deck.pop()!;
  };

  const wantsShort = /\b(short|brief|one (word|line|sentence)|tl;?dr)\b/i.test(prompt);
  const wantsLong = /\b(long|detailed|essay|in depth|thorough)\b/i.test(prompt);
  const target = options.targetTokens ?? (wantsShort ? 25 : wantsLong ? 500 : 60 + Math.floor(random() * 200));

  const parts: string[] = [fill(pick(OPENINGS))];
  let tokens = approxTokens(parts[0]);
  let paragraph: string[] = [];
  let listDone = false;
  let codeDone = !CODE_WORDS.test(prompt);
  while (tokens < target) {
    cursor++;
    const roll = random();
    if (!codeDone && tokens > target / 3) {
      parts.push(paragraph.join(" "), codeBlock(word(0), topics[1] ?? "item", /\bpython\b/i.test(prompt)));
      paragraph = [];
      codeDone = true;
      tokens += 40;
    } else if (!listDone && roll < 0.12 && tokens > 30) {
      const items = [...LIST_ITEMS].sort(() => random() - 0.5).slice(0, 3 + Math.floor(random() * 3));
      parts.push(paragraph.join(" "), `${pick(LIST_INTROS)}\n\n${items.map((item, i) => `${i + 1}. ${fill(item)}`).join("\n")}`);
      paragraph = [];
      listDone = true;
      tokens += items.length * 12;
    } else {
      const sentence = fill(nextSentence());
      paragraph.push(sentence);
      tokens += approxTokens(sentence);
      if (paragraph.length >= 3 + Math.floor(random() * 2)) {
        parts.push(paragraph.join(" "));
        paragraph = [];
      }
    }
  }
  parts.push(paragraph.join(" "), fill(pick(CLOSINGS)));
  return parts
    .filter((p) => p.trim().length > 0)
    .map((p) => (p.startsWith("```") ? p : capitalizeSentences(p)))
    .join("\n\n");
}

function codeBlock(a: string, b: string, python: boolean): string {
  const name = camel(`handle ${a}`);
  if (python) {
    const snake = name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    return [
      "```python",
      `def ${snake}(text: str) -> list[str]:`,
      `    """${a}: keep the work bounded and easy to test."""`,
      "    parts = [part for part in text.split() if part]",
      `    return [f"${b}:{part}" for part in parts]`,
      "```",
    ].join("\n");
  }
  return [
    "```ts",
    `export async function ${name}(input: string, signal: AbortSignal): Promise<string> {`,
    `  // ${a}: keep the work bounded, and stop when asked.`,
    `  const parts = input.split(/\\s+/).filter(Boolean);`,
    `  if (signal.aborted) throw new Error("stopped");`,
    `  return parts.map((part) => \`${b}:\${part}\`).join(" ");`,
    "}",
    "```",
  ].join("\n");
}

function camel(text: string): string {
  const words = text.replace(/[^\p{L}\p{N} ]/gu, " ").split(/\s+/).filter(Boolean);
  const joined = words.map((w, i) => (i === 0 ? w.toLowerCase() : w[0].toUpperCase() + w.slice(1).toLowerCase())).join("");
  return /^[a-zA-Z_]/.test(joined) ? joined : `handle${joined}`;
}

function capitalizeSentences(text: string): string {
  return text.replace(/(^|[.!?]\s+|\n\n)([a-z])/g, (_, lead: string, c: string) => lead + c.toUpperCase());
}

/** Rough token estimate (about 4 characters a token for English), used for usage numbers. */
export function approxTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** Splits text into token-like pieces (a word with its trailing whitespace) for streaming. */
export function tokenize(text: string): string[] {
  return text.match(/\s*\S+\s*?(?=\s|$)|\s+/g) ?? [];
}
