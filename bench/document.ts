/** Renders docs/BENCHMARKS.md from one run: command, machine, date, then each benchmark's method, table and notes. */
import type { Machine } from "./machine";
import { markdownTable, type Section } from "./report";

export interface DocumentInput {
  sections: Section[];
  machine: Machine;
  started: Date;
  command: string;
  quick: boolean;
}

const WHY_IN_PROCESS = [
  "The benchmarks start the local stack (`runtime/local/stack.ts` → `startLocalStack`) **in the benchmark's own process**, and",
  "their WebSocket clients run there too. That is a choice for truthful timing: every timestamp — the client's send, the",
  "Bedrock emulator's receipt of a request, each chunk it writes, the moment its stream closes, the client's receipt of each",
  "frame — is read from one monotonic clock (`performance.now()`), so no cross-process clock offset enters a latency. The",
  "emulator is observed, not changed: the benchmark turns the `text` and `closedAt` fields of its request records into",
  "accessors (bench/harness.ts). The cost of that choice is that the clients, the gateway emulator, the handlers, the Bedrock",
  "emulator and dynalite share one event loop on this machine's cores, where in AWS they are separate machines; the",
  "latencies are therefore upper bounds for the runtime's own share, and they grow with load for reasons AWS would not have.",
  "DynamoDB is dynalite in memory (pure Node, in this process) unless the command says `--dynamo dynamodb-local` (Amazon's",
  "DynamoDB Local in its own JVM process); either way store calls are loopback HTTP through the unchanged AWS SDK client.",
].join("\n");

const RELIABILITY = [
  "`test/reliability/` runs in `npm test` on the same local stack (DynamoDB Local there) with the real handlers and SDK",
  "clients: a seeded fuzz of bad frames (random JSON, unknown actions, wrong types, text over the limit, truncated JSON,",
  "lone surrogates, binary frames; invalid UTF-8 and oversized frames close only their own connection); the token matrix",
  "(expired, forged, wrong client, wrong use, wrong issuer, alg none, garbage, empty, missing: refused at the handshake,",
  "nothing stored); and fault injection — client drop mid-stream, 429 and 5xx before the stream, throttling and model",
  "stream errors during it, DynamoDB unavailable mid-stream, at send and when the turn is saved, a shrunken integration",
  "timeout, a worker killed",
  "mid-turn (SIGKILL of its own process; recovered by the runtime's stale-turn rule, then `regenerate`) — each followed by",
  "one invariant checker: no lost turn, none left `streaming`, history equal to what was streamed, deltas in seq order",
  "without gaps, exactly one end per turn, one turn per message.",
].join("\n");

/**
 * A partial run (`--only`) written into the published document: each measured section replaces the section of the
 * same title, headed by the line that says how and when it was measured, and its rows replace its rows in the
 * Targets table; every other section stays as the full run wrote it. A section the document lacks is added before
 * the reliability section.
 */
export function mergeSections(existing: string, input: DocumentInput): string {
  const { machine: m } = input;
  let doc = existing.trimEnd() + "\n";
  for (const section of input.sections) {
    const provenance =
      `_This section: \`${input.command}\`${input.quick ? " (quick run)" : ""}, ${input.started.toISOString()}, ${m.cpu}, ${m.cores} cores, ` +
      `Node ${m.node}, load average ${m.loadAverage.map((l) => l.toFixed(2)).join(" / ")}; the other sections are from the command above._`;
    const block = [`## ${section.title}`, "", provenance, "", section.method, "", markdownTable(section), "", ...(section.notes.length ? ["Findings:", "", ...section.notes.map((n) => `- ${n}`), ""] : [])].join("\n");
    const heading = `\n## ${section.title}\n`;
    const at = doc.indexOf(heading);
    if (at >= 0) {
      const next = doc.indexOf("\n## ", at + heading.length - 1);
      doc = `${doc.slice(0, at + 1)}${block}${next >= 0 ? doc.slice(next) : "\n"}`;
    } else {
      const reliability = doc.indexOf("\n## Reliability");
      doc = reliability >= 0 ? `${doc.slice(0, reliability + 1)}${block}${doc.slice(reliability)}` : `${doc}\n${block}`;
    }
    const targets = section.rows.filter((r) => r.verdict).map((r) => `| ${section.title} | ${r.metric} | ${r.value} | ${r.target ?? ""} | ${r.verdict} |`);
    const lines = doc.split("\n");
    const own = lines.flatMap((line, i) => (line.startsWith(`| ${section.title} | `) ? [i] : []));
    if (own.length > 0) lines.splice(own[0]!, own.length, ...targets);
    else {
      const header = lines.indexOf("| benchmark | metric | value | target | |");
      let end = header + 2;
      while (header >= 0 && lines[end]?.startsWith("| ")) end++;
      if (header >= 0) lines.splice(end, 0, ...targets);
    }
    doc = lines.join("\n");
  }
  return doc;
}

export function renderDocument(input: DocumentInput): string {
  const { machine: m } = input;
  const targets = input.sections.flatMap((s) => s.rows.filter((r) => r.verdict).map((r) => ({ section: s.title, row: r })));
  const lines: string[] = [
    "# Benchmarks",
    "",
    "Speed, frames and cost of the streaming chat, measured on the local stack with the unchanged runtime handlers.",
    "Every figure stands beside its baseline, measured in the same run. Written by `bench/run.ts`; do not edit by hand.",
    "",
    `- Command: \`${input.command}\`${input.quick ? " (quick run: fewer samples, the 2,000-token answers skipped)" : ""}`,
    `- Date: ${input.started.toISOString()}`,
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.ramGb} GB RAM, ${m.platform}, Node ${m.node}`,
    `- Load average (1 min) at start / end: ${m.loadAverage.map((l) => l.toFixed(2)).join(" / ")} — other work shared these cores during the run.`,
    "- Percentiles are nearest-rank over all samples of a row; p99 of fewer than 100 samples is close to the maximum.",
    "",
    "## How it runs",
    "",
    WHY_IN_PROCESS,
    "",
    "## Targets",
    "",
    "| benchmark | metric | value | target | |",
    "| --- | --- | --- | --- | --- |",
    ...targets.map(({ section, row }) => `| ${section} | ${row.metric} | ${row.value} | ${row.target ?? ""} | ${row.verdict} |`),
    "",
  ];
  for (const section of input.sections) {
    lines.push(`## ${section.title}`, "", section.method, "", markdownTable(section), "");
    if (section.notes.length) {
      lines.push("Findings:", "", ...section.notes.map((n) => `- ${n}`), "");
    }
  }
  lines.push("## Reliability (checked by tests, not timed)", "", RELIABILITY, "");
  return `${lines.join("\n").trimEnd()}\n`;
}
