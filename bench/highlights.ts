/**
 * The README's benchmark highlights, computed from the figures in docs/BENCHMARKS.md (never typed by hand): each
 * sentence reads its numbers from the rows it summarises, and where two benchmarks measure the same thing it quotes
 * the worse figure and names both. `bench/run.ts` refreshes the README after writing the document;
 * `tsx bench/highlights.ts` does it from the document as it stands.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface MeasuredRow {
  section: string;
  metric: string;
  value: string;
  baseline: string;
}

export const BEGIN = "<!-- bench:highlights (written by bench/highlights.ts from docs/BENCHMARKS.md) -->";
export const END = "<!-- /bench:highlights -->";

/** The rows of every section table in the document (the Targets summary repeats them and is skipped). */
export function rowsOfDocument(markdown: string): MeasuredRow[] {
  const rows: MeasuredRow[] = [];
  let section = "";
  for (const line of markdown.split("\n")) {
    if (line.startsWith("## ")) section = line.slice(3).trim();
    if (section === "Targets" || !line.startsWith("| ") || line.startsWith("| metric") || line.startsWith("| ---")) continue;
    const cells = line.slice(2, -2).split(/(?<!\\) \| /).map((c) => c.replace(/\\\|/g, "|").trim());
    if (cells.length >= 3) rows.push({ section, metric: cells[0]!, value: cells[1]!, baseline: cells[2]! });
  }
  return rows;
}

/** "2.72 ms / 5.07 ms" → [2.72, 5.07] in ms (s and µs converted). */
export function durations(text: string): number[] {
  const unit: Record<string, number> = { µs: 0.001, ms: 1, s: 1000 };
  return [...text.matchAll(/(\d+(?:\.\d+)?)\s*(µs|ms|s)\b/g)].map((m) => Number(m[1]) * unit[m[2]!]!);
}

function ms(value: number): string {
  return value >= 100 ? `${Math.round(value)} ms` : `${Number(value.toPrecision(3))} ms`;
}

function find(rows: MeasuredRow[], section: RegExp, metric: RegExp): MeasuredRow | undefined {
  return rows.find((r) => section.test(r.section) && metric.test(r.metric));
}

/** The highlight lines (markdown list items); a figure that was not measured is left out, never invented. */
export function renderHighlights(rows: MeasuredRow[]): string[] {
  const lines: string[] = [];

  const stop = find(rows, /^Stop latency/, /stop sent → model stream closed p50 \/ p99/);
  if (stop) {
    const [p50, p99] = durations(stop.value);
    lines.push(`- **Stop:** the model stream closes ${ms(p50!)} after the stop at the median (p99 ${ms(p99!)}).`);
  }

  const relay = find(rows, /^Pre-model and relay latency/, /^first-chunk relay p50 \/ p99$/);
  const loadOne = find(rows, /^Load/, /^1 chat: first-chunk relay p50 \/ p99$/);
  const firsts = [relay && { where: "relay benchmark", p99: durations(relay.value)[1]! }, loadOne && { where: "load benchmark, 1 chat", p99: durations(loadOne.value)[1]! }].filter(
    (x): x is { where: string; p99: number } => x !== undefined && x !== null && Number.isFinite(x.p99),
  );
  if (firsts.length) {
    const worst = Math.max(...firsts.map((f) => f.p99));
    const each = firsts.map((f) => `${ms(f.p99)} in the ${f.where}`).join(", ");
    const crowded = rows.filter((r) => /^Load/.test(r.section) && /^(\d+) chats: first-chunk relay p50 \/ p99$/.test(r.metric)).at(-1);
    const underLoad = crowded ? `; at ${crowded.metric.split(" chats")[0]} concurrent chats on these 2 cores, ${ms(durations(crowded.value)[1]!)}` : "";
    lines.push(`- **First chunk:** relayed to the client within ${ms(worst)} at p99 with one chat (${each})${underLoad}.`);
  }

  const frames = find(rows, /^Frames/, /^500-token answer: delta frames \(median\)$/);
  const gap = find(rows, /^Frames/, /^500-token answer: inter-frame gap p50 \/ p99$/);
  const cost = find(rows, /^Frames/, /^500-token answers: cost per 1,000/);
  const ratio = frames && /\((\d+(?:\.\d+)?) of baseline\)/.exec(frames.value)?.[1];
  if (frames && ratio) {
    const gapText = gap ? `, with a p99 gap of ${ms(durations(gap.value)[1]!)}` : "";
    const price = (text: string) => /^\$(\d+(?:\.\d+)?)/.exec(text)?.[1];
    const costText = cost && price(cost.value) && price(cost.baseline) ? ` 1,000 answers of 500 tokens cost $${Number(price(cost.value)).toFixed(2)} in all, against $${Number(price(cost.baseline)).toFixed(2)}.` : "";
    lines.push(`- **Frames:** for 500-token answers, coalescing sends ${ratio} of the WebSocket frames that one post per model chunk sends${gapText}.${costText}`);
  }

  const integrity = rows.filter((r) => /^Load/.test(r.section) && /^(\d+) chats?: frames lost or out of order \/ answers corrupted$/.test(r.metric));
  const saved = rows.filter((r) => /^Load/.test(r.section) && /^(\d+) chats?: turns saved \/ finished/.test(r.metric));
  if (integrity.length) {
    const chats = integrity.map((r) => r.metric.split(" ")[0]!);
    const clean = integrity.every((r) => /^0 \/ 0$/.test(r.value));
    const allSaved = saved.every((r) => {
      const [savedCount, finished] = r.value.split(/ \/ | \(/).map(Number);
      return savedCount === finished;
    });
    const list = `${chats.slice(0, -1).join(", ")}${chats.length > 1 ? " and " : ""}${chats.at(-1)} concurrent chat${chats.at(-1) === "1" ? "" : "s"}`;
    lines.push(
      clean && allSaved
        ? `- **Nothing lost:** no frame lost or out of order, and every finished turn saved, at ${list}.`
        : `- **Losses:** frames lost or answers corrupted, or finished turns not saved, at ${list}: see the load table.`,
    );
  }

  const bundles = rows.filter((r) => /^Cold start/.test(r.section) && /: bundle size$/.test(r.metric)).map((r) => Number(/(\d+(?:\.\d+)?) KB/.exec(r.value)?.[1]));
  if (bundles.length && bundles.every(Number.isFinite)) {
    lines.push(`- **Bundles:** every handler is ${Math.round(Math.min(...bundles))}–${Math.round(Math.max(...bundles))} KB.`);
  }
  return lines;
}

/** Replaces the block between the markers in the README; throws if the markers are missing. */
export function withHighlights(readme: string, lines: string[]): string {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${BEGIN} … ${END} block`);
  return `${readme.slice(0, start + BEGIN.length)}\n${lines.join("\n")}\n${readme.slice(end)}`;
}

export function refreshReadme(repo: string): void {
  const doc = readFileSync(join(repo, "docs", "BENCHMARKS.md"), "utf8");
  const readmePath = join(repo, "README.md");
  writeFileSync(readmePath, withHighlights(readFileSync(readmePath, "utf8"), renderHighlights(rowsOfDocument(doc))));
}

if (require.main === module) refreshReadme(join(__dirname, ".."));
