/** A partial benchmark run updates its own sections of the published document and leaves the others as they were. */
import { expect } from "chai";
import { mergeSections, renderDocument, type DocumentInput } from "../../bench/document";
import { rowsOfDocument } from "../../bench/highlights";
import type { Section } from "../../bench/report";

const machine = { cpu: "CPU", cores: 2, ramGb: 4, node: "v22", platform: "Linux", loadAverage: [1, 2] };
const section = (title: string, value: string, verdict: "PASS" | "MISS" = "PASS"): Section => ({
  name: title.toLowerCase(),
  title,
  method: `How ${title} is measured.`,
  baselineLabel: "base",
  rows: [
    { metric: `${title} speed`, value, baseline: "b", target: "≤ 1", verdict },
    { metric: `${title} count`, value: "3", baseline: "2" },
  ],
  notes: [`${title} note ${value}`],
});
const input = (sections: Section[], command: string): DocumentInput => ({ sections, machine, started: new Date("2026-12-04T00:00:00Z"), command, quick: false });

describe("bench: a partial run merged into the published document", () => {
  const full = renderDocument(input([section("Alpha", "1 ms"), section("Beta", "2 ms"), section("Gamma", "3 ms")], "npm run bench"));

  it("replaces only the measured section and its Targets rows, and says how and when that section was measured", () => {
    const merged = mergeSections(full, input([section("Beta", "9 ms", "MISS")], "npm run bench -- --only beta"));
    const rows = rowsOfDocument(merged);
    expect(rows.map((r) => [r.section, r.metric, r.value])).to.deep.equal([
      ["Alpha", "Alpha speed", "1 ms"],
      ["Alpha", "Alpha count", "3"],
      ["Beta", "Beta speed", "9 ms"],
      ["Beta", "Beta count", "3"],
      ["Gamma", "Gamma speed", "3 ms"],
      ["Gamma", "Gamma count", "3"],
    ]);
    expect(merged).to.include("| Beta | Beta speed | 9 ms | ≤ 1 | MISS |").and.not.include("| Beta | Beta speed | 2 ms");
    expect(merged).to.include("| Alpha | Alpha speed | 1 ms | ≤ 1 | PASS |");
    expect(merged).to.include("- Beta note 9 ms").and.not.include("Beta note 2 ms");
    expect(merged).to.include("_This section: `npm run bench -- --only beta`, 2026-12-04T00:00:00.000Z");
    expect(merged).to.include("- Command: `npm run bench`");
    expect(merged.indexOf("## Beta")).to.be.lessThan(merged.indexOf("## Gamma"));
    expect(merged.trimEnd().endsWith("without gaps, exactly one end per turn, one turn per message.")).to.equal(true);
    // Merging the same run again changes nothing.
    expect(mergeSections(merged, input([section("Beta", "9 ms", "MISS")], "npm run bench -- --only beta"))).to.equal(merged);
  });

  it("adds a section the document lacks before the reliability section, with its Targets rows", () => {
    const merged = mergeSections(full, input([section("Delta", "4 ms")], "npm run bench -- --only delta"));
    expect(rowsOfDocument(merged).map((r) => r.section)).to.deep.equal(["Alpha", "Alpha", "Beta", "Beta", "Gamma", "Gamma", "Delta", "Delta"]);
    expect(merged.indexOf("## Delta")).to.be.lessThan(merged.indexOf("## Reliability"));
    expect(merged).to.include("| Delta | Delta speed | 4 ms | ≤ 1 | PASS |");
  });
});
