/**
 * The Markdown blocks the local model mixes into its answers — a table, bullet and numbered lists, a quote, links,
 * code in several languages — so that every part of the page's renderer can be tried locally. Each builder is
 * pure: the caller passes its random source and the prompt's words.
 */

export type Pick = <T>(items: readonly T[]) => T;

/** Languages the page highlights, as a prompt may name them, and the fence tag the answer uses. */
const LANGUAGES: [RegExp, string][] = [
  [/\bpython\b/i, "python"],
  [/\b(typescript|ts)\b/i, "ts"],
  [/\b(javascript|js|node(\.js)?)\b/i, "js"],
  [/\b(bash|shell|sh|terminal|command line)\b/i, "bash"],
  [/\b(sql|query|postgres|mysql)\b/i, "sql"],
  [/\b(go|golang)\b/i, "go"],
  [/\brust\b/i, "rust"],
  [/\bjson\b/i, "json"],
  [/\byaml\b/i, "yaml"],
];

/** The languages a prompt names, in the order of the list above. */
export function languagesIn(prompt: string): string[] {
  return LANGUAGES.filter(([pattern]) => pattern.test(prompt)).map(([, tag]) => tag);
}

function camel(text: string): string {
  const words = text.replace(/[^\p{L}\p{N} ]/gu, " ").split(/\s+/).filter(Boolean);
  const joined = words.map((w, i) => (i === 0 ? w.toLowerCase() : w[0].toUpperCase() + w.slice(1).toLowerCase())).join("");
  return /^[a-zA-Z_]/.test(joined) ? joined : `handle${joined}`;
}

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export function codeBlock(language: string, topic: string, label: string): string {
  const name = camel(`handle ${topic}`);
  const lines: Record<string, string[]> = {
    python: [
      `def ${snake(name)}(text: str) -> list[str]:`,
      `    """Split the input for ${topic}, keeping the work bounded and easy to test."""`,
      "    parts = [part for part in text.split() if part]",
      `    return [f"${label}:{part}" for part in parts]`,
    ],
    ts: [
      `export async function ${name}(input: string, signal: AbortSignal): Promise<string> {`,
      `  // Keep the work bounded, and stop when asked.`,
      `  const parts = input.split(/\\s+/).filter(Boolean);`,
      `  if (signal.aborted) throw new Error("stopped");`,
      `  return parts.map((part) => \`${label}:\${part}\`).join(" ");`,
      "}",
    ],
    js: [`export function ${name}(items) {`, `  const seen = new Set();`, `  return items.filter((item) => !seen.has(item) && seen.add(item));`, "}"],
    bash: [`# Try it locally, then look at the log.`, `npm start &`, `curl -s "http://127.0.0.1:8080/local/token?user=${label}" | jq .token`],
    sql: [`SELECT ${label}, COUNT(*) AS total`, `FROM events`, `WHERE created_at > NOW() - INTERVAL '1 day'`, `GROUP BY ${label}`, `ORDER BY total DESC;`],
    go: [`func ${name[0].toUpperCase()}${name.slice(1)}(input string) []string {`, `\treturn strings.Fields(input)`, "}"],
    rust: [`fn ${snake(name)}(input: &str) -> Vec<&str> {`, `    input.split_whitespace().collect()`, "}"],
    json: [`{`, `  "name": "${label}",`, `  "retries": 3,`, `  "timeoutMs": 2000`, `}`],
    yaml: [`${label}:`, `  retries: 3`, `  timeoutMs: 2000`, `  enabled: true`],
  };
  return ["```" + language, ...(lines[language] ?? lines.ts), "```"].join("\n");
}

/** A comparison table: the prompt's two compared things as columns when it names them ("X vs Y"), else options. */
export function table(pick: Pick, subjects: string[]): string {
  const rows = ["Setup effort", "Cost at low traffic", "Behaviour under load", "Failure handling", "Testing locally"];
  const cells = ["Low", "Moderate", "High", "Predictable", "Needs care", "Built in", "Manual", "Cheap", "Scales well", "Simple"];
  const [first, second] = subjects.length >= 2 ? subjects : [subjects[0] ?? "Option A", "Option B"];
  const header = `| Aspect | ${title(first)} | ${title(second)} |\n| --- | --- | --- |`;
  const chosen = rows.slice(0, pick([3, 4, 5]));
  return [header, ...chosen.map((row) => `| ${row} | ${pick(cells)} | ${pick(cells)} |`)].join("\n");
}

export function bulletList(pick: Pick, items: string[], count: number): string {
  return shuffled(pick, items).slice(0, count).map((item) => `- ${item}`).join("\n");
}

export function numberedList(pick: Pick, items: string[], count: number): string {
  return shuffled(pick, items).slice(0, count).map((item, i) => `${i + 1}. ${item}`).join("\n");
}

const QUOTES = [
  ["Make it work, make it right, make it fast.", "Kent Beck"],
  ["Simple things should be simple, complex things should be possible.", "Alan Kay"],
  ["Premature optimization is the root of all evil.", "Donald Knuth"],
  ["Everything fails, all the time.", "Werner Vogels"],
  ["The best way to get a project done faster is to start sooner.", "Jim Highsmith"],
];

export function quote(pick: Pick): string {
  const [words, who] = pick(QUOTES);
  return `> ${words}\n>\n> — ${who}`;
}

/** Links to real search pages (never invented documents), so a click lands somewhere true. */
export function links(topic: string): string {
  const q = encodeURIComponent(topic);
  return [
    `- [MDN Web Docs on ${topic}](https://developer.mozilla.org/en-US/search?q=${q})`,
    `- [AWS documentation on ${topic}](https://docs.aws.amazon.com/search/doc-search.html?searchQuery=${q})`,
    `- [Wikipedia on ${topic}](https://en.wikipedia.org/w/index.php?search=${q})`,
  ].join("\n");
}

export function title(word: string): string {
  return word.length === 0 ? word : word[0].toUpperCase() + word.slice(1);
}

function shuffled<T>(pick: Pick, items: readonly T[]): T[] {
  const rest = [...items];
  const out: T[] = [];
  while (rest.length > 0) {
    const item = pick(rest);
    out.push(item);
    rest.splice(rest.indexOf(item), 1);
  }
  return out;
}
