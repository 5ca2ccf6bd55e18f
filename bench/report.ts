/** What a benchmark returns, and how the run prints it (console table) and writes it (docs/BENCHMARKS.md). */

export type Verdict = "PASS" | "MISS";

export interface Row {
  /** What is measured, e.g. "frames per 500-token answer". */
  metric: string;
  /** The figure for this program. */
  value: string;
  /** The same figure for the baseline, measured in the same run. */
  baseline: string;
  /** The target, when the issue sets one. */
  target?: string;
  verdict?: Verdict;
}

export interface Section {
  name: string;
  title: string;
  /** How it was measured (markdown). */
  method: string;
  /** What the baseline is. */
  baselineLabel: string;
  rows: Row[];
  /** Findings: why a target was missed, anything surprising (markdown, measured). */
  notes: string[];
}

export interface BenchOptions {
  quick: boolean;
  log: (line: string) => void;
}

export type Benchmark = (options: BenchOptions) => Promise<Section>;

export function verdict(ok: boolean): Verdict {
  return ok ? "PASS" : "MISS";
}

export function consoleTable(section: Section): string {
  const header = ["metric", "value", `baseline (${section.baselineLabel})`, "target", ""];
  const rows = section.rows.map((r) => [r.metric, r.value, r.baseline, r.target ?? "", r.verdict ?? ""]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [`== ${section.title}`, line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

export function markdownTable(section: Section): string {
  const escape = (s: string) => s.replace(/\|/g, "\\|");
  const lines = [
    `| metric | value | baseline: ${escape(section.baselineLabel)} | target | |`,
    "| --- | --- | --- | --- | --- |",
    ...section.rows.map((r) => `| ${escape(r.metric)} | ${escape(r.value)} | ${escape(r.baseline)} | ${escape(r.target ?? "")} | ${r.verdict ?? ""} |`),
  ];
  return lines.join("\n");
}
