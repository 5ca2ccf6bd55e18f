/** The benchmark document's sentences follow its figures: the wording is computed, so it is tested on figures. */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { durations, renderHighlights, rowsOfDocument, withHighlights, BEGIN, END, type MeasuredRow } from "../../bench/highlights";
import { callsInSequence, coveredTime, storeTimeNote } from "../../bench/latency";

const where = (over: Partial<Parameters<typeof storeTimeNote>[0]["where"]>) => ({
  text: "",
  dynamoCalls: 10,
  sequence: 4,
  dynamoMs: 60,
  coveredMs: 30,
  overlap: 2,
  perCallMs: 3,
  ...over,
});

describe("bench: findings worded from the figures", () => {
  it("measures the wall time a set of calls covers, counting overlaps once", () => {
    expect(coveredTime([])).to.equal(0);
    expect(coveredTime([{ startedAt: 20, endedAt: 25 }, { startedAt: 0, endedAt: 10 }, { startedAt: 5, endedAt: 15 }, { startedAt: 6, endedAt: 7 }])).to.equal(20);
  });

  it("counts the calls that stand in sequence: the longest chain of calls each starting after the previous one ended", () => {
    expect(callsInSequence([])).to.equal(0);
    const call = (startedAt: number, endedAt: number) => ({ startedAt, endedAt });
    // Four at once, then one, then two at once, then one: four round trips.
    const send = [call(0, 5), call(0.2, 6), call(0.3, 4), call(0.4, 5.5), call(6.5, 8), call(9, 11), call(9.1, 12), call(12.5, 20)];
    expect(callsInSequence(send)).to.equal(4);
    expect(callsInSequence([call(0, 10), call(1, 2), call(3, 4), call(5, 6)])).to.equal(3);
  });

  it("says the store calls overlapped when their sum exceeds the time they cover, and ran in sequence only when it does not", () => {
    const base = { turns: 100, preModelP50: 32.8, freshP50: 27, pingP50: 0.96, targetMs: 15 };
    const overlapping = storeTimeNote({ ...base, where: where({ dynamoMs: 63.8, coveredMs: 31, overlap: 2.06, perCallMs: 2.9 }) });
    expect(overlapping).to.match(/overlapped \(about 2\.1 at once/);
    expect(overlapping).to.not.match(/one after another/);
    expect(overlapping).to.include("95% of the pre-model interval");
    const sequential = storeTimeNote({ ...base, where: where({ dynamoMs: 28, coveredMs: 27.5, overlap: 1.02, perCallMs: 2.8 }) });
    expect(sequential).to.match(/ran one after another/);
    // 27.5 ms deep at 2.8 ms a call ≈ 9.8 calls; at 3 ms each on AWS ≈ 29 ms: over the 15 ms target.
    expect(sequential).to.match(/about 9\.8 deep/).and.match(/about 29\.\d ms on AWS, more than the 15\.0 ms target/);
    const shallow = storeTimeNote({ ...base, where: where({ coveredMs: 6, overlap: 3, perCallMs: 3 }) });
    expect(shallow).to.match(/less than the 15\.0 ms target/).and.not.match(/TransactWriteItems/);
  });
});

describe("bench: README highlights computed from docs/BENCHMARKS.md", () => {
  const row = (section: string, metric: string, value: string, baseline = ""): MeasuredRow => ({ section, metric, value, baseline });

  it("reads durations in any unit", () => {
    expect(durations("2.72 ms / 5.07 ms")).to.deep.equal([2.72, 5.07]);
    expect(durations("1.5 s / 800 µs")).to.deep.equal([1500, 0.8]);
  });

  it("quotes the worse of two first-chunk p99s and names both, and the crowded figure beside them", () => {
    const lines = renderHighlights([
      row("Pre-model and relay latency (1 chat)", "first-chunk relay p50 / p99", "2.72 ms / 5.07 ms"),
      row("Load: concurrent chats", "1 chat: first-chunk relay p50 / p99", "3.42 ms / 7.50 ms"),
      row("Load: concurrent chats", "200 chats: first-chunk relay p50 / p99", "235 ms / 404 ms"),
    ]);
    expect(lines).to.deep.equal([
      "- **First chunk:** relayed to the client within 7.5 ms at p99 with one chat (5.07 ms in the relay benchmark, 7.5 ms in the load benchmark, 1 chat); at 200 concurrent chats on these 2 cores, 404 ms.",
    ]);
  });

  it("says 'nothing lost' only when every load row shows no loss and every finished turn saved", () => {
    const clean = [row("Load: concurrent chats", "1 chat: frames lost or out of order / answers corrupted", "0 / 0"), row("Load: concurrent chats", "1 chat: turns saved / finished (failed sends)", "12 / 12 (0)")];
    expect(renderHighlights(clean)[0]).to.match(/Nothing lost.*at 1 concurrent chat\.$/);
    const lossy = [...clean, row("Load: concurrent chats", "50 chats: frames lost or out of order / answers corrupted", "2 / 0")];
    expect(renderHighlights(lossy)[0]).to.match(/^- \*\*Losses:\*\*/);
    const unsaved = [...clean, row("Load: concurrent chats", "50 chats: turns saved / finished (failed sends)", "299 / 301 (0)")];
    expect(renderHighlights(unsaved)[0]).to.match(/^- \*\*Losses:\*\*/);
  });

  it("the README's block is what the published document computes to", () => {
    const repo = join(__dirname, "..", "..");
    const rows = rowsOfDocument(readFileSync(join(repo, "docs", "BENCHMARKS.md"), "utf8"));
    expect(rows.length).to.be.greaterThan(10);
    expect(rows.map((r) => r.section)).to.not.include("Targets");
    const readme = readFileSync(join(repo, "README.md"), "utf8");
    expect(withHighlights(readme, renderHighlights(rows)), "README highlights are stale: run `npx tsx bench/highlights.ts`").to.equal(readme);
    expect(readme.indexOf(BEGIN)).to.be.lessThan(readme.indexOf(END));
  });
});
