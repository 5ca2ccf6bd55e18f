/**
 * The worker service's loop (runtime/worker-service/service.ts) over an in-memory queue with SQS's receive counts,
 * visibility and redrive, running the real generateTurn on the in-memory world: claim-then-delete, malformed and
 * duplicate jobs, the claim backoff that ends in the dead-letter queue with one `error` on the last receive, capacity
 * and order, and the SIGTERM drain (on the manual clock).
 */
import { expect } from "chai";
import type { GenerationOutcome, TurnHooks } from "../../runtime/chat/generate";
import type { GenerationJob } from "../../runtime/chat/ports";
import type { ServerFrame, TurnStartedFrame } from "../../runtime/protocol";
import type { JobSource, ReceivedJob } from "../../runtime/worker-service/job-source";
import { NO_DEADLINE_MS, WorkerService, claimBackoffSeconds, type WorkerServiceDeps, type WorkerServiceSettings } from "../../runtime/worker-service/service";
import { generateTurn } from "../../runtime/chat/generate";
import { FakeJobQueue } from "./fake-job-queue";
import { ManualClock, RecordingLog, type ModelStep } from "./fakes";
import { createWorld, endTurn, send, text, type World } from "./world";

const SETTINGS: WorkerServiceSettings = {
  turnsPerTask: 10,
  maxReceives: 4,
  drainMs: 30_000,
  closeReserveMs: 1_000,
  claimBackoffSeconds: { base: 2, max: 60 },
  receiveRetryMs: 1_000,
};

/** Waits for a state of the system (not for an amount of time), checking between turns of the event loop. */
async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** On a manual clock: moves time 1 ms at a time until `condition` holds. */
async function driveUntil(clock: ManualClock, condition: () => boolean, what: string, limitMs = 120_000): Promise<void> {
  for (let t = 0; !condition(); t++) {
    if (t > limitMs) throw new Error(`${what} did not happen within ${limitMs} ms of the manual clock`);
    await clock.advance(1);
    await new Promise((r) => setImmediate(r));
  }
}

function framesFor(w: World, turnId: string, types: ServerFrame["type"][]): ServerFrame[] {
  return w.sender.frames.map((f) => f.frame).filter((f) => types.includes(f.type) && (f as { turnId?: string }).turnId === turnId);
}

async function queuedTurn(w: World, prompt = "Tell me a story"): Promise<{ job: GenerationJob; turn: TurnStartedFrame }> {
  const c = await w.connect(undefined, "alice");
  await w.frame(c, send(prompt));
  const job = w.queue.jobs.shift()!;
  const turn = w.sender.of("turn.started").find((t) => t.turnId === job.turnId)!;
  return { job, turn };
}

function service(w: World, queue: JobSource, clock: WorkerServiceDeps["clock"], log = new RecordingLog(), settings: Partial<WorkerServiceSettings> = {}) {
  return new WorkerService({
    jobs: queue,
    generate: (job, remainingMs, hooks) => generateTurn(job, remainingMs, w.generateDeps, hooks),
    clock,
    log,
    settings: { ...SETTINGS, ...settings },
  });
}

describe("runtime/worker-service: the long-poll loop", () => {
  it("runs a job through the same generateTurn and deletes its message once the turn is claimed, while the answer still streams", async () => {
    let open!: () => void;
    const gate: ModelStep = { type: "gate", open: new Promise<void>((r) => (open = r)) };
    const w = createWorld({ scripts: [[text("Hello"), gate, text(", world."), ...endTurn]] });
    const clock = new ManualClock();
    const q = new FakeJobQueue(clock, 4);
    const { job, turn } = await queuedTurn(w);
    const messageId = q.send(job);
    const s = service(w, q, clock).start();
    await until(() => q.deleted.includes(messageId) && w.model.hanging === 1, "the message deleted mid-answer");
    expect(framesFor(w, turn.turnId, ["turn.done", "error"])).to.deep.equal([]);
    expect(s.inFlight).to.equal(1);
    open();
    await until(() => framesFor(w, turn.turnId, ["turn.done"]).length === 1 && s.inFlight === 0, "the turn's end");
    expect([...w.history.turns.values()].find((t) => t.turnId === turn.turnId)).to.include({ status: "complete", text: "Hello, world." });
    expect(q.messages).to.deep.equal([]);
    await s.shutdown();
  });

  it("logs and deletes a malformed job and generates nothing", async () => {
    const w = createWorld();
    const clock = new ManualClock();
    const q = new FakeJobQueue(clock, 4);
    const log = new RecordingLog();
    q.send("{not json");
    q.send({ kind: "generate", sessionId: "s" });
    const s = service(w, q, clock, log).start();
    await until(() => q.deleted.length === 2, "both deleted");
    expect(w.model.calls).to.equal(0);
    expect(log.lines.filter((l) => l.level === "error" && l.message === "malformed job deleted")).to.have.length(2);
    await s.shutdown();
  });

  it("deletes a duplicate delivery of a job: one answer, one turn.done", async () => {
    const w = createWorld();
    const clock = new ManualClock();
    const q = new FakeJobQueue(clock, 4);
    const log = new RecordingLog();
    const { job, turn } = await queuedTurn(w);
    q.send(job);
    q.send(job);
    const s = service(w, q, clock, log).start();
    await until(() => q.deleted.length === 2 && s.inFlight === 0, "both deliveries deleted");
    expect(w.model.calls).to.equal(1);
    expect(framesFor(w, turn.turnId, ["turn.done", "error"])).to.have.length(1);
    expect(log.lines.some((l) => l.message.startsWith("duplicate job deleted"))).to.equal(true);
    expect(log.lines.filter((l) => l.message === "deleting a job failed"), "each message deleted once").to.deep.equal([]);
    await s.shutdown();
  });

  it("backs off a failed claim with growing delays, tells the client once on the last receive, and the job ends in the DLQ", async () => {
    const w = createWorld();
    const clock = new ManualClock();
    const q = new FakeJobQueue(clock, SETTINGS.maxReceives);
    const { job, turn } = await queuedTurn(w);
    w.history.faults.fail("startGeneration", 1_000);
    q.send(job);
    const s = service(w, q, clock).start();
    for (let receive = 1; receive <= SETTINGS.maxReceives; receive++) {
      await until(() => q.visibilityChanges.length === receive, `hand-back ${receive}`);
      const errors = framesFor(w, turn.turnId, ["error"]);
      // Only the last receive tells the client; earlier ones may still succeed.
      expect(errors, `errors after receive ${receive}`).to.have.length(receive < SETTINGS.maxReceives ? 0 : 1);
      await clock.advance(q.visibilityChanges.at(-1)!.seconds * 1000);
      q.wake();
    }
    expect(q.visibilityChanges.map((v) => v.seconds)).to.deep.equal([2, 4, 8, 16]);
    await until(() => q.deadLetters.length === 1, "the job in the dead-letter queue");
    expect(framesFor(w, turn.turnId, ["error", "turn.done"])).to.deep.equal([
      { type: "error", code: "internal", message: "the answer could not be started", turnId: turn.turnId },
    ]);
    expect(w.model.calls).to.equal(0);
    expect(claimBackoffSeconds(10, SETTINGS.claimBackoffSeconds)).to.equal(60);
    await s.shutdown();
  });

  it("takes at most turnsPerTask jobs at once; a burst above it waits in the queue and is served in order", async () => {
    const clock = new ManualClock();
    const q = new FakeJobQueue(clock, 4);
    const served: string[] = [];
    const finish = new Map<string, () => void>();
    let running = 0;
    let most = 0;
    const jobs: JobSource = {
      receive: (max, signal) => q.receive(max, signal),
      delete: (job) => q.delete(job),
      setVisibility: (job, seconds) => q.setVisibility(job, seconds),
    };
    const s = new WorkerService({
      jobs,
      clock,
      log: new RecordingLog(),
      settings: { ...SETTINGS, turnsPerTask: 3 },
      async generate(job: GenerationJob, _remaining: () => number, hooks: TurnHooks): Promise<GenerationOutcome> {
        served.push(job.turnId);
        hooks.onClaimed?.();
        most = Math.max(most, ++running);
        await new Promise<void>((r) => finish.set(job.turnId, r));
        running--;
        return { turnId: job.turnId, status: "complete", frames: 0, text: "" };
      },
    }).start();
    const ids = Array.from({ length: 8 }, (_, i) => `turn-${i}`);
    for (const id of ids) q.send({ kind: "generate", sessionId: "s", turnId: id, userTurnId: "u", connectionId: "c", userId: "a", receivedAt: 0 });
    await until(() => served.length === 3, "three turns started");
    await new Promise((r) => setImmediate(r));
    expect(served).to.deep.equal(ids.slice(0, 3));
    expect(q.waiting, "the rest wait in the queue").to.equal(5);
    for (let i = 0; i < ids.length; i++) {
      finish.get(ids[i]!)!();
      await until(() => served.length === Math.min(ids.length, i + 4) && s.inFlight === Math.min(3, ids.length - i - 1), `turn ${i} replaced`);
    }
    expect(served, "served in the order sent").to.deep.equal(ids);
    expect(most).to.equal(3);
    expect(Math.max(...q.receives), "never asks for more than it has room for").to.be.at.most(3);
    await s.shutdown();
  });

  it("SIGTERM: stops polling, lets turns run for drainMs, then ends them cleanly with turn.done and resolves", async () => {
    const clock = new ManualClock();
    const w = createWorld({ clock, scripts: [[text("Partial"), { type: "hang" }]] });
    const q = new FakeJobQueue(clock, 4);
    const { job, turn } = await queuedTurn(w);
    q.send(job);
    const s = service(w, q, clock).start();
    await driveUntil(clock, () => w.model.hanging === 1 && w.sender.of("delta").length === 1, "the turn streaming");
    const receivesBefore = q.receives.length;
    let drained = false;
    const shutdown = s.shutdown().then(() => (drained = true));
    await clock.advance(SETTINGS.drainMs - 100);
    expect(w.model.hanging, "still generating within the drain time").to.equal(1);
    expect(framesFor(w, turn.turnId, ["turn.done"])).to.deep.equal([]);
    await driveUntil(clock, () => drained, "the drain");
    await shutdown;
    const done = framesFor(w, turn.turnId, ["turn.done", "error"]);
    expect(done).to.have.length(1);
    expect(done[0]).to.include({ type: "turn.done", stopReason: "stopped" });
    const saved = [...w.history.turns.values()].find((t) => t.turnId === turn.turnId)!;
    expect(saved).to.include({ status: "stopped", text: "Partial" });
    expect(q.receives.length, "no poll after SIGTERM").to.equal(receivesBefore);
    expect(NO_DEADLINE_MS).to.be.greaterThan(3_600_000);
  });

  it("SIGTERM hands back a job that arrives after polling stopped (visibility 0) and starts nothing", async () => {
    const clock = new ManualClock();
    const handedBack: { job: ReceivedJob; seconds: number }[] = [];
    const late: ReceivedJob = { messageId: "late", receipt: "r", body: "{}", receiveCount: 1 };
    let generated = 0;
    let polls = 0;
    const s = new WorkerService({
      jobs: {
        // A response already on its way when the poll is aborted.
        receive: (_max, signal) => (polls++ === 0 ? new Promise((r) => signal.addEventListener("abort", () => r([late]), { once: true })) : Promise.resolve([])),
        delete: async () => undefined,
        setVisibility: async (job, seconds) => void handedBack.push({ job, seconds }),
      },
      clock,
      log: new RecordingLog(),
      settings: SETTINGS,
      generate: async (job) => (generated++, { turnId: job.turnId, status: "skipped", frames: 0, text: "" }),
    }).start();
    await new Promise((r) => setImmediate(r));
    await s.shutdown();
    expect(handedBack).to.deep.equal([{ job: late, seconds: 0 }]);
    expect(generated).to.equal(0);
  });
});
