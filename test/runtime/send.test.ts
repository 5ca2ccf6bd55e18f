import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { sessionOfTurn } from "../../runtime/chat/ids";
import { parseJob } from "../../runtime/chat/job";
import { ManualClock } from "./fakes";
import { createWorld, send } from "./world";

describe("runtime/chat: send, idempotency, ownership, quotas", () => {
  it("opens a session, writes the user turn and a streaming assistant turn, announces turn.started, queues the worker", async () => {
    const w = createWorld();
    const c = await w.connect("c1", "alice");
    const frame = send("What is DynamoDB?");
    const outcome = await w.frame(c, frame);
    expect(outcome).to.deep.equal({ action: "send" });

    const [started] = w.sender.of("turn.started");
    expect(started).to.include({ clientMessageId: frame.clientMessageId, region: "us-east-1" });
    expect(sessionOfTurn(started!.turnId)).to.equal(started!.sessionId);
    const turns = w.history.sessionTurns(started!.sessionId);
    expect(turns.map((t) => [t.role, t.status, t.text])).to.deep.equal([
      ["user", "complete", "What is DynamoDB?"],
      ["assistant", "streaming", ""],
    ]);
    expect(turns[1]!.parentTurnId).to.equal(turns[0]!.turnId).and.equal(started!.userTurnId);
    expect(w.history.sessions.get(started!.sessionId)).to.include({ userId: "alice", title: "What is DynamoDB?" });
    expect(w.queue.jobs).to.deep.equal([
      {
        kind: "generate",
        sessionId: started!.sessionId,
        turnId: started!.turnId,
        userTurnId: turns[0]!.turnId,
        connectionId: "c1",
        userId: "alice",
        receivedAt: w.queue.jobs[0]!.receivedAt,
        // A new session has no history: the context is the message, with no read.
        context: [{ role: "user", text: "What is DynamoDB?" }],
      },
    ]);
    expect(w.history.calls.turnsUpTo ?? 0).to.equal(0);
  });

  it("re-announces the same turn for a duplicate clientMessageId and never starts a second generation", async () => {
    const w = createWorld();
    const c = await w.connect("c1", "alice");
    const frame = send("hello");
    await w.frame(c, frame);
    await w.frame(c, frame);
    const c2 = await w.connect("c2", "alice"); // the retry may come after a reconnect
    await w.frame(c2, frame);

    const announced = w.sender.of("turn.started");
    expect(announced).to.have.length(3);
    expect(new Set(announced.map((s) => s.turnId)).size).to.equal(1);
    expect(new Set(announced.map((s) => s.sessionId)).size).to.equal(1);
    expect(w.queue.jobs).to.have.length(1);
    expect([...w.history.turns.values()]).to.have.length(2);

    await w.runJobs();
    await w.frame(c, frame); // after completion too
    expect(w.queue.jobs).to.have.length(0);
    expect(w.model.calls).to.equal(1);
    expect(w.sender.of("turn.started").at(-1)!.turnId).to.equal(announced[0]!.turnId);
  });

  for (const slots of [1, 3]) {
    it(`two concurrent sends of one clientMessageId start one turn, the loser re-announces it (${slots} slot(s))`, async () => {
      const w = createWorld({ maxConcurrentPerConnection: slots });
      const c = await w.connect("c1", "alice");
      const frame = send("at the same time");
      await Promise.all([w.frame(c, frame), w.frame(c, frame)]);
      const announced = w.sender.of("turn.started");
      expect(w.sender.of("error")).to.deep.equal([]);
      expect(announced).to.have.length(2);
      expect(announced[0]!.turnId).to.equal(announced[1]!.turnId);
      expect(w.queue.jobs).to.have.length(1);
      expect([...w.history.turns.values()]).to.have.length(2);
      expect(w.connections.items.get("c1")!.activeTurns.size).to.equal(1, "the loser gave its slot back");
    });
  }

  it("a duplicate sent while its original is still writing waits for the original's turn and re-announces it", async () => {
    const w = createWorld();
    const c1 = await w.connect("c1", "alice");
    const c2 = await w.connect("c2", "alice");
    const frame = send("once");
    // The original's writes wait until the duplicate has looked for the turn at least once (and found none).
    const { history } = w;
    const putNewTurns = history.putNewTurns.bind(history);
    const getTurn = history.getTurn.bind(history);
    let looked!: () => void;
    const duplicateLooked = new Promise<void>((resolve) => (looked = resolve));
    history.getTurn = async (...args) => {
      const turn = await getTurn(...args);
      if (!turn) looked();
      return turn;
    };
    history.putNewTurns = async (...args) => (await duplicateLooked, putNewTurns(...args));
    const original = w.frame(c1, frame);
    const duplicate = w.frame(c2, frame);
    expect(await Promise.all([original, duplicate])).to.deep.equal([{ action: "send" }, { action: "send" }]);
    const [first] = w.sender.of("turn.started", "c1");
    expect(w.sender.of("turn.started", "c2").map((s) => s.turnId)).to.deep.equal([first!.turnId]);
    expect(w.queue.jobs).to.have.length(1);
    expect([...w.ledger.counters.values()]).to.deep.equal([1], "the duplicate gave back the message it counted");
  });

  it("a duplicate whose original is refused after claiming the message starts the answer itself", async () => {
    const w = createWorld({ maxConcurrentPerConnection: 1 });
    const c1 = await w.connect("c1", "alice");
    await w.frame(c1, send("busy")); // c1's one slot is held by an answer still streaming
    const c2 = await w.connect("c2", "alice"); // the client reconnected and sends the message again
    const frame = send("retry me");
    // The original claims first; the duplicate tries its claim before the original's refusal gives the claim back.
    const { ledger } = w;
    const claim = ledger.claim.bind(ledger);
    let originalClaimed!: () => void;
    let duplicateTried!: () => void;
    const claimed = new Promise<void>((resolve) => (originalClaimed = resolve));
    const tried = new Promise<void>((resolve) => (duplicateTried = resolve));
    let calls = 0;
    ledger.claim = async (arg) => {
      const call = calls++;
      if (call === 0) {
        const result = await claim(arg);
        originalClaimed();
        await tried;
        return result;
      }
      if (call === 1) {
        await claimed;
        const result = await claim(arg);
        duplicateTried();
        return result;
      }
      return claim(arg);
    };
    const [original, duplicate] = await Promise.all([w.frame(c1, frame), w.frame(c2, frame)]);
    expect(original.error).to.equal("rate_limited");
    expect(duplicate).to.deep.equal({ action: "send" });
    const [started] = w.sender.of("turn.started", "c2");
    expect(started).to.include({ clientMessageId: frame.clientMessageId });
    expect(w.queue.jobs.map((j) => j.turnId)).to.include(started!.turnId).and.have.length(2);
    expect(w.history.sessionTurns(started!.sessionId).map((t) => t.role)).to.deep.equal(["user", "assistant"]);
    expect((await ledger.getClaim("alice", frame.clientMessageId))?.assistantTurnId).to.equal(started!.turnId);
  });

  it("writes a connection's own slot only when its limit is lower than the user's (the user's slot bounds it otherwise), and the worker releases only a slot that was written", async () => {
    for (const [perConnection, perUser, held] of [[2, 2, 0], [3, 2, 0], [1, 2, 1]] as const) {
      const limits = `${perConnection} per connection, ${perUser} per user`;
      const w = createWorld({ maxConcurrentPerConnection: perConnection, maxConcurrentPerUser: perUser });
      const c = await w.connect("c1", "alice");
      await w.frame(c, send("hi"));
      expect(w.connections.items.get("c1")!.activeTurns.size).to.equal(held, limits);
      expect(w.ledger.generating.get("alice")?.size).to.equal(1);
      // The job says when there is no connection slot to release; absent (older jobs too) means there is one.
      const job = w.queue.jobs[0]!;
      expect(job.connectionSlot, limits).to.equal(held ? undefined : false);
      expect(parseJob(JSON.parse(JSON.stringify(job)))?.connectionSlot, limits).to.equal(job.connectionSlot);
      const [outcome] = await w.runJobs();
      expect(outcome!.status, limits).to.equal("complete");
      expect(w.connections.releases, limits).to.equal(held);
      expect(w.connections.items.get("c1")!.activeTurns.size, limits).to.equal(0);
    }
  });

  it("a duplicate or a refused send gives back the quota it took while checking (checks run in parallel)", async () => {
    const w = createWorld({ messagesPerMinute: 2, maxConcurrentPerConnection: 1 });
    const c = await w.connect("c1", "alice");
    const frame = send("hello");
    await w.frame(c, frame);
    // The answer still streams (its slot is taken): a re-send is re-announced, not refused, and counts nothing.
    for (let i = 0; i < 3; i++) await w.frame(c, frame);
    expect(w.sender.of("turn.started")).to.have.length(4);
    expect(w.sender.of("error")).to.deep.equal([]);
    expect((await w.frame(c, send("slot taken"))).error).to.equal("rate_limited");
    expect((await w.frame(c, send("not mine", { sessionId: randomUUID() }))).error).to.equal("not_found");
    expect([...w.ledger.counters.values()]).to.deep.equal([1], "only the message that started an answer counts");
    expect([...w.connections.items.get("c1")!.activeTurns]).to.deep.equal([w.sender.of("turn.started")[0]!.turnId]);
    await w.runJobs();
    expect((await w.frame(c, send("second message"))).error).to.equal(undefined);
    expect((await w.frame(await w.connect("c2", "alice"), send("third"))).error).to.equal("rate_limited");
  });

  it("runs the owner check, the quota writes and the message claim at once", async () => {
    const w = createWorld();
    const c = await w.connect("c1", "alice");
    await w.frame(c, send("first"));
    const sessionId = w.sender.of("turn.started")[0]!.sessionId;
    await w.runJobs();
    // Each of the three waits until the other two have started: done one after another, this send would hang.
    const started = new Set<string>();
    let release!: () => void;
    const all = new Promise<void>((resolve) => (release = resolve));
    const gate = async (name: string) => {
      started.add(name);
      if (started.size === 3) release();
      await Promise.race([all, new Promise((_, reject) => setTimeout(() => reject(new Error(`${name} ran alone`)), 2_000))]);
    };
    const { ledger, history } = w;
    const countMessage = ledger.countMessage.bind(ledger);
    const touchOwnSession = history.touchOwnSession.bind(history);
    const claim = ledger.claim.bind(ledger);
    ledger.countMessage = async (...args) => (await gate("countMessage"), countMessage(...args));
    history.touchOwnSession = async (...args) => (await gate("touchOwnSession"), touchOwnSession(...args));
    ledger.claim = async (...args) => (await gate("claim"), claim(...args));
    expect(await w.frame(c, send("second", { sessionId }))).to.deep.equal({ action: "send" });
    expect([...started].sort()).to.deep.equal(["claim", "countMessage", "touchOwnSession"]);
  });

  it("the same clientMessageId from another user is another message", async () => {
    const w = createWorld();
    const frame = send("hello");
    await w.frame(await w.connect("c1", "alice"), frame);
    await w.frame(await w.connect("c2", "bob"), frame);
    expect(w.queue.jobs.map((j) => j.userId)).to.deep.equal(["alice", "bob"]);
  });

  it("continues an own session and answers not_found for another user's session, exactly as for a missing one", async () => {
    const w = createWorld();
    const alice = await w.connect("c1", "alice");
    await w.frame(alice, send("first"));
    const sessionId = w.sender.of("turn.started")[0]!.sessionId;
    await w.runJobs();
    await w.frame(alice, send("second", { sessionId }));
    expect(w.sender.of("turn.started")[1]!.sessionId).to.equal(sessionId);

    const bob = await w.connect("c2", "bob");
    const intruding = send("let me in", { sessionId });
    const outcome = await w.frame(bob, intruding);
    const missing = send("hm", { sessionId: randomUUID() });
    await w.frame(bob, missing);
    await w.frame(bob, send("hm", { sessionId: "not-a-uuid" }));
    const errors = w.sender.of("error", "c2");
    expect(outcome.error).to.equal("not_found");
    expect(errors.map((e) => [e.code, e.message])).to.deep.equal([
      ["not_found", "session not found"],
      ["not_found", "session not found"],
      ["not_found", "session not found"],
    ]);
    expect(errors[0]!.clientMessageId).to.equal(intruding.clientMessageId);
    expect(w.history.sessionTurns(sessionId).filter((t) => t.userId === "bob")).to.have.length(0);
  });

  it("a send refused by a quota leaves its session where it was in the list (the owner check had moved it)", async () => {
    const clock = new ManualClock();
    await clock.advance(1_000);
    const w = createWorld({ maxConcurrentPerConnection: 1, clock });
    const c = await w.connect("c1", "alice");
    const first = await w.frame(c, send("first"));
    expect(first.error).to.equal(undefined);
    const sessionId = w.sender.of("turn.started")[0]!.sessionId;
    const before = w.history.sessions.get(sessionId)!.updatedAt;
    await clock.advance(60_000);
    // Its answer still streams, so the connection's one slot is taken: the next send is refused after the touch.
    expect((await w.frame(c, send("second", { sessionId }))).error).to.equal("rate_limited");
    expect(w.history.sessions.get(sessionId)!.updatedAt).to.equal(before);
    expect(w.history.calls.untouchSession).to.equal(1);
  });

  it("answers rate_limited past the messages-per-minute quota, and the connection stays usable", async () => {
    const w = createWorld({ messagesPerMinute: 2, maxConcurrentPerConnection: 10 });
    const c = await w.connect("c1", "alice");
    await w.frame(c, send("1"));
    await w.frame(c, send("2"));
    const third = send("3");
    expect((await w.frame(c, third)).error).to.equal("rate_limited");
    expect(w.sender.of("error")[0]).to.include({ code: "rate_limited", clientMessageId: third.clientMessageId });
    expect(w.queue.jobs).to.have.length(2);
    expect(w.ledger.claims.size).to.equal(2, "a refused message does not claim its id");
    await w.frame(c, { action: "ping" });
    expect(w.sender.of("pong")).to.have.length(1);
  });

  it("answers rate_limited past the concurrent generations per connection, and frees the slot when a turn ends", async () => {
    const w = createWorld({ maxConcurrentPerConnection: 1 });
    const c = await w.connect("c1", "alice");
    await w.frame(c, send("1"));
    expect((await w.frame(c, send("2"))).error).to.equal("rate_limited");
    const other = await w.connect("c2", "alice");
    expect((await w.frame(other, send("on another connection"))).error).to.equal(undefined);
    await w.runJobs();
    expect(w.connections.items.get("c1")!.activeTurns.size).to.equal(0);
    expect((await w.frame(c, send("3"))).error).to.equal(undefined);
  });

  it("reclaims a slot held by a turn that is no longer generating (lost release or crashed worker)", async () => {
    const w = createWorld({ maxConcurrentPerConnection: 1 });
    const c = await w.connect("c1", "alice");
    await w.frame(c, send("1"));
    await w.runJobs();
    const finished = w.sender.of("turn.started")[0]!.turnId;
    w.connections.items.get("c1")!.activeTurns.add(finished); // as if the worker's release had been lost
    w.connections.items.get("c1")!.activeTurns.add("garbage-id");
    expect((await w.frame(c, send("2"))).error).to.equal(undefined);
    expect([...w.connections.items.get("c1")!.activeTurns]).to.deep.equal([w.sender.of("turn.started")[1]!.turnId]);
    expect((await w.frame(c, send("3"))).error).to.equal("rate_limited", "a generating turn keeps its slot");
  });

  it("answers ping with pong and unknown actions with bad_request without closing anything", async () => {
    const w = createWorld();
    const c = await w.connect("c1", "alice");
    await w.frame(c, { action: "dance" });
    await w.frame(c, "not json");
    await w.frame(c, { action: "ping" });
    expect(w.sender.frames.map((f) => f.frame.type)).to.deep.equal(["error", "error", "pong"]);
    expect(w.sender.of("error").map((e) => e.code)).to.deep.equal(["bad_request", "bad_request"]);
    expect(w.connections.items.has("c1")).to.equal(true);
  });

  it("refuses frames from a connection that was never registered with forbidden", async () => {
    const w = createWorld();
    expect((await w.frame("ghost", send("hi"))).error).to.equal("forbidden");
    expect(w.queue.jobs).to.have.length(0);
  });

  it("closes the turn as error and frees the id when the worker cannot be invoked", async () => {
    const w = createWorld();
    const c = await w.connect("c1", "alice");
    w.queue.failWith = Object.assign(new Error("nope"), { name: "TooManyRequestsException" });
    const frame = send("hi");
    await w.frame(c, frame);
    const [started] = w.sender.of("turn.started");
    const [error] = w.sender.of("error");
    expect(error).to.include({ code: "internal", turnId: started!.turnId, clientMessageId: frame.clientMessageId });
    const assistant = w.history.sessionTurns(started!.sessionId).find((t) => t.role === "assistant")!;
    expect(assistant.status).to.equal("error");
    expect(w.connections.items.get("c1")!.activeTurns.size).to.equal(0);
    expect(w.metrics.errors).to.deep.equal(["internal"]);
  });

  it("answers internal and keeps nothing half-done when a history write fails", async () => {
    const w = createWorld();
    const c = await w.connect("c1", "alice");
    w.history.faults.fail("putNewTurns", 1);
    const frame = send("hi");
    expect((await w.frame(c, frame)).error).to.equal("internal");
    expect(w.ledger.claims.size).to.equal(0, "the client's retry can start the message");
    expect(w.history.turns.size).to.equal(0, "no half-written exchange is left in history");
    expect(w.connections.items.get("c1")!.activeTurns.size).to.equal(0);
    await w.frame(c, frame);
    expect(w.sender.of("turn.started")).to.have.length(1);
    expect(w.queue.jobs).to.have.length(1);
  });

  it("a store failure during send is answered internal naming the clientMessageId (a failed stop names no turn)", async () => {
    const w = createWorld({ scripts: [[{ type: "hang" }]] });
    const c = await w.connect("c1", "alice");
    w.history.faults.fail("putNewTurns", 1);
    const frame = send("hi");
    expect((await w.frame(c, frame)).error).to.equal("internal");
    expect(w.sender.of("error")).to.deep.equal([{ type: "error", code: "internal", message: "something went wrong; try again", clientMessageId: frame.clientMessageId }]);

    await w.frame(c, frame);
    const [started] = w.sender.of("turn.started");
    w.history.faults.fail("requestStop", 1);
    expect((await w.frame(c, { action: "stop", turnId: started!.turnId })).error).to.equal("internal");
    // An error naming the turn would read as its end, while it streams on.
    expect(w.sender.of("error")[1]).to.deep.equal({ type: "error", code: "internal", message: "something went wrong; try again" });

    // A refusal the use case names keeps its own ids; one it does not name gets the frame's.
    expect((await w.frame("ghost", send("hello", { clientMessageId: frame.clientMessageId }))).error).to.equal("forbidden");
    expect(w.sender.of("error")[2]).to.include({ code: "forbidden", clientMessageId: frame.clientMessageId });
  });

  it("logs ids but never the prompt text", async () => {
    const w = createWorld();
    const c = await w.connect("c1", "alice");
    await w.frame(c, send("my secret prompt"));
    await w.frame(c, { action: "dance" });
    await w.runJobs();
    expect(w.log.lines.length).to.be.greaterThan(0);
    expect(w.log.text).not.to.include("my secret prompt");
    expect(w.log.text).not.to.include("Hello, world.");
    expect(w.log.lines.some((l) => l.attributes?.turnId && l.attributes?.connectionId)).to.equal(true);
  });
});
