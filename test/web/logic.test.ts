/** The web client's pure logic (no DOM): delta ordering, reconnect delays, streaming-markdown blocks, announcements. */
import { expect } from "chai";
import { DeltaSequencer } from "../../web/src/chat/sequencer";
import { describeError } from "../../web/src/chat/errors";
import { statusFromStopReason, turnsFromHistory } from "../../web/src/chat/turns";
import { validateConfig } from "../../web/src/config-validate";
import { backoffDelay, nextRegionIndex } from "../../web/src/net/backoff";
import { AnnounceBatcher, plainText } from "../../web/src/ui/announce-batcher";
import { stableBoundary } from "../../web/src/ui/markdown-blocks";
import type { TurnRecord } from "../../runtime/protocol";

describe("web client logic", () => {
  describe("DeltaSequencer", () => {
    it("appends frames in seq order, drops duplicates, holds early frames until the gap closes", () => {
      const seq = new DeltaSequencer();
      expect(seq.accept({ seq: 0, text: "a" })).to.deep.equal({ kind: "append", text: "a" });
      expect(seq.accept({ seq: 0, text: "a" })).to.deep.equal({ kind: "duplicate" });
      expect(seq.accept({ seq: 2, text: "c" })).to.deep.equal({ kind: "held", missingFrom: 1 });
      expect(seq.accept({ seq: 3, text: "d" })).to.deep.equal({ kind: "held", missingFrom: 1 });
      expect(seq.accept({ seq: 2, text: "c" })).to.deep.equal({ kind: "duplicate" });
      expect(seq.hasGap).to.equal(true);
      expect(seq.accept({ seq: 1, text: "b" })).to.deep.equal({ kind: "append", text: "bcd" });
      expect(seq.hasGap).to.equal(false);
      expect(seq.expected).to.equal(4);
      expect(seq.accept({ seq: 1.5, text: "?" })).to.deep.equal({ kind: "duplicate" });
    });
  });

  describe("reconnect timing and failover", () => {
    it("backs off exponentially up to the cap, with full jitter and a floor", () => {
      const options = { baseMs: 500, capMs: 8000 };
      expect(backoffDelay(0, options, () => 0.999)).to.equal(499);
      expect(backoffDelay(3, options, () => 0.999)).to.equal(3996);
      expect(backoffDelay(10, options, () => 0.999)).to.equal(7992);
      expect(backoffDelay(10, options, () => 0)).to.equal(50);
      const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(4, options)));
      expect(spread.size).to.be.greaterThan(10);
    });

    it("retries an opened region after a drop, and moves on from a region that cannot be reached", () => {
      expect(nextRegionIndex(0, 3, true)).to.equal(0);
      expect(nextRegionIndex(0, 3, false)).to.equal(1);
      expect(nextRegionIndex(2, 3, false)).to.equal(0);
      expect(nextRegionIndex(0, 1, false)).to.equal(0);
    });
  });

  describe("stableBoundary (what streamed markdown can freeze)", () => {
    it("cuts after a blank line followed by a new top-level block, never inside a fence or before an indented line", () => {
      const text = "Intro paragraph.\n\n- item\n\n  continued\n\n```js\nconst a = 1;\n\nconst b = 2;\n```\n\nLast";
      const cut = stableBoundary(text);
      expect(text.slice(cut)).to.equal("Last");
      expect(stableBoundary("one\n\n```\ncode\n\nmore code")).to.equal("one\n\n".length);
      expect(stableBoundary("one\n\n  indented")).to.equal(0);
      expect(stableBoundary("one\n\ntw")).to.equal("one\n\n".length);
      expect(stableBoundary("one\n\n")).to.equal(0);
      expect(stableBoundary("one\n\ntwo\n")).to.equal("one\n\n".length);
    });
  });

  describe("screen-reader announcements", () => {
    it("releases whole sentences in batches no more often than the interval, and the rest at the end", () => {
      const batcher = new AnnounceBatcher(1000, 20);
      expect(batcher.push("The first sentence is long enough. The sec", 0)).to.equal("The first sentence is long enough.");
      expect(batcher.push("ond sentence ends here. ", 500)).to.equal(null);
      expect(batcher.push("Third **bold** one. ", 1600)).to.equal("The second sentence ends here. Third bold one.");
      expect(batcher.push("Trailing words", 1700)).to.equal(null);
      expect(batcher.flush()).to.equal("Trailing words");
    });

    it("reads markdown as words", () => {
      expect(plainText("## Title\n\n**bold** and `code` with [a link](https://x.example) and ![img](y.png)")).to.equal("Title bold and code with a link and img");
    });
  });

  describe("history into the conversation", () => {
    const at = "2026-01-01T00:00:00Z";
    const record = (turnId: string, role: "user" | "assistant", text: string, parentTurnId?: string): TurnRecord => ({
      turnId,
      sessionId: "s1",
      role,
      text,
      status: "complete",
      createdAt: at,
      updatedAt: at,
      ...(parentTurnId ? { parentTurnId } : {}),
    });

    it("orders turns by id whatever the page order, and shows only the latest of regenerated answers", () => {
      const views = turnsFromHistory([record("t3", "assistant", "second try", "t1"), record("t1", "user", "question"), record("t2", "assistant", "first try", "t1"), record("t4", "user", "next")]);
      expect(views.map((v) => [v.turnId, v.text, v.version?.index, v.version?.count])).to.deep.equal([
        ["t1", "question", undefined, undefined],
        ["t3", "second try", 2, 2],
        ["t4", "next", undefined, undefined],
      ]);
      const chosen = turnsFromHistory([record("t3", "assistant", "second try", "t1"), record("t1", "user", "question"), record("t2", "assistant", "first try", "t1")], new Map([["t1", 1]]));
      expect(chosen.map((v) => [v.turnId, v.version?.index, v.version?.count, v.version?.latestTurnId])).to.deep.equal([
        ["t1", undefined, undefined, undefined],
        ["t2", 1, 2, "t3"],
      ]);
      expect(turnsFromHistory([record("t1", "user", "question"), record("t2", "assistant", "orphan", "t0")]).map((v) => v.turnId)).to.deep.equal(["t1"], "an answer to a message no longer shown (edited)");
    });

    it("maps stop reasons to turn statuses", () => {
      expect(["end_turn", "max_tokens", "stopped", "guardrail", "error"].map((r) => statusFromStopReason(r as never))).to.deep.equal([
        "complete",
        "complete",
        "stopped",
        "guardrail",
        "error",
      ]);
    });
  });

  it("says server errors in words, with the server's detail when it adds any", () => {
    expect(describeError({ code: "rate_limited", message: "" })).to.equal("You are sending messages too quickly. Wait a moment and try again.");
    expect(describeError({ code: "busy", message: "one answer at a time" })).to.equal(
      "An answer is already being generated. Wait for it or stop it. (one answer at a time)",
    );
  });

  it("refuses a config.json that would leave the page without endpoints or sign-in, naming the field", () => {
    expect(() => validateConfig({ regions: [], auth: { mode: "local", tokenUrl: "/t" } })).to.throw(/regions/);
    expect(() => validateConfig({ regions: [{ region: "r", url: "https://x" }], auth: { mode: "local", tokenUrl: "/t" } })).to.throw(/ws:\/\//);
    expect(() => validateConfig({ regions: [{ region: "r", url: "wss://x" }], auth: { mode: "cognito", authority: "a" } })).to.throw(/auth\.clientId/);
    expect(() => validateConfig({ regions: [{ region: "r", url: "wss://x" }], auth: { mode: "magic" } })).to.throw(/auth\.mode/);
    const config = validateConfig({ regions: [{ region: "r", url: "wss://x" }], auth: { mode: "local", tokenUrl: "/t" }, modelLabel: "m" });
    expect(config).to.deep.equal({ regions: [{ region: "r", url: "wss://x" }], auth: { mode: "local", tokenUrl: "/t" }, modelLabel: "m", emulator: false });
  });
});
