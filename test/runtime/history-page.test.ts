import { expect } from "chai";
import { decodeHistoryCursor, encodeHistoryCursor, HISTORY_MAX_BYTES } from "../../runtime/chat/history-page";
import { cutToJsonBytes } from "../../runtime/chat/json-bytes";
import type { HistoryFrameOut, TurnRecord } from "../../runtime/protocol";
import { createWorld, endTurn, send, text, type World } from "./world";

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value), "utf8");

/** Reads a whole session through `history`, page by page, as the page does; returns every frame. */
async function readAll(w: World, connectionId: string, sessionId: string): Promise<HistoryFrameOut[]> {
  const pages: HistoryFrameOut[] = [];
  let cursor: string | undefined;
  do {
    const before = w.sender.of("history", connectionId).length;
    await w.frame(connectionId, { action: "history", sessionId, ...(cursor !== undefined ? { cursor } : {}) });
    const answers = w.sender.of("history", connectionId);
    expect(answers, "one history answer per request").to.have.length(before + 1);
    const page = answers[before]!;
    pages.push(page);
    cursor = page.cursor;
    expect(pages.length, "paging ends").to.be.below(100);
  } while (cursor !== undefined);
  return pages;
}

/** Joins the parts of split turns back into whole records, checking that the parts follow each other. */
function joinParts(pages: HistoryFrameOut[]): TurnRecord[] {
  const out: TurnRecord[] = [];
  for (const record of pages.flatMap((p) => p.turns)) {
    const last = out[out.length - 1];
    if (record.textOffset !== undefined && record.textOffset > 0) {
      expect(last?.turnId, "a continuation follows its turn").to.equal(record.turnId);
      expect(last!.text.length, "a continuation starts where the text stopped").to.equal(record.textOffset);
      out[out.length - 1] = { ...last!, text: last!.text + record.text, partial: record.partial };
      continue;
    }
    out.push(record);
  }
  return out;
}

async function sessionOf(w: World, connectionId: string, questions: string[]): Promise<string> {
  await w.frame(connectionId, send(questions[0]!));
  const sessionId = w.sender.of("turn.started")[0]!.sessionId;
  await w.runJobs();
  for (let i = 1; i < questions.length; i++) {
    await w.frame(connectionId, send(questions[i]!, { sessionId }));
    await w.runJobs();
  }
  return sessionId;
}

describe("runtime/chat/history-page: every history answer fits one API Gateway message", () => {
  it("pages by size as well as count: 50 exchanges of ~2.6 KB answers", async () => {
    const answer = "A fairly long answer line that repeats. ".repeat(65); // ~2.6 KB
    const w = createWorld({ scripts: [[text(answer), ...endTurn]], messagesPerMinute: 1000 });
    const c = await w.connect("c1", "alice");
    const questions = Array.from({ length: 50 }, (_, i) => `q${i} ${answer}`);
    const sessionId = await sessionOf(w, c, questions);
    const pages = await readAll(w, c, sessionId);
    expect(pages.length, "more pages than the count limit alone would make").to.be.greaterThan(2);
    for (const page of pages) expect(jsonBytes(page)).to.be.at.most(HISTORY_MAX_BYTES);
    const turns = joinParts(pages);
    expect(turns).to.have.length(100);
    expect(turns.filter((t) => t.role === "assistant").every((t) => t.text === answer)).to.equal(true);
    expect(turns.filter((t) => t.role === "user").map((t) => t.text)).to.deep.equal(questions);
    expect(turns.some((t) => t.partial || t.textOffset !== undefined), "whole turns only").to.equal(false);
  });

  it("splits a turn too long for any message into parts on consecutive pages, losing nothing", async () => {
    // 64,000 output tokens can be far more than 128 KB; this mixes what JSON escapes and what UTF-8 widens.
    const unit = 'Line "one" \\ tab\there\n漢字かな 😀👍🏽 \u0001 café — ';
    const long = unit.repeat(Math.ceil(400_000 / unit.length));
    const chunks = long.match(/[\s\S]{1,4000}/gu)!;
    const w = createWorld({ scripts: [[text("short first answer"), ...endTurn], [...chunks.map(text), ...endTurn], [text("after"), ...endTurn]], messagesPerMinute: 1000 });
    const c = await w.connect("c1", "alice");
    const sessionId = await sessionOf(w, c, ["q0", "q1", "q2"]);
    const pages = await readAll(w, c, sessionId);
    for (const page of pages) expect(jsonBytes(page)).to.be.at.most(HISTORY_MAX_BYTES);
    expect(pages.length).to.be.greaterThan(4);
    const parts = pages.flatMap((p) => p.turns).filter((t) => t.textOffset !== undefined);
    expect(parts.length, "the long answer comes in parts").to.be.greaterThan(3);
    expect(new Set(parts.map((p) => p.turnId)).size, "only the long answer is split").to.equal(1);
    expect(parts.slice(0, -1).every((p) => p.partial === true), "every part but the last is partial").to.equal(true);
    expect(parts[parts.length - 1]!.partial).to.equal(undefined);
    const turns = joinParts(pages);
    expect(turns.map((t) => t.text)).to.deep.equal(["q0", "short first answer", "q1", long, "q2", "after"]);
  });

  it("cuts JSON text by its encoded bytes and never splits a surrogate pair", () => {
    expect(cutToJsonBytes("abcdef", 4)).to.equal(4);
    expect(cutToJsonBytes('a"b', 2)).to.equal(1); // \" takes 2 bytes
    expect(cutToJsonBytes("\u0001x", 6)).to.equal(1); // \u0001 takes 6
    expect(cutToJsonBytes("漢字", 5)).to.equal(1);
    expect(cutToJsonBytes("😀😀", 7)).to.equal(2);
    expect(cutToJsonBytes("😀", 1), "at least one character, whole").to.equal(2);
    for (const sample of ["😀 \n\"漢\\", "\ud800 lone", "plain"]) {
      for (let budget = 6; budget < 30; budget++) {
        const end = cutToJsonBytes(sample, budget);
        expect(jsonBytes(sample.slice(0, end)) - 2, `${sample} in ${budget}`).to.be.at.most(budget);
        if (end < sample.length) expect(jsonBytes(sample.slice(0, end + 1)) - 2, "the longest that fits").to.be.greaterThan(budget);
        expect(/[\ud800-\udbff]$/.test(sample.slice(0, end)) && /^[\udc00-\udfff]/.test(sample.slice(end)), "pair split").to.equal(false);
      }
    }
  });

  it("refuses a cursor it did not write", () => {
    expect(decodeHistoryCursor(encodeHistoryCursor({ storeCursor: "s", turnId: "t", offset: 5 }))).to.deep.equal({ storeCursor: "s", turnId: "t", offset: 5 });
    expect(decodeHistoryCursor(encodeHistoryCursor({}))).to.deep.equal({});
    for (const bad of ["forged", Buffer.from('{"t":"x"}').toString("base64url"), Buffer.from('{"t":"x","o":-1}').toString("base64url"), Buffer.from("[1]").toString("base64url"), Buffer.from('{"s":3}').toString("base64url")]) {
      expect(decodeHistoryCursor(bad), bad).to.equal(undefined);
    }
  });
});
