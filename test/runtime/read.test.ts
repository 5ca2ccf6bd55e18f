import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { systemClock } from "../../runtime/chat/clock";
import { STALE_STREAMING_MS } from "../../runtime/chat/liveness";
import { HISTORY_PAGE_SIZE } from "../../runtime/chat/read";
import { createWorld, endTurn, send, text } from "./world";

describe("runtime/chat/read: sessions and history", () => {
  it("lists only the caller's sessions, newest first", async () => {
    // A clock that moves 1 ms on every reading: each session is newer than the one before, however fast the machine.
    let now = Date.now();
    const w = createWorld({ scripts: [[text("ok"), ...endTurn]], clock: { ...systemClock, now: () => ++now } });
    const alice = await w.connect("c1", "alice");
    const bob = await w.connect("c2", "bob");
    await w.frame(alice, send("first topic"));
    await w.frame(bob, send("bob's topic"));
    await w.frame(alice, send("second topic"));
    await w.runJobs();
    await w.frame(alice, { action: "sessions" });
    const [list] = w.sender.of("sessions", "c1");
    expect(list!.sessions.map((s) => s.title)).to.deep.equal(["second topic", "first topic"]);
    expect(Object.keys(list!.sessions[0]!).sort()).to.deep.equal(["createdAt", "sessionId", "title", "updatedAt"]);
  });

  it("pages a session's turns oldest first with a cursor, in the protocol's TurnRecord shape", async () => {
    const w = createWorld({ scripts: [[text("answer"), ...endTurn]], messagesPerMinute: 1000 });
    const c = await w.connect("c1", "alice");
    await w.frame(c, send("q0"));
    const sessionId = w.sender.of("turn.started")[0]!.sessionId;
    await w.runJobs();
    const exchanges = HISTORY_PAGE_SIZE / 2 + 5;
    for (let i = 1; i < exchanges; i++) {
      await w.frame(c, send(`q${i}`, { sessionId }));
      await w.runJobs();
    }
    await w.frame(c, { action: "history", sessionId });
    const first = w.sender.of("history")[0]!;
    expect(first.turns).to.have.length(HISTORY_PAGE_SIZE);
    expect(first.cursor).to.be.a("string");
    await w.frame(c, { action: "history", sessionId, cursor: first.cursor });
    const second = w.sender.of("history")[1]!;
    expect(second.cursor).to.equal(undefined);
    const all = [...first.turns, ...second.turns];
    expect(all).to.have.length(exchanges * 2);
    expect(all.filter((t) => t.role === "user").map((t) => t.text)).to.deep.equal(Array.from({ length: exchanges }, (_, i) => `q${i}`));
    const assistant = all[1]!;
    expect(assistant).to.include({ role: "assistant", text: "answer", status: "complete", parentTurnId: all[0]!.turnId, model: "test.model" });
    expect(assistant.usage).to.deep.equal({ inputTokens: 12, outputTokens: 7 });
    expect(assistant).not.to.have.any.keys("userId", "connectionId", "generationStartedAt", "pk", "sk");
  });

  it("answers not_found for another user's session and for a missing one, bad_request for a bad cursor", async () => {
    const w = createWorld();
    const alice = await w.connect("c1", "alice");
    await w.frame(alice, send("private"));
    const sessionId = w.sender.of("turn.started")[0]!.sessionId;
    const bob = await w.connect("c2", "bob");
    await w.frame(bob, { action: "history", sessionId });
    await w.frame(bob, { action: "history", sessionId: randomUUID() });
    await w.frame(alice, { action: "history", sessionId, cursor: "forged" });
    expect(w.sender.of("error", "c2").map((e) => [e.code, e.message])).to.deep.equal([
      ["not_found", "session not found"],
      ["not_found", "session not found"],
    ]);
    expect(w.sender.of("error", "c1").map((e) => e.code)).to.deep.equal(["bad_request"]);
    expect(w.sender.of("history", "c2")).to.have.length(0);
  });

  it("a turn left streaming long past any worker's lifetime shows as error and can be regenerated", async () => {
    let offset = 0;
    const clock = { ...systemClock, now: () => Date.now() + offset };
    const w = createWorld({ clock, scripts: [[text("fresh answer"), ...endTurn]] });
    const c = await w.connect("c1", "alice");
    await w.frame(c, send("q"));
    const turn = w.sender.of("turn.started")[0]!;
    const lostJob = w.queue.jobs.shift()!; // the worker never ran (crashed)
    await w.frame(c, { action: "history", sessionId: turn.sessionId });
    expect(w.sender.of("history")[0]!.turns[1]!.status).to.equal("streaming");
    await w.frame(c, { action: "regenerate", turnId: turn.turnId });
    expect(w.sender.of("error").at(-1)).to.include({ code: "busy" });

    offset = STALE_STREAMING_MS + 60_000;
    await w.frame(c, { action: "history", sessionId: turn.sessionId });
    expect(w.sender.of("history")[1]!.turns[1]!.status).to.equal("error");
    await w.frame(c, { action: "regenerate", turnId: turn.turnId });
    const replacement = w.sender.of("turn.started")[1]!;
    expect(replacement.turnId).not.to.equal(turn.turnId);
    w.queue.jobs.unshift(lostJob); // a very late delivery of the lost job
    const outcomes = await w.runJobs();
    expect(outcomes.map((o) => o.status)).to.deep.equal(["skipped", "complete"]);
    await w.frame(c, { action: "history", sessionId: turn.sessionId });
    expect(w.sender.of("history")[2]!.turns.map((t) => [t.role, t.text, t.status])).to.deep.equal([
      ["user", "q", "complete"],
      ["assistant", "", "error"], // the earlier version, kept (the page shows it as 1 of 2)
      ["assistant", "fresh answer", "complete"],
    ]);
  });
});
