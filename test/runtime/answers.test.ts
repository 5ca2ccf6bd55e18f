import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { parseClientFrame } from "../../runtime/chat/frames";
import { parseJob } from "../../runtime/handlers/worker";
import type { TurnStartedFrame } from "../../runtime/protocol";
import { until } from "./until";
import { createWorld, endTurn, send, text, type World } from "./world";

const maxTokens = [{ type: "usage", inputTokens: 10, outputTokens: 5 } as const, { type: "stop", reason: "max_tokens" } as const];

/** One exchange sent and generated; returns the world, the connection and the announced turn. */
async function answered(scripts: Parameters<typeof createWorld>[0] = {}, prompt = "Tell me a story") {
  const w = createWorld(scripts);
  const c = await w.connect("c1", "alice");
  await w.frame(c, send(prompt));
  await w.runJobs();
  return { w, c, turn: w.sender.of("turn.started")[0]! };
}

function edit(turnId: string, textValue: string, clientMessageId: string = randomUUID()) {
  return { action: "edit", turnId, text: textValue, clientMessageId };
}

async function historyOf(w: World, c: string, sessionId: string) {
  await w.frame(c, { action: "history", sessionId });
  return w.sender.of("history").at(-1)!.turns;
}

describe("runtime/chat: edit, continue and versions (issue 14)", () => {
  describe("frames", () => {
    it("parses edit and continue, and refuses what is malformed", () => {
      const id = randomUUID();
      expect(parseClientFrame(JSON.stringify(edit("t1", "new", id)))).to.deep.equal({ action: "edit", turnId: "t1", text: "new", clientMessageId: id });
      expect(parseClientFrame(JSON.stringify({ action: "continue", turnId: "t1" }))).to.deep.equal({ action: "continue", turnId: "t1", afterSeq: -1 });
      expect(parseClientFrame(JSON.stringify({ action: "continue", turnId: "t1", afterSeq: 4 }))).to.deep.equal({ action: "continue", turnId: "t1", afterSeq: 4 });
      const refused = (body: unknown) => {
        try {
          parseClientFrame(JSON.stringify(body));
        } catch (error) {
          return (error as { code: string }).code;
        }
        return "accepted";
      };
      expect(refused({ action: "edit", turnId: "t1", text: "x", clientMessageId: "not-a-uuid" })).to.equal("bad_request");
      expect(refused({ action: "edit", turnId: "t1", text: "  ", clientMessageId: id })).to.equal("bad_request");
      expect(refused({ action: "edit", text: "x", clientMessageId: id })).to.equal("bad_request");
      expect(refused({ action: "edit", turnId: "t1", text: "x".repeat(17 * 1024), clientMessageId: id })).to.equal("too_large");
      expect(refused({ action: "continue", turnId: "t1", afterSeq: -2 })).to.equal("bad_request");
      expect(refused({ action: "continue" })).to.equal("bad_request");
    });
  });

  describe("edit", () => {
    it("replaces the message, drops the turns after it and answers the new text; history and the context agree", async () => {
      const { w, c, turn } = await answered({ scripts: [[text("first"), ...endTurn], [text("second"), ...endTurn], [text("edited answer"), ...endTurn], [text("more"), ...endTurn]] });
      await w.frame(c, send("and then?", { sessionId: turn.sessionId }));
      await w.runJobs();
      const frame = edit(turn.userTurnId!, "Tell me a poem");
      await w.frame(c, frame);
      const started = w.sender.of("turn.started").at(-1)!;
      expect(started).to.include({ sessionId: turn.sessionId, clientMessageId: frame.clientMessageId, replacesTurnId: turn.userTurnId });
      await w.runJobs();
      expect(w.model.requests.at(-1)!.messages).to.deep.equal([{ role: "user", text: "Tell me a poem" }]);
      expect(w.sender.of("turn.done").at(-1)).to.include({ turnId: started.turnId, stopReason: "end_turn" });

      const turns = await historyOf(w, c, turn.sessionId);
      expect(turns.map((t) => [t.role, t.text])).to.deep.equal([
        ["user", "Tell me a poem"],
        ["assistant", "edited answer"],
      ]);
      await w.frame(c, send("again", { sessionId: turn.sessionId }));
      await w.runJobs();
      expect(w.model.requests.at(-1)!.messages.map((m) => m.text)).to.deep.equal(["Tell me a poem", "edited answer", "again"]);
    });

    it("is idempotent per clientMessageId: a repeat re-announces the same turn and starts nothing", async () => {
      const { w, c, turn } = await answered();
      const frame = edit(turn.userTurnId!, "changed");
      await w.frame(c, frame);
      await w.frame(c, frame);
      const announced = w.sender.of("turn.started").slice(1);
      expect(announced).to.have.length(2);
      expect(announced[0]!.turnId).to.equal(announced[1]!.turnId);
      expect(w.queue.jobs).to.have.length(1);
      expect(w.sender.of("error")).to.deep.equal([]);
    });

    it("goes through admission like send: the operator's switch, the daily budget and the context budget", async () => {
      const { w, c, turn } = await answered({ dailyTokenBudget: 10, contextBudgetTokens: 200 });
      await w.frame(c, edit(turn.userTurnId!, "x".repeat(300)));
      expect(w.sender.of("error").at(-1)).to.include({ code: "too_large" });
      await w.frame(c, edit(turn.userTurnId!, "short"));
      expect(w.sender.of("error").at(-1)).to.include({ code: "quota_exceeded" });
      w.operator.paused = true;
      await w.frame(c, edit(turn.userTurnId!, "short"));
      expect(w.sender.of("error").at(-1)).to.include({ code: "busy" });
      expect(w.queue.jobs).to.have.length(0);
      expect((await historyOf(w, c, turn.sessionId)).map((t) => t.text)).to.deep.equal(["Tell me a story", "Hello, world."]);
    });

    it("bad input: another user's turn is not_found, an answer is bad_request, a streaming answer after it is busy", async () => {
      const w = createWorld({ scripts: [[text("x"), ...endTurn]] });
      const c = await w.connect("c1", "alice");
      await w.frame(c, send("hello"));
      const turn = w.sender.of("turn.started")[0]!;
      await w.frame(c, edit(turn.userTurnId!, "edited while streaming"));
      expect(w.sender.of("error").at(-1)).to.include({ code: "busy" });
      await w.runJobs();
      const bob = await w.connect("c2", "bob");
      await w.frame(bob, edit(turn.userTurnId!, "mine now"));
      expect(w.sender.of("error", "c2").at(-1)).to.include({ code: "not_found" });
      await w.frame(c, edit(turn.turnId, "an answer"));
      expect(w.sender.of("error").at(-1)).to.include({ code: "bad_request" });
      await w.frame(c, edit("no-such-turn", "x"));
      expect(w.sender.of("error").at(-1)).to.include({ code: "not_found" });
    });

    it("two edits of one message at once: one wins, the other is refused and leaves nothing behind", async () => {
      const { w, c, turn } = await answered({ maxConcurrentPerConnection: 3 });
      await Promise.all([w.frame(c, edit(turn.userTurnId!, "one")), w.frame(c, edit(turn.userTurnId!, "two"))]);
      expect(w.sender.of("turn.started").slice(1)).to.have.length(1);
      expect(w.sender.of("error").map((e) => e.code)).to.deep.equal(["bad_request"]);
      await w.runJobs();
      expect((await historyOf(w, c, turn.sessionId)).filter((t) => t.role === "user")).to.have.length(1);
      expect(await w.connections.slotHolders(c)).to.deep.equal([]);
    });
  });

  describe("continue", () => {
    it("goes on with the same turn: seq continues, the model gets the partial answer as prefill, history holds one turn", async () => {
      const { w, c, turn } = await answered({ scripts: [[text("Once upon "), text("a time "), ...maxTokens], [text("there was a cat."), ...endTurn]] });
      const firstDone = w.sender.of("turn.done")[0]!;
      expect(firstDone.stopReason).to.equal("max_tokens");
      const lastSeq = Math.max(...w.sender.of("delta").map((d) => d.seq));
      await w.frame(c, { action: "continue", turnId: turn.turnId, afterSeq: lastSeq });
      const again = w.sender.of("turn.started").at(-1)! as TurnStartedFrame;
      expect(again).to.deep.include({ turnId: turn.turnId, userTurnId: turn.userTurnId, continues: { seq: lastSeq + 1, offset: "Once upon a time ".length } });
      await w.runJobs();
      expect(w.model.requests[1]!.messages).to.deep.equal([
        { role: "user", text: "Tell me a story" },
        { role: "assistant", text: "Once upon a time" },
      ]);
      const deltas = w.sender.of("delta").filter((d) => d.turnId === turn.turnId);
      expect(deltas.map((d) => d.seq)).to.deep.equal(deltas.map((_, i) => i), "seq 0, 1, 2, … with no gap over the continuation");
      expect(w.sender.textOf(turn.turnId)).to.equal("Once upon a time there was a cat.");
      const done = w.sender.of("turn.done");
      expect(done).to.have.length(2);
      expect(done[1]).to.deep.include({ turnId: turn.turnId, stopReason: "end_turn", usage: { inputTokens: 22, outputTokens: 12 } });
      const turns = await historyOf(w, c, turn.sessionId);
      expect(turns.map((t) => [t.role, t.text, t.status, t.stopReason])).to.deep.equal([
        ["user", "Tell me a story", "complete", undefined],
        ["assistant", "Once upon a time there was a cat.", "complete", "end_turn"],
      ]);
    });

    it("continues a stopped answer; the stop of the earlier generation does not reach the new one; bad input is refused", async () => {
      const w = createWorld({ scripts: [[text("partial"), { type: "hang" }], [text(" and the rest."), ...endTurn]] });
      const c = await w.connect("c1", "alice");
      await w.frame(c, send("Tell me a story"));
      const turn = w.sender.of("turn.started")[0]!;
      const running = w.runJobs();
      await until(() => w.model.hanging === 1, "the answer to be mid-stream");
      await w.frame(c, { action: "continue", turnId: turn.turnId });
      expect(w.sender.of("error").at(-1)).to.include({ code: "bad_request" }, "still streaming");
      expect(w.sender.of("error").at(-1)!.turnId).to.equal(undefined, "a refusal does not read as the streaming turn's end");
      await w.frame(c, { action: "stop", turnId: turn.turnId });
      await running;
      expect(w.sender.of("turn.done").at(-1)).to.include({ stopReason: "stopped" });

      const bob = await w.connect("c2", "bob");
      await w.frame(bob, { action: "continue", turnId: turn.turnId });
      expect(w.sender.of("error", "c2").at(-1)).to.include({ code: "not_found" });
      await w.frame(c, { action: "continue", turnId: turn.userTurnId! });
      expect(w.sender.of("error").at(-1)).to.include({ code: "bad_request" });

      await w.frame(c, { action: "continue", turnId: turn.turnId });
      await w.runJobs();
      expect(w.sender.of("turn.done").at(-1)).to.include({ turnId: turn.turnId, stopReason: "end_turn" });
      expect(w.history.sessionTurns(turn.sessionId)[1]).to.include({ text: "partial and the rest.", status: "complete" });
      await w.frame(c, { action: "continue", turnId: turn.turnId });
      expect(w.sender.of("error").at(-1)).to.include({ code: "bad_request" }, "ended end_turn");
      expect(w.queue.jobs).to.have.length(0);
    });

    it("is admitted like send, and of two continues at once (two tabs) one goes on, the other is refused", async () => {
      const { w, c, turn } = await answered({ maxConcurrentPerConnection: 3, scripts: [[text("cut"), ...maxTokens], [text(" off"), ...endTurn]] });
      w.operator.paused = true;
      await w.frame(c, { action: "continue", turnId: turn.turnId });
      expect(w.sender.of("error").at(-1)).to.include({ code: "busy" });
      w.operator.paused = false;
      const tab2 = await w.connect("c2", "alice");
      await Promise.all([w.frame(c, { action: "continue", turnId: turn.turnId }), w.frame(tab2, { action: "continue", turnId: turn.turnId })]);
      expect(w.queue.jobs).to.have.length(1);
      expect(w.sender.of("error").at(-1)).to.include({ code: "bad_request" });
      await w.runJobs();
      expect(w.history.sessionTurns(turn.sessionId)[1]).to.include({ text: "cut off", status: "complete" });
      expect(await w.ledger.generationHolders("alice")).to.deep.equal([]);
    });

    it("a connection that resumes the turn while it is continued gets exactly the text it lacks", async () => {
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      const { w, c, turn } = await answered({ scripts: [[text("Once "), ...maxTokens], [text("upon "), { type: "gate", open: gate }, text("a time."), ...endTurn]] });
      await w.frame(c, { action: "continue", turnId: turn.turnId, afterSeq: 0 });
      const running = w.runJobs();
      await until(() => w.model.hanging === 1, "the continuation to be mid-stream");
      const tab2 = await w.connect("c2", "alice");
      // The second tab read the turn from history before the continuation: it has "Once " and no seq.
      const resumed = w.frame(tab2, { action: "resume", turnId: turn.turnId, afterSeq: -1, offset: "Once ".length });
      await until(() => w.history.calls.acknowledgeWatcher === 1, "the worker to take the tab on");
      open();
      await Promise.all([running, resumed]);
      const tab2Deltas = w.sender.of("delta", "c2");
      expect(tab2Deltas.map((d) => d.seq)).to.deep.equal(tab2Deltas.map((_, i) => i));
      expect("Once " + tab2Deltas.map((d) => d.text).join("")).to.equal("Once upon a time.");
      expect(w.sender.of("delta", "c1").map((d) => d.text).join("")).to.equal("Once upon a time.");
      expect(w.history.sessionTurns(turn.sessionId)[1]).to.include({ text: "Once upon a time." });
      expect(w.sender.of("turn.done", "c2")).to.have.length(1);
      expect(w.sender.of("turn.done", "c1")).to.have.length(2);
    });
  });

  it("the worker reads the continuation from its job, and keeps a reopened turn's text even without it", async () => {
    const job = { kind: "generate", sessionId: "s", turnId: "t", userTurnId: "u", connectionId: "c", userId: "a", receivedAt: 1 };
    expect(parseJob({ ...job, continuation: { firstSeq: 3 } })).to.deep.equal({ ...job, continuation: { firstSeq: 3 } });
    expect(parseJob({ ...job, continuation: { firstSeq: -1 } })).to.deep.equal(job);

    // Limits under which a connection holds no slot of its own: the continue job says so too.
    const { w, c, turn } = await answered({ scripts: [[text("kept"), ...maxTokens], [text(" and more"), ...endTurn]], maxConcurrentPerUser: 2 });
    await w.frame(c, { action: "continue", turnId: turn.turnId });
    expect(w.queue.jobs[0]!.connectionSlot).to.equal(false);
    delete w.queue.jobs[0]!.continuation;
    await w.runJobs();
    expect(w.history.sessionTurns(turn.sessionId)[1]).to.include({ text: "kept and more" });
  });

  describe("turn.started that cannot be posted", () => {
    it("does not stop the answer: send, regenerate, edit and continue still hand their turn to the worker, which ends it", async () => {
      const { w, c, turn } = await answered({
        scripts: [[text("one"), ...maxTokens], [text("two"), ...endTurn], [text("three"), ...endTurn], [text("four"), ...endTurn], [text(" more"), ...endTurn]],
      });
      const down = Object.assign(new Error("gateway down"), { name: "InternalServerError" });
      // Each action with every post failing (the sender's retries spent), then the worker run with the gateway back.
      const attempt = async (body: Record<string, unknown>) => {
        w.sender.failWith = down;
        const outcome = await w.frame(c, body);
        const jobs = w.queue.jobs.map((job) => parseJob(job)!);
        w.sender.failWith = undefined;
        await w.runJobs();
        return { outcome, jobs };
      };
      const continued = await attempt({ action: "continue", turnId: turn.turnId });
      expect(continued.outcome.error).to.equal(undefined);
      expect(continued.jobs.map((j) => j.turnId)).to.deep.equal([turn.turnId]);
      expect(w.history.sessionTurns(turn.sessionId)[1]).to.include({ text: "onetwo", status: "complete" });

      const sent = await attempt(send("again", { sessionId: turn.sessionId }));
      expect(sent.outcome.error).to.equal(undefined);
      expect(sent.jobs).to.have.length(1);
      const third = w.history.sessionTurns(turn.sessionId).find((t) => t.turnId === sent.jobs[0]!.turnId)!;
      expect(third).to.include({ text: "three", status: "complete" });

      const regenerated = await attempt({ action: "regenerate", turnId: third.turnId });
      expect(regenerated.outcome.error).to.equal(undefined);
      expect(regenerated.jobs).to.have.length(1);
      expect(w.history.sessionTurns(turn.sessionId).find((t) => t.turnId === regenerated.jobs[0]!.turnId)).to.include({ text: "four", status: "complete" });

      const edited = await attempt(edit(third.parentTurnId!, "again, differently"));
      expect(edited.outcome.error).to.equal(undefined);
      expect(edited.jobs).to.have.length(1);
      expect(w.history.sessionTurns(turn.sessionId).find((t) => t.turnId === edited.jobs[0]!.turnId)).to.include({ text: " more", status: "complete" });
      expect(w.log.lines.filter((l) => l.level === "warn" && l.message.startsWith("turn.started not delivered"))).to.have.length(4);
    });
  });

  describe("versions", () => {
    it("regenerate keeps the earlier answers in history as versions of one answer; continue refuses an earlier version", async () => {
      const { w, c, turn } = await answered({ scripts: [[text("one"), ...maxTokens], [text("two"), ...endTurn], [text("three"), ...endTurn]] });
      await w.frame(c, { action: "regenerate", turnId: turn.turnId });
      await w.runJobs();
      const second = w.sender.of("turn.started").at(-1)!;
      await w.frame(c, { action: "regenerate", turnId: second.turnId });
      await w.runJobs();
      const turns = await historyOf(w, c, turn.sessionId);
      const versions = turns.filter((t) => t.parentTurnId === turn.userTurnId);
      expect(versions.map((t) => [t.text, t.supersededBy === undefined])).to.deep.equal([
        ["one", false],
        ["two", false],
        ["three", true],
      ]);
      await w.frame(c, { action: "continue", turnId: turn.turnId });
      expect(w.sender.of("error").at(-1)).to.include({ code: "bad_request" });
    });
  });
});
