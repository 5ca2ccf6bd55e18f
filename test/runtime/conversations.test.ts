import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { MAX_TITLE_LENGTH } from "../../runtime/protocol";
import { systemClock } from "../../runtime/chat/clock";
import { generateTurn } from "../../runtime/chat/generate";
import { SILENT_WORKER_MS } from "../../runtime/chat/liveness";
import type { ModelStep } from "./fakes";
import { createWorld, endTurn, send, text, wait, type World } from "./world";

async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function session(w: World, connectionId: string, message = "What is a global table?"): Promise<string> {
  await w.frame(connectionId, send(message));
  const started = w.sender.of("turn.started", connectionId).at(-1)!;
  return started.sessionId;
}

describe("runtime/chat/conversations: rename and delete", () => {
  it("renames a session (trimmed, one line) and answers the session list, in the same order", async () => {
    let now = Date.now();
    const w = createWorld({ scripts: [[text("ok"), ...endTurn]], clock: { ...systemClock, now: () => ++now } });
    const c = await w.connect("c1", "alice");
    const older = await session(w, c, "first");
    await session(w, c, "second");
    await w.runJobs();
    expect((await w.frame(c, { action: "rename", sessionId: older, title: "  Global tables,\n explained  " })).error).to.equal(undefined);
    const list = w.sender.of("sessions", c).at(-1)!;
    expect(list.sessions.map((s) => s.title)).to.deep.equal(["second", "Global tables, explained"]);
    expect(w.history.sessions.get(older)!.title).to.equal("Global tables, explained");
  });

  it("answers not_found for another user's session and a missing one, and changes nothing", async () => {
    const w = createWorld();
    const alice = await w.connect("c1", "alice");
    const sessionId = await session(w, alice);
    await w.runJobs();
    const bob = await w.connect("c2", "bob");
    for (const frame of [
      { action: "rename", sessionId, title: "mine now" },
      { action: "delete", sessionId },
      { action: "rename", sessionId: randomUUID(), title: "nothing" },
      { action: "delete", sessionId: randomUUID() },
      { action: "delete", sessionId: "not-a-uuid" },
    ]) {
      expect((await w.frame(bob, frame)).error, JSON.stringify(frame)).to.equal("not_found");
    }
    const errors = w.sender.of("error", bob);
    // The same words whether the session exists or not: no hint that it does.
    expect(new Set(errors.map((e) => e.message))).to.deep.equal(new Set(["session not found"]));
    expect(errors.every((e) => e.turnId === undefined && e.clientMessageId === undefined)).to.equal(true);
    expect(w.history.sessions.get(sessionId)!.title).to.equal("What is a global table?");
    expect(w.history.itemsOf(sessionId)).to.include("session");
    expect(w.history.sessionTurns(sessionId)).to.have.length(2);
  });

  it("refuses empty, blank and over-long titles and a missing title with bad_request", async () => {
    const w = createWorld();
    const c = await w.connect("c1", "alice");
    const sessionId = await session(w, c);
    await w.runJobs();
    for (const title of ["", "   \n\t ", "x".repeat(MAX_TITLE_LENGTH + 1), 42, undefined]) {
      expect((await w.frame(c, { action: "rename", sessionId, title })).error, String(title)).to.equal("bad_request");
    }
    // Exactly the maximum, after trimming, is fine.
    expect((await w.frame(c, { action: "rename", sessionId, title: ` ${"y".repeat(MAX_TITLE_LENGTH)} ` })).error).to.equal(undefined);
    expect(w.history.sessions.get(sessionId)!.title).to.equal("y".repeat(MAX_TITLE_LENGTH));
    expect((await w.frame(c, { action: "delete" })).error).to.equal("bad_request");
  });

  it("deletes a finished session: every turn, replaced answers and control items, and answers the list without it", async () => {
    const w = createWorld({ scripts: [[text("one"), ...endTurn], [text("two"), ...endTurn]] });
    const c = await w.connect("c1", "alice");
    const sessionId = await session(w, c);
    await w.runJobs();
    await w.frame(c, { action: "regenerate", turnId: w.sender.of("turn.started", c)[0]!.turnId });
    await w.runJobs();
    const kept = await session(w, c, "another one");
    await w.runJobs();
    expect(w.history.sessionTurns(sessionId)).to.have.length(3);
    expect((await w.frame(c, { action: "delete", sessionId })).error).to.equal(undefined);
    expect(w.history.itemsOf(sessionId)).to.deep.equal([]);
    expect(w.sender.of("sessions", c).at(-1)!.sessions.map((s) => s.sessionId)).to.deep.equal([kept]);
    // Gone for every action: history, rename, a second delete, a send into it.
    for (const frame of [{ action: "history", sessionId }, { action: "rename", sessionId, title: "t" }, { action: "delete", sessionId }, send("more", { sessionId })]) {
      expect((await w.frame(c, frame)).error, frame.action).to.equal("not_found");
    }
    expect(w.history.itemsOf(sessionId)).to.deep.equal([]);
  });

  it("a delete during generation stops the answer: one turn.done (stopped), the worker erases what it wrote, nothing is re-created", async () => {
    const hang: ModelStep = { type: "hang" };
    const w = createWorld({ scripts: [[text("Once upon "), wait(5), text("a time"), hang]], generate: { checkpointMs: 10 } });
    const c = await w.connect("c1", "alice");
    const watcher = await w.connect("c2", "alice");
    const sessionId = await session(w, c, "Tell me a long story");
    const turnId = w.sender.of("turn.started", c)[0]!.turnId;
    const run = w.runJobs();
    await until(() => w.sender.of("delta", c).length > 0, "a delta");
    // A second tab follows the answer: its watch and the worker's acknowledgement are control items to erase too.
    await w.frame(watcher, { action: "resume", turnId, afterSeq: -1, offset: 0 });
    await until(() => w.history.acks.size > 0, "the watcher taken on");
    expect((await w.frame(c, { action: "delete", sessionId })).error).to.equal(undefined);
    expect(w.sender.of("sessions", c).at(-1)!.sessions).to.deep.equal([]);
    const [outcome] = await run;
    expect(outcome!.stopReason).to.equal("stopped");
    for (const connection of [c, watcher]) {
      const ends = w.sender.frames.filter((f) => f.connectionId === connection && ((f.frame.type === "turn.done" && f.frame.turnId === turnId) || (f.frame.type === "error" && f.frame.turnId === turnId)));
      expect(ends.map((f) => f.frame.type), connection).to.deep.equal(["turn.done"]);
    }
    expect(w.history.itemsOf(sessionId)).to.deep.equal([]);
    expect(w.history.calls.eraseTurn).to.equal(1);
    // The worker's budget slot is free again.
    expect(await w.ledger.generationHolders("alice")).to.deep.equal([]);
  });

  it("a delete before the worker starts: the model is never called and the erase request is cleaned up", async () => {
    const w = createWorld();
    const c = await w.connect("c1", "alice");
    const sessionId = await session(w, c);
    await w.frame(c, { action: "delete", sessionId });
    const [outcome] = await w.runJobs();
    expect(outcome).to.include({ status: "stopped", stopReason: "stopped" });
    expect(w.model.requests).to.have.length(0);
    expect(w.history.itemsOf(sessionId)).to.deep.equal([]);
    // The turn still ends once for the client, and its slots are free again.
    const turnId = w.sender.of("turn.started", c)[0]!.turnId;
    expect(w.sender.frames.filter((f) => (f.frame.type === "turn.done" || f.frame.type === "error") && f.frame.turnId === turnId).map((f) => f.frame)).to.deep.equal([
      { type: "turn.done", turnId, stopReason: "stopped", usage: { inputTokens: 0, outputTokens: 0 }, ttftMs: null },
    ]);
    expect(await w.ledger.generationHolders("alice")).to.deep.equal([]);
    expect(await w.connections.slotHolders(c)).to.deep.equal([]);
  });

  it("a job delivered twice at a delete ends its turn once, before either delivery claimed it or while one generates", async () => {
    const hang: ModelStep = { type: "hang" };
    for (const when of ["before the claim", "while generating"] as const) {
      const w = createWorld({ scripts: [[text("Once upon "), wait(5), text("a time"), hang]], generate: { checkpointMs: 10 } });
      const c = await w.connect("c1", "alice");
      const sessionId = await session(w, c, "Tell me a long story");
      const turnId = w.sender.of("turn.started", c)[0]!.turnId;
      const job = w.queue.jobs.shift()!;
      const deliver = () => generateTurn(structuredClone(job), () => 900_000, w.generateDeps);
      let first: Promise<unknown> | undefined;
      if (when === "while generating") {
        first = deliver();
        await until(() => w.sender.of("delta", c).length > 0, "a delta");
      }
      expect((await w.frame(c, { action: "delete", sessionId })).error, when).to.equal(undefined);
      await Promise.all([first ?? deliver(), deliver()]);
      const ends = w.sender.frames.filter((f) => (f.frame.type === "turn.done" || f.frame.type === "error") && f.frame.turnId === turnId);
      expect(ends.map((f) => f.frame.type), when).to.deep.equal(["turn.done"]);
      expect(w.history.itemsOf(sessionId), when).to.deep.equal([]);
      expect(await w.ledger.generationHolders("alice"), when).to.deep.equal([]);
    }
  });

  it("a streaming turn whose worker is gone is erased by the delete itself", async () => {
    const w = createWorld();
    const c = await w.connect("c1", "alice");
    const sessionId = await session(w, c);
    const answer = w.history.sessionTurns(sessionId).find((t) => t.role === "assistant")!;
    // Claimed, then silent past the rule: the worker died.
    const long = new Date(Date.now() - SILENT_WORKER_MS - 1000).toISOString();
    Object.assign(w.history.turns.get(`${sessionId}/${answer.turnId}`)!, { generationStartedAt: long, updatedAt: long });
    await w.frame(c, { action: "delete", sessionId });
    expect(w.history.itemsOf(sessionId)).to.deep.equal([]);
    expect(w.history.calls.requestErase ?? 0).to.equal(0);
  });
});
