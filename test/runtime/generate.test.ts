import { expect } from "chai";
import { ModelError, type Turn } from "../../runtime/chat/ports";
import type { ServerFrame, TurnStartedFrame } from "../../runtime/protocol";
import { ManualClock, type ModelStep } from "./fakes";
import { createWorld, endTurn, send, text, wait, type World, type WorldOptions } from "./world";

const hang: ModelStep = { type: "hang" };
const throttled = (): ModelStep => ({ type: "throw", error: new ModelError("slow down", "ThrottlingException", true) });

async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Runs `work` to its end on a manual clock, moving time 1 ms at a time while it waits on a timer. */
async function drive<T>(clock: ManualClock, work: Promise<T>, limitMs = 60_000): Promise<T> {
  let settled = false;
  const result = work.finally(() => (settled = true));
  for (let t = 0; !settled && t < limitMs; t++) {
    await clock.advance(1);
    await new Promise((r) => setImmediate(r));
  }
  return result;
}

async function started(options: WorldOptions = {}, prompt = "Tell me a story") {
  const w = createWorld(options);
  const c = await w.connect("c1", "alice");
  await w.frame(c, send(prompt));
  const turn = w.sender.of("turn.started")[0]!;
  return { w, c, turn };
}

function saved(w: World, t: TurnStartedFrame): Turn {
  return w.history.sessionTurns(t.sessionId).find((x) => x.turnId === t.turnId)!;
}

/** The frames that end a turn: exactly one is expected on every path (none when the client is gone). */
function endings(w: World, turnId: string, connectionId = "c1"): ServerFrame[] {
  return w.sender.frames
    .filter((f) => f.connectionId === connectionId)
    .map((f) => f.frame)
    .filter((f) => (f.type === "turn.done" || f.type === "error") && f.turnId === turnId);
}

function deltasOf(w: World, turnId: string) {
  return w.sender.of("delta").filter((d) => d.turnId === turnId);
}

describe("runtime/chat/generate: the worker", () => {
  it("streams deltas in seq order, saves exactly their concatenation and ends with one turn.done", async () => {
    const { w, turn } = await started();
    const [outcome] = await w.runJobs();
    const deltas = deltasOf(w, turn.turnId);
    expect(deltas.map((d) => d.seq)).to.deep.equal(deltas.map((_, i) => i));
    expect(deltas.map((d) => d.text).join("")).to.equal("Hello, world.");
    const record = saved(w, turn);
    expect(record).to.include({ status: "complete", text: "Hello, world.", stopReason: "end_turn" });
    expect(record.usage).to.deep.equal({ inputTokens: 12, outputTokens: 7 });
    const done = endings(w, turn.turnId);
    expect(done).to.have.length(1);
    expect(done[0]).to.deep.include({ type: "turn.done", stopReason: "end_turn", usage: { inputTokens: 12, outputTokens: 7 } });
    expect((done[0] as { ttftMs: number }).ttftMs).to.be.a("number").and.at.least(0);
    expect(w.sender.frames.at(-1)!.frame.type).to.equal("turn.done", "turn.done comes after every delta");
    expect(outcome).to.include({ status: "complete", cause: "end_turn", frames: deltas.length });
    expect(w.metrics.turns).to.have.length(1);
    expect(w.metrics.turns[0]).to.include({ outputTokens: 7, frames: deltas.length, stopReason: "end_turn" });
    expect(w.model.requests[0]!.messages).to.deep.equal([{ role: "user", text: "Tell me a story" }]);
  });

  for (const carried of [true, false]) {
    it(`before the model call: claim, stop check${carried ? " (the job carries the context)" : " and one context Query (a job without the context)"} at once, and no other store call`, async () => {
      const { w, turn } = await started();
      if (!carried) delete w.queue.jobs[0]!.context;
      const expected = carried ? ["startGeneration", "stopRequested"] : ["startGeneration", "stopRequested", "turnsUpTo"];
      const { history } = w;
      history.calls = {};
      // Each call waits until the others have started: done one after another, the job would hang.
      const startedCalls = new Set<string>();
      let release!: () => void;
      const all = new Promise<void>((resolve) => (release = resolve));
      const gate = async (name: string) => {
        startedCalls.add(name);
        if (startedCalls.size === expected.length) release();
        await Promise.race([all, new Promise((_, reject) => setTimeout(() => reject(new Error(`${name} ran alone`)), 2_000))]);
      };
      const startGeneration = history.startGeneration.bind(history);
      const stopRequested = history.stopRequested.bind(history);
      const turnsUpTo = history.turnsUpTo.bind(history);
      history.startGeneration = async (...args) => (await gate("startGeneration"), startGeneration(...args));
      history.stopRequested = async (...args) => (await gate("stopRequested"), stopRequested(...args));
      history.turnsUpTo = async function* (...args) {
        await gate("turnsUpTo");
        yield* turnsUpTo(...args);
      };
      let callsAtModel: Record<string, number> = {};
      const stream = w.model.stream.bind(w.model);
      w.model.stream = (request) => ((callsAtModel = { ...history.calls }), stream(request));
      const [outcome] = await w.runJobs();
      expect(outcome).to.include({ status: "complete" });
      expect([...startedCalls].sort()).to.deep.equal(expected);
      expect(callsAtModel).to.deep.equal(Object.fromEntries(expected.map((name) => [name, 1])), "no separate read of the user turn");
      expect(w.model.requests[0]!.messages).to.deep.equal([{ role: "user", text: "Tell me a story" }]);
      expect(saved(w, turn).status).to.equal("complete");
    });
  }

  it("reports max_tokens as a complete turn with stopReason max_tokens", async () => {
    const { w, turn } = await started({ scripts: [[text("cut"), { type: "stop", reason: "max_tokens" }]] });
    await w.runJobs();
    expect(saved(w, turn)).to.include({ status: "complete", stopReason: "max_tokens" });
    expect(endings(w, turn.turnId)[0]).to.include({ stopReason: "max_tokens" });
  });

  it("stop: aborts the model stream, saves the partial answer as stopped and sends turn.done stopped", async () => {
    const { w, c, turn } = await started({ scripts: [[text("Once upon "), wait(5), text("a time"), hang]] });
    const run = w.runJobs();
    await until(() => w.sender.textOf(turn.turnId) === "Once upon a time", "the partial answer");
    await w.frame(c, { action: "stop", turnId: turn.turnId });
    const [outcome] = await run;
    expect(outcome).to.include({ status: "stopped", cause: "stopped" });
    expect(w.model.requests[0]!.signal.aborted).to.equal(true, "the model stream was aborted");
    expect(saved(w, turn)).to.include({ status: "stopped", text: "Once upon a time" });
    expect(endings(w, turn.turnId)).to.have.length(1);
    expect(endings(w, turn.turnId)[0]).to.include({ type: "turn.done", stopReason: "stopped" });
    expect(w.connections.items.get("c1")!.activeTurns.size).to.equal(0);
  });

  it("stop: another user's turn is not_found and keeps generating; stopping a finished turn changes nothing", async () => {
    let open!: () => void;
    const gate: ModelStep = { type: "gate", open: new Promise<void>((resolve) => (open = resolve)) };
    const { w, turn } = await started({ scripts: [[text("a"), gate, text("b"), ...endTurn]] });
    const bob = await w.connect("c2", "bob");
    const run = w.runJobs();
    await until(() => w.model.hanging === 1, "the answer to be mid-stream");
    await w.frame(bob, { action: "stop", turnId: turn.turnId });
    await w.frame(bob, { action: "stop", turnId: "garbage" });
    expect(w.sender.of("error", "c2").map((e) => [e.code, e.message])).to.deep.equal([
      ["not_found", "turn not found"],
      ["not_found", "turn not found"],
    ]);
    // Still generating after the worker's stop polls had their chance (the stop poll is 5 ms of real time).
    await until(() => (w.history.calls.turnControl ?? 0) >= 3, "a few stop polls");
    expect(w.model.requests[0]!.signal.aborted, "bob's stop reached alice's answer").to.equal(false);
    expect(w.model.hanging).to.equal(1);
    open();
    await run;
    expect(saved(w, turn)).to.include({ status: "complete", text: "ab" });
    await w.frame("c1", { action: "stop", turnId: turn.turnId });
    expect(saved(w, turn)).to.include({ status: "complete" });
    expect(endings(w, turn.turnId)).to.have.length(1);
  });

  it("checkpoints the delivered text while streaming, so history shows progress and a crash keeps it", async () => {
    const { w, c, turn } = await started({ scripts: [[text("first part "), wait(40), text("second part"), hang]], generate: { checkpointMs: 10 } });
    const run = w.runJobs();
    await until(() => saved(w, turn).text === "first part second part", "a checkpoint with both parts");
    expect(saved(w, turn).status).to.equal("streaming");
    await w.frame(c, { action: "history", sessionId: turn.sessionId });
    expect(w.sender.of("history")[0]!.turns[1]).to.include({ status: "streaming", text: "first part second part" });
    await w.frame(c, { action: "stop", turnId: turn.turnId });
    await run;
    expect(saved(w, turn)).to.include({ status: "stopped", text: "first part second part" });
    const checkpoints = w.history.calls.saveProgress ?? 0;
    expect(checkpoints).to.be.at.least(1).and.at.most(4, "only when the text changed");
  });

  it("stop before the worker starts: the turn closes as stopped without calling the model", async () => {
    const { w, c, turn } = await started();
    await w.frame(c, { action: "stop", turnId: turn.turnId });
    await w.runJobs();
    expect(w.model.calls).to.equal(0);
    expect(saved(w, turn)).to.include({ status: "stopped", text: "" });
    expect(endings(w, turn.turnId)[0]).to.deep.include({ type: "turn.done", stopReason: "stopped", ttftMs: null });
  });

  it("a second delivery of the same job does nothing (async invokes may repeat)", async () => {
    const { w } = await started();
    const job = w.queue.jobs[0]!;
    w.queue.jobs.push({ ...job });
    const outcomes = await w.runJobs();
    expect(outcomes.map((o) => o.status)).to.deep.equal(["complete", "skipped"]);
    expect(w.model.calls).to.equal(1);
  });

  it("regenerate: a new answer to the same user message; history keeps the earlier version, the model context only the current one", async () => {
    const { w, c, turn } = await started({
      scripts: [[text("first answer"), ...endTurn], [text("second answer"), ...endTurn], [text("third"), ...endTurn]],
    });
    await w.runJobs();
    await w.frame(c, { action: "regenerate", turnId: turn.turnId });
    const again = w.sender.of("turn.started")[1]!;
    expect(again.turnId).not.to.equal(turn.turnId);
    expect(again).to.include({ sessionId: turn.sessionId, userTurnId: turn.userTurnId, clientMessageId: turn.clientMessageId });
    await w.runJobs();
    expect(w.model.requests[1]!.messages).to.deep.equal([{ role: "user", text: "Tell me a story" }]);
    expect(saved(w, turn).supersededBy).to.equal(again.turnId);

    await w.frame(c, { action: "history", sessionId: turn.sessionId });
    const history = w.sender.of("history")[0]!;
    expect(history.turns.map((t) => [t.role, t.text, t.supersededBy])).to.deep.equal([
      ["user", "Tell me a story", undefined],
      ["assistant", "first answer", again.turnId],
      ["assistant", "second answer", undefined],
    ]);

    await w.frame(c, send("and then?", { sessionId: turn.sessionId }));
    await w.runJobs();
    expect(w.model.requests[2]!.messages).to.deep.equal([
      { role: "user", text: "Tell me a story" },
      { role: "assistant", text: "second answer" },
      { role: "user", text: "and then?" },
    ]);
  });

  it("regenerate: refuses a streaming answer (busy), someone else's or a user turn (not_found); a repeat re-announces", async () => {
    const { w, c, turn } = await started({ scripts: [[text("x"), ...endTurn]] });
    await w.frame(c, { action: "regenerate", turnId: turn.turnId });
    expect(w.sender.of("error").at(-1)).to.include({ code: "busy" }).and.not.have.property("turnId");
    await w.runJobs();
    const bob = await w.connect("c2", "bob");
    await w.frame(bob, { action: "regenerate", turnId: turn.turnId });
    await w.frame(c, { action: "regenerate", turnId: turn.userTurnId! });
    expect(w.sender.of("error").slice(-2).map((e) => e.code)).to.deep.equal(["not_found", "not_found"]);

    await w.frame(c, { action: "regenerate", turnId: turn.turnId });
    await w.frame(c, { action: "regenerate", turnId: turn.turnId });
    const announced = w.sender.of("turn.started").slice(1);
    expect(announced).to.have.length(2);
    expect(announced[0]!.turnId).to.equal(announced[1]!.turnId);
    expect(w.queue.jobs).to.have.length(1);
  });

  it("regenerate: a refusal before a new turn starts names no turn (it would read as the answer's end); a failure after turn.started names the new turn", async () => {
    const { w, c, turn } = await started({ scripts: [[text("x"), ...endTurn]], maxConcurrentPerUser: 1 });
    // A protocol client following the answer asks to regenerate it while it streams: the answer still ends once.
    await w.frame(c, { action: "regenerate", turnId: turn.turnId });
    await w.runJobs();
    expect(endings(w, turn.turnId).map((f) => f.type)).to.deep.equal(["turn.done"]);
    const bob = await w.connect("c2", "bob");
    await w.frame(bob, { action: "regenerate", turnId: turn.turnId });
    await w.frame(c, { action: "regenerate", turnId: turn.userTurnId! });
    // Another answer takes the user's one slot: the admission refuses.
    await w.frame(c, send("meanwhile"));
    await w.frame(c, { action: "regenerate", turnId: turn.turnId });
    const refusals = w.sender.frames.map((f) => f.frame).filter((f) => f.type === "error");
    expect(refusals.map((e) => [e.code, e.turnId, e.clientMessageId])).to.deep.equal([
      ["busy", undefined, undefined],
      ["not_found", undefined, undefined],
      ["not_found", undefined, undefined],
      ["rate_limited", undefined, undefined],
    ]);
    await w.runJobs();
    w.queue.failWith = new Error("invoke failed");
    await w.frame(c, { action: "regenerate", turnId: turn.turnId });
    const again = w.sender.of("turn.started").at(-1)!;
    expect(again.turnId).to.not.equal(turn.turnId);
    expect(endings(w, again.turnId)).to.deep.equal([
      { type: "error", code: "internal", message: "the answer could not be started", turnId: again.turnId, clientMessageId: turn.clientMessageId },
    ]);
    expect(endings(w, turn.turnId)).to.have.length(1);
  });

  it("regenerate: two concurrent requests for one answer make one new answer; the loser drops its own", async () => {
    const { w, c, turn } = await started({ maxConcurrentPerConnection: 3 });
    await w.runJobs();
    await Promise.all([w.frame(c, { action: "regenerate", turnId: turn.turnId }), w.frame(c, { action: "regenerate", turnId: turn.turnId })]);
    const announced = w.sender.of("turn.started").slice(1);
    expect(announced).to.have.length(2);
    expect(announced[0]!.turnId).to.equal(announced[1]!.turnId);
    expect(w.queue.jobs).to.have.length(1);
    expect(w.history.sessionTurns(turn.sessionId).filter((t) => t.role === "assistant")).to.have.length(2, "the old answer and one new one");
    expect(w.connections.items.get("c1")!.activeTurns.size).to.equal(1);
  });

  it("guardrail on input: the blocked message streams as a guardrail turn", async () => {
    const blocked = "Sorry, I can't help with that request.";
    const { w, turn } = await started({ scripts: [[{ type: "guardrail" }, text(blocked), { type: "stop", reason: "end_turn" }]] });
    await w.runJobs();
    expect(w.sender.textOf(turn.turnId)).to.equal(blocked);
    expect(saved(w, turn)).to.include({ status: "guardrail", text: blocked, stopReason: "guardrail" });
    expect(endings(w, turn.turnId)[0]).to.include({ type: "turn.done", stopReason: "guardrail" });
  });

  it("guardrail on output mid-stream: the turn ends with stopReason guardrail and saves what the user saw", async () => {
    const { w, turn } = await started({
      scripts: [[text("Here is how "), wait(10), text("to do "), text("[blocked by policy]"), { type: "stop", reason: "guardrail" }]],
    });
    await w.runJobs();
    const seen = w.sender.textOf(turn.turnId);
    expect(seen).to.equal("Here is how to do [blocked by policy]");
    expect(saved(w, turn)).to.include({ status: "guardrail", text: seen });
    expect(endings(w, turn.turnId)[0]).to.include({ stopReason: "guardrail" });
  });

  it("guardrail turns are left out of later model context", async () => {
    const { w, c, turn } = await started({ scripts: [[text("blocked"), { type: "stop", reason: "guardrail" }], [text("ok"), ...endTurn]] }, "bad question");
    await w.runJobs();
    await w.frame(c, send("good question", { sessionId: turn.sessionId }));
    await w.runJobs();
    expect(w.model.requests[1]!.messages).to.deep.equal([{ role: "user", text: "good question" }]);
  });

  it("410 mid-stream is not a stop: the answer is generated to its end and saved, the connection record deleted", async () => {
    const { w, turn } = await started({ scripts: [[text("one "), wait(15), text("two "), wait(15), text("three "), ...endTurn]] });
    w.sender.goneAfter = 2; // turn.started + one delta, then the socket is gone
    const [outcome] = await w.runJobs();
    expect(outcome).to.include({ status: "complete", cause: "end_turn" });
    expect(w.model.requests[0]!.signal.aborted).to.equal(false);
    expect(w.connections.items.has("c1")).to.equal(false);
    expect(saved(w, turn)).to.include({ status: "complete", text: "one two three " });
    expect(endings(w, turn.turnId)).to.have.length(0);
  });

  it("throttling before the first token: bounded retries, then error model_error naming the turn", async () => {
    const { w, turn } = await started({ scripts: [[throttled()]] });
    const [outcome] = await w.runJobs();
    expect(w.model.calls).to.equal(3);
    expect(outcome).to.include({ status: "error", cause: "model_error" });
    expect(endings(w, turn.turnId)).to.deep.equal([
      { type: "error", code: "model_error", message: "the answer could not be generated", turnId: turn.turnId },
    ]);
    expect(saved(w, turn)).to.include({ status: "error", text: "" });
    expect(w.metrics.errors).to.include("model_error");
    expect(w.connections.items.get("c1")!.activeTurns.size).to.equal(0);
  });

  it("a retry that succeeds streams normally", async () => {
    const { w, turn } = await started({ scripts: [[throttled()], [text("fine"), ...endTurn]] });
    await w.runJobs();
    expect(w.model.calls).to.equal(2);
    expect(saved(w, turn)).to.include({ status: "complete", text: "fine" });
  });

  it("a non-retryable failure is not retried", async () => {
    const { w, turn } = await started({ scripts: [[{ type: "throw", error: new ModelError("bad", "ValidationException", false) }]] });
    await w.runJobs();
    expect(w.model.calls).to.equal(1);
    expect(endings(w, turn.turnId)[0]).to.include({ type: "error", code: "model_error" });
  });

  it("an in-stream exception after text closes the turn as error with the partial text saved", async () => {
    const { w, turn } = await started({
      scripts: [[text("partial "), wait(10), text("answer"), { type: "throw", error: new ModelError("stream broke", "ModelStreamErrorException", true) }]],
    });
    const [outcome] = await w.runJobs();
    expect(w.model.calls).to.equal(1, "no retry once text was shown");
    expect(outcome).to.include({ status: "error", cause: "model_error" });
    expect(saved(w, turn)).to.include({ status: "error", text: "partial answer" });
    expect(w.sender.textOf(turn.turnId)).to.equal("partial answer");
    expect(endings(w, turn.turnId)).to.have.length(1);
    expect(endings(w, turn.turnId)[0]).to.include({ type: "turn.done", stopReason: "error" });
  });

  // Deadlines run on a manual clock: the Lambda's remaining time is `timeout - clock.now()`, and time moves only
  // once the model has reached the state the test is about.
  it("closes the turn cleanly before the Lambda deadline: partial saved, turn.done sent", async () => {
    const clock = new ManualClock();
    const { w, turn } = await started({ clock, scripts: [[text("a long "), text("answer"), hang]], generate: { deadlineMarginMs: 50 } });
    const run = w.runJobs(() => 130 - clock.now());
    await until(() => w.model.hanging === 1, "the model to go quiet after its text");
    await clock.advance(79);
    expect(endings(w, turn.turnId), "ended before the deadline").to.deep.equal([]);
    await clock.advance(1);
    const [outcome] = await drive(clock, run);
    expect(outcome).to.include({ status: "stopped", cause: "deadline" });
    expect(saved(w, turn)).to.include({ status: "stopped", text: "a long answer" });
    expect(endings(w, turn.turnId)[0]).to.include({ type: "turn.done", stopReason: "stopped" });
  });

  it("a margin larger than the function's whole timeout still lets short answers complete", async () => {
    const clock = new ManualClock();
    const { w, turn } = await started({ clock, generate: { deadlineMarginMs: 10_000 } });
    const [outcome] = await drive(clock, w.runJobs(() => 3_000 - clock.now()));
    expect(outcome).to.include({ status: "complete" });
    expect(saved(w, turn).text).to.equal("Hello, world.");
    expect(clock.now(), "it had to wait for the deadline").to.be.below(1_500);
  });

  it("abandons a model stream that goes silent (idle timeout) as an error, keeping the text", async () => {
    const clock = new ManualClock();
    const { w, turn } = await started({ clock, scripts: [[text("so far"), hang]], generate: { idleTimeoutMs: 40 } });
    const run = w.runJobs();
    await until(() => w.model.hanging === 1, "the model to go quiet");
    const [outcome] = await drive(clock, run);
    expect(clock.now(), "abandoned before the idle timeout").to.be.at.least(40);
    expect(outcome).to.include({ status: "error", cause: "idle" });
    expect(saved(w, turn)).to.include({ status: "error", text: "so far" });
    expect(endings(w, turn.turnId)[0]).to.include({ type: "turn.done", stopReason: "error" });
  });

  it("counts the idle timeout from the model's last event, not from the stream's start", async () => {
    const clock = new ManualClock();
    let open!: () => void;
    const gate: ModelStep = { type: "gate", open: new Promise<void>((r) => (open = r)) };
    const { w, turn } = await started({ clock, scripts: [[text("so far"), gate, text(", then more"), hang]], generate: { idleTimeoutMs: 40 } });
    const run = w.runJobs();
    await until(() => w.model.hanging === 1, "the model to pause");
    for (let t = 0; t < 30; t++) await clock.advance(1);
    open();
    await until(() => w.model.yielded === 2 && w.model.hanging === 1, "the second event, then silence");
    const heardAt = clock.now();
    const [outcome] = await drive(clock, run);
    expect(outcome).to.include({ status: "error", cause: "idle" });
    expect(clock.now() - heardAt, "a full idle window after the last event").to.be.at.least(40);
    expect(saved(w, turn).text).to.equal("so far, then more");
  });

  it("retries the final save through an outage, and sends turn.done only once the turn is saved", async () => {
    const { w, turn } = await started();
    // Far more failures than a fixed number of attempts would survive: the retries last while the Lambda has time.
    w.history.faults.fail("finishTurn", 25);
    const statusAtEnd: string[] = [];
    const post = w.sender.post.bind(w.sender);
    w.sender.post = async (connectionId, frame) => {
      if (frame.type === "turn.done" || frame.type === "error") statusAtEnd.push(saved(w, turn).status);
      return post(connectionId, frame);
    };
    const [outcome] = await w.runJobs();
    expect(w.history.calls.finishTurn).to.equal(26);
    expect(saved(w, turn)).to.include({ status: "complete", text: "Hello, world." });
    expect(endings(w, turn.turnId)).to.have.length(1);
    expect(endings(w, turn.turnId)[0]).to.include({ type: "turn.done", stopReason: "end_turn" });
    expect(statusAtEnd, "the store's status when the end frame was posted").to.deep.equal(["complete"]);
    expect(outcome).to.include({ status: "complete", cause: "end_turn" });
    expect(w.log.lines.filter((l) => l.message === "saving the turn failed; retrying")).to.have.length(25);
  });

  it("a save that never succeeds before the deadline: one error internal naming the turn, never turn.done end_turn", async () => {
    const clock = new ManualClock();
    const { w, turn } = await started({ clock, generate: { deadlineMarginMs: 200 } });
    w.history.faults.fail("finishTurn", Number.MAX_SAFE_INTEGER);
    const remaining = () => 400 - clock.now();
    const [outcome] = await drive(clock, w.runJobs(remaining));
    // It kept trying until half the margin (100 ms) was left, then gave up in time to tell the client.
    expect(w.history.calls.finishTurn).to.be.greaterThan(4);
    expect(remaining()).to.be.greaterThan(0);
    expect(endings(w, turn.turnId)).to.deep.equal([{ type: "error", code: "internal", message: "the answer could not be saved", turnId: turn.turnId }]);
    expect(w.sender.textOf(turn.turnId)).to.equal("Hello, world.");
    // The store keeps the turn streaming (it reads as failed once stale); the slot is freed; it is counted as an error.
    expect(saved(w, turn).status).to.equal("streaming");
    expect(w.connections.items.get("c1")!.activeTurns.size).to.equal(0);
    expect(outcome).to.include({ status: "error", cause: "unsaved", stopReason: "error" });
    expect(w.metrics.errors).to.deep.equal(["internal"]);
    expect(w.metrics.turns[0]).to.include({ cause: "unsaved", stopReason: "error" });
  });

  it("retries claiming the turn; if DynamoDB stays down, tells the client and throws (nothing was started)", async () => {
    const flaky = await started();
    flaky.w.history.faults.fail("startGeneration", 2);
    expect((await flaky.w.runJobs())[0]).to.include({ status: "complete" });

    const { w, turn } = await started();
    w.history.faults.fail("startGeneration", 10);
    let thrown: unknown;
    await w.runJobs().catch((e) => (thrown = e));
    expect(thrown).to.have.property("name", "ProvisionedThroughputExceededException");
    expect(endings(w, turn.turnId)).to.deep.equal([{ type: "error", code: "internal", message: "the answer could not be started", turnId: turn.turnId }]);
    expect(w.model.calls).to.equal(0);
  });

  it("a stream cut before its stop reason is an error with the text kept, never a complete answer", async () => {
    const { w, turn } = await started({ scripts: [[text("abrupt"), { type: "usage", inputTokens: 5, outputTokens: 1 }]] });
    await w.runJobs();
    expect(saved(w, turn)).to.include({ status: "error", stopReason: "error", text: "abrupt" });
    const ends = endings(w, turn.turnId);
    expect(ends).to.have.length(1);
    expect(ends[0]).to.deep.include({ type: "turn.done", stopReason: "error", usage: { inputTokens: 5, outputTokens: 1 } });
  });

  it("a stream cut before any text is retried like a failed call", async () => {
    const { w, turn } = await started({ scripts: [[{ type: "usage", inputTokens: 5 }], [text("whole"), ...endTurn]] });
    await w.runJobs();
    expect(w.model.calls).to.equal(2);
    expect(saved(w, turn)).to.include({ status: "complete", stopReason: "end_turn", text: "whole" });
  });

  it("a missing user turn closes the answer as internal error instead of leaving it streaming", async () => {
    const { w, turn } = await started();
    delete w.queue.jobs[0]!.context; // the worker reads the context (and so the user turn) itself
    w.history.turns.delete(`${turn.sessionId}/${turn.userTurnId}`);
    await w.runJobs();
    expect(saved(w, turn)).to.include({ status: "error" });
    expect(endings(w, turn.turnId)[0]).to.include({ type: "error", code: "internal" });
  });

  it("no turn stays streaming across every failure kind", async () => {
    const scripts: ModelStep[][] = [[throttled()], [text("x"), { type: "throw", error: new Error("socket hang up") }], [text("y"), hang], [text("z"), ...endTurn]];
    for (const script of scripts) {
      const { w, turn } = await started({ scripts: [script], generate: { idleTimeoutMs: 30 } });
      await w.runJobs();
      expect(saved(w, turn).status).not.to.equal("streaming");
      expect(endings(w, turn.turnId)).to.have.length(1);
    }
  });
});
