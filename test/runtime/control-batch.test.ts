/**
 * One read per poll for all of a process's turns (runtime/chat/control-batch.ts): stop requests and resume doorbells
 * for N generating turns come from ONE batched read each poll interval, with the real generateTurn on the manual
 * clock; a rung doorbell reads that turn's watchers once.
 */
import { expect } from "chai";
import { BatchedControlPoll, type ControlSignals, type ControlSignalStore } from "../../runtime/chat/control-batch";
import { generateTurn } from "../../runtime/chat/generate";
import type { TurnControl, TurnRef, TurnWatcher } from "../../runtime/chat/ports";
import { ManualClock, RecordingLog, type MemoryHistory } from "./fakes";
import { createWorld, send, text } from "./world";

/** The batched read over the in-memory history: each call is one read, whatever the number of turns. */
class CountingSignals implements ControlSignalStore {
  readonly batches: number[] = [];
  turnControls: string[] = [];
  bells = new Map<string, string>();
  constructor(private readonly history: MemoryHistory) {}
  async controlSignals(turns: TurnRef[]): Promise<Map<string, ControlSignals>> {
    this.batches.push(turns.length);
    const answer = new Map<string, ControlSignals>();
    for (const t of turns) {
      const bell = this.bells.get(t.turnId);
      const key = `${t.sessionId}/${t.turnId}`;
      answer.set(t.turnId, { stopRequested: this.history.stops.has(key), ...(this.history.eraseRequests.has(key) ? { erase: true } : {}), ...(bell ? { bell } : {}) });
    }
    return answer;
  }
  async turnControl(sessionId: string, turnId: string): Promise<TurnControl> {
    this.turnControls.push(turnId);
    return this.history.turnControl(sessionId, turnId);
  }
  eraseRequested(sessionId: string, turnId: string): Promise<boolean> {
    return this.history.eraseRequested(sessionId, turnId);
  }
}

const watcher = (connectionId: string, at: string): TurnWatcher => ({ connectionId, callbackEndpoint: "https://us-east-1.example/prod", region: "us-east-1", afterSeq: -1, offset: 0, at });

describe("runtime/chat/control-batch: one stop read per poll for all turns", () => {
  it("N in-flight turns of the real generateTurn cause one read per poll interval, and a stop reaches only its turn", async () => {
    const N = 12;
    const clock = new ManualClock();
    const w = createWorld({ clock, scripts: [[text("Hi"), { type: "hang" }]], maxConcurrentPerConnection: 100 });
    const signals = new CountingSignals(w.history);
    const stopPollMs = w.generateDeps.settings.stopPollMs;
    const deps = { ...w.generateDeps, control: new BatchedControlPoll(signals, clock, stopPollMs) };
    const c = await w.connect("c1", "alice");
    for (let i = 0; i < N; i++) await w.frame(c, send(`question ${i}`));
    const jobs = w.queue.jobs.splice(0);
    expect(jobs).to.have.length(N);
    const outcomes = jobs.map((job) => generateTurn(job, () => 900_000, deps));
    for (let t = 0; t < 200 && w.model.hanging < N; t++) await clock.advance(1);
    expect(w.model.hanging).to.equal(N);
    w.history.calls = {};
    signals.batches.length = 0;

    const polls = 10;
    await clock.advance(polls * stopPollMs);
    expect(signals.batches, "one read per poll, each for every turn").to.deep.equal(Array(polls).fill(N));
    expect(w.history.calls.turnControl ?? 0, "no per-turn control read").to.equal(0);

    const stopped = jobs[3]!;
    await w.frame(c, { action: "stop", turnId: stopped.turnId });
    for (let t = 0; t < 200 && w.model.hanging > N - 1; t++) await clock.advance(1);
    expect(w.model.hanging).to.equal(N - 1);
    // Its end waits for its last look, which the next batched read answers.
    let first: Awaited<(typeof outcomes)[number]> | undefined;
    void outcomes[3]!.then((o) => (first = o));
    for (let t = 0; t < 500 && !first; t++) await clock.advance(1);
    expect(first).to.include({ turnId: stopped.turnId, status: "stopped", cause: "stopped" });
    signals.batches.length = 0;
    await clock.advance(stopPollMs);
    expect(signals.batches).to.deep.equal([N - 1]);
    // End the others (a stop each) so nothing is left running.
    for (const job of jobs) await w.frame(c, { action: "stop", turnId: job.turnId });
    let settled = false;
    const all = Promise.all(outcomes).finally(() => (settled = true));
    for (let t = 0; t < 1000 && !settled; t++) await clock.advance(1);
    expect((await all).map((o) => o.status)).to.deep.equal(Array(N).fill("stopped"));
  });

  it("turns ending at once take their last look (was the session deleted?) in one batched read, and a deleted session's turn is erased", async () => {
    const N = 6;
    const clock = new ManualClock();
    const w = createWorld({ clock, scripts: [[text("Hi"), { type: "hang" }]], maxConcurrentPerConnection: 100, maxConcurrentPerUser: 100 });
    const signals = new CountingSignals(w.history);
    const stopPollMs = w.generateDeps.settings.stopPollMs;
    const deps = { ...w.generateDeps, control: new BatchedControlPoll(signals, clock, stopPollMs) };
    const c = await w.connect("c1", "alice");
    for (let i = 0; i < N; i++) await w.frame(c, send(`question ${i}`));
    const deleted = w.sender.of("turn.started", c)[0]!.sessionId;
    const jobs = w.queue.jobs.splice(0);
    const outcomes = jobs.map((job) => generateTurn(job, () => 900_000, deps));
    for (let t = 0; t < 200 && w.model.hanging < N; t++) await clock.advance(1);
    expect(w.model.hanging).to.equal(N);
    // One session is deleted (its turn stops, then is erased); the others are stopped.
    await w.frame(c, { action: "delete", sessionId: deleted });
    for (const job of jobs.slice(1)) await w.frame(c, { action: "stop", turnId: job.turnId });
    w.history.calls = {};
    signals.batches.length = 0;
    const ended = Promise.all(outcomes);
    for (let t = 0; t < 1000 && w.history.itemsOf(deleted).length > 0; t++) await clock.advance(1);
    expect((await ended).map((o) => o.status)).to.deep.equal(Array(N).fill("stopped"));
    expect(w.history.itemsOf(deleted)).to.deep.equal([]);
    expect(w.history.calls.eraseRequested ?? 0, "no read per turn").to.equal(0);
    expect(signals.batches, "the stops in one read, the last looks of all six in the next").to.deep.equal([N, N]);
    for (const job of jobs) expect(w.history.turns.has(`${job.sessionId}/${job.turnId}`), job.turnId).to.equal(job.sessionId !== deleted);
  });

  it("a rung doorbell reads that turn's watchers once; one that rang before its watcher replicated is read again", async () => {
    const clock = new ManualClock();
    const w = createWorld({ clock });
    const signals = new CountingSignals(w.history);
    const poll = new BatchedControlPoll(signals, clock, 100);
    const until = new AbortController();
    const a = { sessionId: "s1", turnId: "t-a" };
    const b = { sessionId: "s1", turnId: "t-b" };
    const next = async () => {
      const answers = Promise.all([poll.next(a, until.signal), poll.next(b, until.signal)]);
      await clock.advance(100);
      return answers;
    };
    expect((await next()).map((c) => c?.watchers.length)).to.deep.equal([0, 0]);
    expect(signals.turnControls).to.deep.equal([]);

    // The bell came first (replication order): turnControl finds no watcher yet, so the bell stays unanswered.
    signals.bells.set("t-b", "2026-01-01T00:00:00.000Z#conn-2");
    await next();
    expect(signals.turnControls).to.deep.equal(["t-b"]);
    await w.history.watchTurn("s1", "t-b", watcher("conn-2", "2026-01-01T00:00:00.000Z"));
    const [, withWatcher] = await next();
    expect(withWatcher!.watchers.map((x) => x.connectionId)).to.deep.equal(["conn-2"]);
    expect(signals.turnControls).to.deep.equal(["t-b", "t-b"]);
    await next();
    await next();
    expect(signals.turnControls, "an answered bell is not read again").to.deep.equal(["t-b", "t-b"]);
    expect(signals.batches).to.deep.equal([2, 2, 2, 2, 2]);

    until.abort();
    expect(await poll.next(a, until.signal)).to.equal(undefined);
  });

  it("a refused batched read (no dynamodb:BatchGetItem) is logged once and stops are then read per turn", async () => {
    const clock = new ManualClock();
    const w = createWorld({ clock });
    const signals = new CountingSignals(w.history);
    signals.controlSignals = async () => {
      throw Object.assign(new Error("not authorized"), { name: "AccessDeniedException" });
    };
    const log = new RecordingLog();
    const poll = new BatchedControlPoll(signals, clock, 100, log);
    const until = new AbortController();
    const first = poll.next({ sessionId: "s1", turnId: "t-a" }, until.signal);
    await clock.advance(100);
    let refused: unknown;
    await first.catch((e: unknown) => (refused = e));
    expect((refused as Error).name).to.equal("AccessDeniedException");
    await w.history.requestStop("s1", "t-a", "2026-01-01T00:00:00.000Z");
    const second = poll.next({ sessionId: "s1", turnId: "t-a" }, until.signal);
    await clock.advance(100);
    expect((await second)!.stopRequested).to.equal(true);
    expect(signals.turnControls).to.deep.equal(["t-a"]);
    expect(log.lines.filter((l) => l.level === "error")).to.have.length(1);
  });
});
