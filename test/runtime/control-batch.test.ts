/**
 * One read per poll for all of a process's turns (runtime/chat/control-batch.ts): stop requests and resume doorbells
 * for N generating turns come from ONE batched read each poll interval, with the real generateTurn on the manual
 * clock; a rung doorbell reads that turn's watchers once.
 */
import { expect } from "chai";
import { BatchedControlPoll, type ControlSignals, type ControlSignalStore } from "../../runtime/chat/control-batch";
import { generateTurn } from "../../runtime/chat/generate";
import type { TurnControl, TurnRef, TurnWatcher } from "../../runtime/chat/ports";
import { ManualClock, type MemoryHistory } from "./fakes";
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
      answer.set(t.turnId, { stopRequested: this.history.stops.has(`${t.sessionId}/${t.turnId}`), ...(bell ? { bell } : {}) });
    }
    return answer;
  }
  async turnControl(sessionId: string, turnId: string): Promise<TurnControl> {
    this.turnControls.push(turnId);
    return this.history.turnControl(sessionId, turnId);
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
    const first = await outcomes[3]!;
    expect(first).to.include({ turnId: stopped.turnId, status: "stopped", cause: "stopped" });
    signals.batches.length = 0;
    await clock.advance(stopPollMs);
    expect(signals.batches).to.deep.equal([N - 1]);
    // End the others (a stop each) so nothing is left running.
    for (const job of jobs) await w.frame(c, { action: "stop", turnId: job.turnId });
    for (let t = 0; t < 500 && w.model.hanging > 0; t++) await clock.advance(1);
    expect((await Promise.all(outcomes)).map((o) => o.status)).to.deep.equal(Array(N).fill("stopped"));
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
});
