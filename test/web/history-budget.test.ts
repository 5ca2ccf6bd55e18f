/**
 * The controller and the server's per-connection frame budget (runtime/chat/frame-budget.ts), in Node on a manual
 * clock: a frame the budget refuses (`rate_limited` naming nothing) is asked again, and reading or polling a long
 * conversation never runs into the budget by itself.
 */
import { expect } from "chai";
import type { ClientFrame, ServerFrame, TurnRecord } from "../../runtime/protocol";
import { FrameBudget } from "../../runtime/chat/frame-budget";
import { ChatController, type ConversationSnapshot } from "../../web/src/chat/controller";
import type { TimerHandle, Timers } from "../../web/src/chat/pacing";

class ManualTimers implements Timers {
  time = 0;
  private next = 1;
  private readonly tasks = new Map<number, { at: number; run: () => void }>();
  now(): number {
    return this.time;
  }
  setTimeout(run: () => void, ms: number): TimerHandle {
    const id = this.next++;
    this.tasks.set(id, { at: this.time + ms, run });
    return id;
  }
  clearTimeout(handle: TimerHandle): void {
    this.tasks.delete(handle as number);
  }
  /** Moves time on by `ms`, running what falls due in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.tasks].filter(([, t]) => t.at <= end).sort(([a, x], [b, y]) => x.at - y.at || a - b)[0];
      if (due === undefined) break;
      this.tasks.delete(due[0]);
      this.time = Math.max(this.time, due[1].at);
      due[1].run();
    }
    this.time = end;
  }
}

const id = (n: number) => `t${String(n).padStart(4, "0")}`;

/** A conversation of `count` pages of one exchange each; the last answer may still be streaming. */
function conversation(count: number, lastStatus: TurnRecord["status"] = "complete"): TurnRecord[][] {
  return Array.from({ length: count }, (_, p) => [
    { turnId: id(2 * p), sessionId: "s1", role: "user", text: `question ${p}`, status: "complete", createdAt: "a", updatedAt: "a" },
    { turnId: id(2 * p + 1), sessionId: "s1", role: "assistant", text: `answer ${p}`, status: p === count - 1 ? lastStatus : "complete", parentTurnId: id(2 * p), createdAt: "a", updatedAt: "a" },
  ]);
}

function page(pages: TurnRecord[][], cursor?: string): ServerFrame {
  const index = cursor === undefined ? 0 : Number(cursor.slice(1));
  return { type: "history", sessionId: "s1", turns: pages[index]!, ...(index + 1 < pages.length ? { cursor: `p${index + 1}` } : {}) };
}

function harness() {
  const timers = new ManualTimers();
  const sent: ClientFrame[] = [];
  const notices: string[] = [];
  let snapshot: ConversationSnapshot | undefined;
  let ids = 0;
  const controller = new ChatController({
    send: (frame) => sent.push(frame),
    answered: () => undefined,
    conversation: { render: (s) => (snapshot = { ...s, turns: [...s.turns] }), streamText: () => undefined, notice: (m) => notices.push(m) },
    sessions: { render: () => undefined },
    onSessionChange: () => undefined,
    newId: () => `cm${++ids}`,
    timers,
  });
  const feed = (...frames: ServerFrame[]) => frames.forEach((f) => controller.handleFrame(f));
  const shown = () => snapshot!.turns.map((t) => t.text);
  const reads = (from = 0) => sent.slice(from).filter((f) => f.action === "history");
  return { controller, timers, sent, notices, feed, shown, reads, snapshot: () => snapshot! };
}

/** Plays the server: answers every history frame the page sent (from `from` on) until none is left, and checks each against the budget. */
function serve(h: ReturnType<typeof harness>, pages: TurnRecord[][], budget: FrameBudget, refused: number[], cursorFrom = { at: 0 }): void {
  while (cursorFrom.at < h.sent.length) {
    const frame = h.sent[cursorFrom.at++]!;
    if (!budget.take("c1", h.timers.now()).ok) refused.push(h.timers.now());
    if (frame.action === "history") h.feed(page(pages, frame.cursor));
  }
}

const budgetSettings = { burst: 30, perSecond: 5, strikesBeforeClose: 20 }; // runtime/config.ts defaults

describe("web chat controller: the frame budget", () => {
  it("a history page refused by the frame budget (rate_limited naming nothing) is asked again after retryAfterMs, silently", () => {
    const h = harness();
    const pages = conversation(3);
    h.controller.openSession("s1");
    h.feed(page(pages));
    expect(h.reads().at(-1)).to.deep.equal({ action: "history", sessionId: "s1", cursor: "p1" });
    h.feed({ type: "error", code: "rate_limited", message: "too many frames on this connection; slow down", retryAfterMs: 400 });
    expect(h.reads()).to.have.length(2);
    h.timers.advance(400);
    expect(h.reads()).to.have.length(3);
    expect(h.reads().at(-1)).to.deep.equal({ action: "history", sessionId: "s1", cursor: "p1" });
    expect(h.notices).to.deep.equal([], "asked again: nothing for the reader to do");
    // The first request was answered after all, and then the retry: the repeat is dropped, page 2 is asked once.
    h.feed(page(pages, "p1"), page(pages, "p1"));
    expect(h.reads().filter((f) => f.action === "history" && f.cursor === "p2")).to.have.length(1);
    h.feed(page(pages, "p2"));
    expect(h.shown()).to.deep.equal(["question 0", "answer 0", "question 1", "answer 1", "question 2", "answer 2"]);
    expect(h.snapshot().loadingHistory).to.equal(false);
  });

  it("a message refused by the frame budget is sent again with its clientMessageId, so the composer is not left blocked", () => {
    const h = harness();
    h.controller.sendMessage("hello");
    h.feed({ type: "error", code: "rate_limited", message: "too many frames on this connection; slow down", retryAfterMs: 200 });
    h.timers.advance(200);
    expect(h.sent.filter((f) => f.action === "send")).to.deep.equal([
      { action: "send", clientMessageId: "cm1", text: "hello" },
      { action: "send", clientMessageId: "cm1", text: "hello" },
    ]);
    expect(h.notices).to.deep.equal([], "sent again: nothing for the reader to do");
    h.feed({ type: "turn.started", sessionId: "s1", turnId: "a1", clientMessageId: "cm1", region: "us-east-1", userTurnId: "u1" });
    h.feed({ type: "turn.done", turnId: "a1", stopReason: "end_turn", usage: { inputTokens: 1, outputTokens: 1 }, ttftMs: 1 });
    expect(h.snapshot().generatingKey).to.equal(null);
    expect(h.controller.sendMessage("next")).to.equal(null);
  });

  it("a stop refused by the frame budget is sent again while its answer is still being generated", () => {
    const h = harness();
    h.controller.sendMessage("hello");
    h.feed({ type: "turn.started", sessionId: "s1", turnId: "a1", clientMessageId: "cm1", region: "us-east-1", userTurnId: "u1" });
    h.feed({ type: "delta", turnId: "a1", seq: 0, text: "Once" });
    h.controller.stop();
    h.feed({ type: "error", code: "rate_limited", message: "too many frames on this connection; slow down", retryAfterMs: 200 });
    h.timers.advance(200);
    expect(h.sent.filter((f) => f.action === "stop")).to.deep.equal([
      { action: "stop", turnId: "a1" },
      { action: "stop", turnId: "a1" },
    ]);
    expect(h.notices).to.deep.equal([]);
    // Once the answer has ended, a later refusal asks nothing again (and says so).
    h.feed({ type: "turn.done", turnId: "a1", stopReason: "stopped", usage: { inputTokens: 1, outputTokens: 1 }, ttftMs: 1 });
    h.feed({ type: "error", code: "rate_limited", message: "too many frames on this connection; slow down", retryAfterMs: 200 });
    h.timers.advance(200);
    expect(h.sent.filter((f) => f.action === "stop")).to.have.length(2);
    expect(h.notices).to.have.length(1);
  });

  it("reading a conversation of 60 pages answered at once stays within the server's frame budget, and shows all of it", () => {
    const h = harness();
    const pages = conversation(60);
    const budget = new FrameBudget(budgetSettings);
    const refused: number[] = [];
    const at = { at: 0 };
    h.controller.openSession("s1");
    for (let step = 0; step < 600 && h.snapshot().turns.length < 120; step++) {
      serve(h, pages, budget, refused, at);
      h.timers.advance(100);
    }
    expect(refused).to.deep.equal([]);
    expect(h.shown()).to.have.length(120);
    expect(h.reads()).to.have.length(60);
  });

  it("a stalled answer on a long conversation is re-read from its page only, and polling it stays within the budget", () => {
    const h = harness();
    const pages = conversation(20, "streaming");
    const budget = new FrameBudget(budgetSettings);
    const refused: number[] = [];
    const at = { at: 0 };
    h.controller.openSession("s1");
    for (let step = 0; step < 200 && h.reads().length < 20; step++) {
      serve(h, pages, budget, refused, at);
      h.timers.advance(100);
    }
    serve(h, pages, budget, refused, at);
    expect(h.sent.at(-1)).to.deep.equal({ action: "resume", turnId: id(39), afterSeq: -1, offset: "answer 19".length });
    const before = h.reads().length;
    // No frame for the answer: it stalls, and history is polled while it stays streaming there.
    for (let step = 0; step < 300; step++) {
      h.timers.advance(100);
      serve(h, pages, budget, refused, at);
    }
    const polls = h.reads(0).slice(before);
    expect(polls.length).to.be.above(5);
    expect(polls.every((f) => f.action === "history" && f.cursor === "p19")).to.equal(true, JSON.stringify(polls.slice(0, 3)));
    expect(refused).to.deep.equal([]);
    expect(h.shown()).to.have.length(40);
  });

  it("a re-read keeps the conversation on screen until it has read to the end, also when a page of it is refused", () => {
    const h = harness();
    const pages = conversation(3);
    h.controller.openSession("s1");
    h.feed(page(pages), page(pages, "p1"), page(pages, "p2"));
    expect(h.shown()).to.have.length(6);
    h.controller.connected(true);
    expect(h.reads().at(-1)).to.deep.equal({ action: "history", sessionId: "s1" });
    h.feed(page(pages));
    h.feed({ type: "error", code: "rate_limited", message: "too many frames on this connection; slow down", retryAfterMs: 300 });
    expect(h.shown()).to.have.length(6);
    h.timers.advance(300);
    h.feed(page(pages, "p1"), page(pages, "p2"));
    expect(h.shown()).to.deep.equal(["question 0", "answer 0", "question 1", "answer 1", "question 2", "answer 2"]);
  });
});
