/**
 * Per-user budgets (answers at once across connections, tokens a UTC day), the `usage` action, the operator's kill
 * switch and the per-connection frame budget, against the in-memory fakes.
 */
import { expect } from "chai";
import { estimateTokens } from "../../runtime/chat/context";
import { FrameBudget } from "../../runtime/chat/frame-budget";
import { CachedOperatorSwitch } from "../../runtime/chat/operator-switch";
import { QUIET_STREAMING_MS } from "../../runtime/chat/quotas";
import { dayKey, nextUtcMidnight } from "../../runtime/chat/windows";
import type { ModelStep } from "./fakes";
import { ManualClock, MemoryOperatorSwitch, RecordingLog } from "./fakes";
import { createWorld, endTurn, send, text, type World } from "./world";

const hang: ModelStep = { type: "hang" };

async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function errorsOf(w: World, connectionId?: string) {
  return w.sender.of("error", connectionId);
}

describe("runtime/chat: per-user budgets, usage, kill switch, frame budget", () => {
  describe("answers at once, per user across connections", () => {
    it("12 connections of one user start 2 answers; the rest are rate_limited with retryAfterMs and hold nothing", async () => {
      const w = createWorld({ maxConcurrentPerUser: 2 });
      const conns = await Promise.all(Array.from({ length: 12 }, (_, i) => w.connect(`c${i}`, "alice")));
      const outcomes = await Promise.all(conns.map((c) => w.frame(c, send("hi"))));
      expect(w.sender.of("turn.started")).to.have.length(2);
      expect(w.queue.jobs).to.have.length(2);
      const refused = errorsOf(w);
      expect(refused).to.have.length(10);
      for (const e of refused) expect(e).to.include({ code: "rate_limited" }).and.have.property("retryAfterMs").above(0);
      expect(outcomes.filter((o) => o.error === "rate_limited")).to.have.length(10);
      // Refusals hold nothing: no counted message, no user turn written. No connection holds a slot of its own
      // either: its limit (2) is not lower than the user's, which bounds it.
      const slots = [...w.connections.items.values()].reduce((n, i) => n + i.activeTurns.size, 0);
      expect(slots).to.equal(0);
      expect([...w.ledger.counters.values()].reduce((a, b) => a + b, 0)).to.equal(2);
      expect([...w.history.turns.values()]).to.have.length(4);
      expect(w.ledger.generating.get("alice")?.size).to.equal(2);

      // Another user is not affected.
      const bob = await w.connect("b1", "bob");
      await w.frame(bob, send("me too"));
      expect(w.sender.of("turn.started", "b1")).to.have.length(1);

      // When the answers end, their slots are free again.
      await w.runJobs();
      expect(w.ledger.generating.get("alice")?.size ?? 0).to.equal(0);
      await w.frame(conns[5]!, send("again"));
      expect(w.sender.of("turn.started", conns[5])).to.have.length(1);
    });

    it("frees a slot whose worker crashed once its turn has not moved for a while, and not before", async () => {
      const clock = new ManualClock();
      await clock.advance(Date.parse("2026-12-04T10:00:00Z"));
      const w = createWorld({ maxConcurrentPerUser: 1, clock, scripts: [[text("x"), ...endTurn]] });
      const c = await w.connect("c1", "alice");
      await w.frame(c, send("first"));
      w.queue.jobs.length = 0; // the worker crashed before it ran: the turn stays `streaming`, the slot held
      await w.frame(c, send("second"));
      expect(errorsOf(w).map((e) => e.code)).to.deep.equal(["rate_limited"]);
      await clock.advance(QUIET_STREAMING_MS + 1000);
      await w.frame(c, send("third"));
      expect(w.sender.of("turn.started")).to.have.length(2);
      expect(w.log.lines.some((l) => l.message === "reclaimed generation slots of finished turns")).to.equal(true);
    });
  });

  describe("two regions, one home", () => {
    it("answers at once, messages a minute and tokens a day hold across regions that share the home region's counters", async () => {
      // Each region has its own history, connections and handlers; the budget counters are the home region's.
      const east = createWorld({ maxConcurrentPerUser: 2, messagesPerMinute: 3, dailyTokenBudget: 30 });
      const west = createWorld({ maxConcurrentPerUser: 2, messagesPerMinute: 3, dailyTokenBudget: 30 });
      west.messageDeps.ledger = east.ledger;
      west.generateDeps.ledger = east.ledger;
      const e = await east.connect("e1", "alice");
      const w = await west.connect("w1", "alice");
      await east.frame(e, send("one"));
      await east.frame(e, send("two"));
      await west.frame(w, send("three"));
      expect(west.sender.of("error", "w1").map((x) => x.message)).to.deep.equal(["at most 2 answers at a time"]);
      await east.runJobs(); // 2 × 19 tokens, counted in the home region
      await west.frame(w, send("four"));
      expect(west.sender.of("error", "w1").map((x) => x.code)).to.deep.equal(["rate_limited", "quota_exceeded"]);
      expect(west.queue.jobs).to.have.length(0);
      // Messages a minute: 2 counted in the east, the refused ones given back; one more is allowed anywhere.
      const minuteCount = [...east.ledger.counters.values()].reduce((a, b) => a + b, 0);
      expect(minuteCount).to.equal(2);
    });
  });

  describe("tokens a UTC day", () => {
    it("counts the model's reported usage when a turn ends, refuses over the budget with quota_exceeded until midnight, and answers usage", async () => {
      const w = createWorld({ dailyTokenBudget: 30 }); // endTurn reports 12 + 7 = 19 tokens
      const c = await w.connect("c1", "alice");
      await w.frame(c, send("one"));
      await w.runJobs();
      const today = dayKey(Date.now());
      expect(w.ledger.tokens.get(`alice/${today}`)).to.equal(19);
      await w.frame(c, send("two")); // 19 < 30: still admitted
      await w.runJobs();
      expect(w.ledger.tokens.get(`alice/${today}`)).to.equal(38);

      const before = Date.now();
      const refused = send("three");
      await w.frame(c, refused);
      const [error] = errorsOf(w);
      expect(error).to.include({ code: "quota_exceeded", clientMessageId: refused.clientMessageId });
      const toMidnight = nextUtcMidnight(before) - before;
      expect(error!.retryAfterMs).to.be.within(toMidnight - 5000, toMidnight);
      expect(w.queue.jobs).to.have.length(0);

      await w.frame(c, { action: "usage" });
      const [usage] = w.sender.of("usage");
      expect(usage).to.deep.equal({ type: "usage", used: 38, limit: 30, resetAt: new Date(nextUtcMidnight(Date.now())).toISOString() });

      // Another user's budget is their own.
      const b = await w.connect("b1", "bob");
      await w.frame(b, send("hello"));
      expect(w.sender.of("turn.started", "b1")).to.have.length(1);
    });

    it("a stopped answer counts what the model reported it used", async () => {
      const w = createWorld({ dailyTokenBudget: 1000, scripts: [[{ type: "usage", inputTokens: 40, outputTokens: 3 }, text("partial"), hang]] });
      const c = await w.connect("c1", "alice");
      await w.frame(c, send("go"));
      const turn = w.sender.of("turn.started")[0]!;
      const run = w.runJobs();
      await until(() => w.sender.textOf(turn.turnId) === "partial", "the partial answer");
      await w.frame(c, { action: "stop", turnId: turn.turnId });
      await run;
      expect(w.ledger.tokens.get(`alice/${dayKey(Date.now())}`)).to.equal(43);
      expect(w.ledger.generating.get("alice")?.size ?? 0).to.equal(0);
    });

    it("a stopped answer whose usage never came (Bedrock reports it at the end) counts the estimate: UTF-8 bytes of what was sent and generated", async () => {
      // Claude over InvokeModelWithResponseStream: input tokens at message_start, output tokens only in the last message_delta.
      const claude = createWorld({ dailyTokenBudget: 1000, scripts: [[{ type: "usage", inputTokens: 40 }, text("café"), hang]] });
      // Nova, or ConverseStream: all of the usage in the final metadata.
      const nova = createWorld({ dailyTokenBudget: 1000, scripts: [[text("café"), hang]] });
      // Stopped before any text: the model may never have run, and nothing is counted.
      const early = createWorld({ dailyTokenBudget: 1000, scripts: [[hang]] });
      const stopped = async (w: typeof claude, afterText: boolean) => {
        const c = await w.connect("c1", "alice");
        await w.frame(c, send("go"));
        const turn = w.sender.of("turn.started")[0]!;
        const run = w.runJobs();
        if (afterText) await until(() => w.sender.textOf(turn.turnId) === "café", "the partial answer");
        else await until(() => w.model.requests.length === 1, "the model request");
        await w.frame(c, { action: "stop", turnId: turn.turnId });
        await run;
        return { counted: w.ledger.tokens.get(`alice/${dayKey(Date.now())}`) ?? 0, done: w.sender.of("turn.done")[0]! };
      };
      // "café" is 5 bytes; the context, one message "go", is 2 bytes and 4 tokens of message overhead (chat/context.ts).
      expect(await stopped(claude, true)).to.deep.include({ counted: 45 });
      expect((await stopped(nova, true)).counted).to.equal(11);
      expect(nova.sender.of("turn.done")[0]!.usage).to.deep.equal({ inputTokens: 6, outputTokens: 5 });
      expect((await stopped(early, false)).counted).to.equal(0);
      expect(claude.ledger.generating.get("alice")?.size ?? 0).to.equal(0);
    });

    it("usage with no budget answers limit null", async () => {
      const w = createWorld();
      const c = await w.connect("c1", "alice");
      await w.frame(c, { action: "usage" });
      expect(w.sender.of("usage")[0]).to.include({ used: 0, limit: null });
    });

    it("the worker frees the slot even when counting the tokens fails, and logs it", async () => {
      const w = createWorld({ dailyTokenBudget: 1000 });
      const c = await w.connect("c1", "alice");
      await w.frame(c, send("go"));
      w.ledger.faults.fail("addTokens");
      await w.runJobs();
      expect(w.ledger.generating.get("alice")?.size ?? 0).to.equal(0);
      expect(w.log.lines.some((l) => l.level === "error" && l.message === "could not count the turn's tokens")).to.equal(true);
    });
  });

  describe("the operator's kill switch", () => {
    it("refuses new sends and regenerates with busy, starts nothing, and lets other actions through", async () => {
      const w = createWorld();
      const c = await w.connect("c1", "alice");
      await w.frame(c, send("before"));
      await w.runJobs();
      const answer = w.sender.of("turn.started")[0]!;
      w.operator.paused = true;
      const paused = send("during");
      await w.frame(c, paused);
      await w.frame(c, { action: "regenerate", turnId: answer.turnId });
      await w.frame(c, { action: "sessions" });
      expect(errorsOf(w).map((e) => [e.code, e.message])).to.deep.equal([
        ["busy", "answers are paused by the operator; try again later"],
        ["busy", "answers are paused by the operator; try again later"],
      ]);
      expect(w.queue.jobs).to.have.length(0);
      expect(w.sender.of("sessions")).to.have.length(1);
      w.operator.paused = false;
      await w.frame(c, send("after"));
      expect(w.sender.of("turn.started")).to.have.length(2);
    });

    it("reads the stored switch at most once per cache period, and keeps the last answer when a read fails", async () => {
      const stored = new MemoryOperatorSwitch();
      let now = 0;
      const log = new RecordingLog();
      const cached = new CachedOperatorSwitch(stored, 15_000, () => now, log);
      expect(await Promise.all([cached.answersPaused(), cached.answersPaused()])).to.deep.equal([false, false]);
      expect(stored.reads).to.equal(1);
      stored.paused = true;
      now = 14_999;
      expect(await cached.answersPaused()).to.equal(false);
      now = 15_000;
      expect(await cached.answersPaused()).to.equal(true);
      expect(stored.reads).to.equal(2);
      stored.answersPaused = () => Promise.reject(new Error("down"));
      now = 40_000;
      expect(await cached.answersPaused()).to.equal(true);
      expect(log.lines.map((l) => l.level)).to.deep.equal(["warn"]);
    });
  });

  describe("token estimates and messages over the context budget", () => {
    it("never counts fewer tokens than UTF-8 bytes allow: CJK and emoji are counted at least one token per byte", () => {
      expect(estimateTokens("hello")).to.equal(5 + 4);
      expect(estimateTokens("日本語のテキスト")).to.equal(8 * 3 + 4);
      expect(estimateTokens("👍🏽")).to.equal(8 + 4);
      expect(estimateTokens("é")).to.equal(2 + 4);
      expect(estimateTokens("\ud800")).to.equal(3 + 4); // a lone surrogate is sent as U+FFFD
      for (const s of ["日本語", "emoji 🎉🎉", "mixed ascii and 中文"]) {
        expect(estimateTokens(s)).to.equal(Buffer.byteLength(s, "utf8") + 4);
        expect(estimateTokens(s)).to.be.at.least([...s].length);
      }
    });

    it("refuses a message that alone exceeds the context budget with too_large, before anything starts", async () => {
      const w = createWorld({ contextBudgetTokens: 100 });
      const c = await w.connect("c1", "alice");
      const cjk = send("漢".repeat(40)); // 40 characters, 120 bytes: over a 100-token budget
      await w.frame(c, cjk);
      expect(errorsOf(w)[0]).to.include({ code: "too_large", clientMessageId: cjk.clientMessageId });
      expect(w.history.turns.size).to.equal(0);
      expect([...w.ledger.counters.values()].reduce((a, b) => a + b, 0)).to.equal(0);
      await w.frame(c, send("a".repeat(90)));
      expect(w.sender.of("turn.started")).to.have.length(1);
    });
  });

  describe("the per-connection frame budget", () => {
    it("a token bucket: a burst, then one frame per refill, retryAfterMs until the next, closing after repeated refusals", () => {
      const budget = new FrameBudget({ burst: 3, perSecond: 2, strikesBeforeClose: 3 });
      expect([0, 0, 0].map((t) => budget.take("c", t).ok)).to.deep.equal([true, true, true]);
      expect(budget.take("c", 0)).to.deep.equal({ ok: false, retryAfterMs: 500, close: false });
      expect(budget.take("c", 250)).to.deep.equal({ ok: false, retryAfterMs: 250, close: false });
      expect(budget.take("c", 500).ok).to.equal(true); // refilled one; the strikes start again
      expect(budget.take("other", 500).ok).to.equal(true);
      expect(budget.take("c", 500)).to.include({ ok: false, close: false });
      expect(budget.take("c", 500)).to.include({ ok: false, close: false });
      expect(budget.take("c", 500)).to.include({ ok: false, close: true });
    });

    it("keeps at most maxConnections buckets, dropping the least recently used", () => {
      const budget = new FrameBudget({ burst: 1, perSecond: 1, strikesBeforeClose: 10 }, 2);
      budget.take("a", 0);
      budget.take("b", 0);
      budget.take("a", 0); // a refused, and now the most recent
      budget.take("c", 0); // b dropped
      expect(budget.take("b", 0).ok).to.equal(true);
    });

    it("a flood of pings is refused with rate_limited and closed; the neighbour's frames are all answered", async () => {
      const w = createWorld({ frameBudget: { burst: 10, perSecond: 1, strikesBeforeClose: 5 } });
      const flood = await w.connect("flood", "mallory");
      const calm = await w.connect("calm", "alice");
      for (let i = 0; i < 20; i++) await w.frame(flood, { action: "ping" });
      await w.frame(calm, { action: "ping" });
      await w.frame(calm, { action: "sessions" });
      expect(w.sender.of("pong", flood)).to.have.length(10);
      const refused = errorsOf(w, flood);
      expect(refused.length).to.be.at.least(5);
      for (const e of refused) expect(e).to.include({ code: "rate_limited" }).and.have.property("retryAfterMs").above(0);
      expect(w.sender.closed).to.include(flood);
      expect(w.sender.closed).not.to.include(calm);
      expect(w.sender.of("pong", calm)).to.have.length(1);
      expect(w.sender.of("sessions", calm)).to.have.length(1);
      expect(errorsOf(w, calm)).to.deep.equal([]);
    });
  });
});
