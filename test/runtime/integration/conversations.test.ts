/**
 * `rename` and `delete` over the wire, through the real handlers and SDK clients on the local stack: in one region,
 * and in two regions whose tables replicate as global tables do (a delete in one region erases the session in both,
 * also while an answer generates in the other).
 */
import { expect } from "chai";
import { randomUUID } from "node:crypto";
import type { ErrorFrame, ServerFrame, SessionsFrameOut, TurnDoneFrame, TurnStartedFrame } from "../../../runtime/protocol";
import type { ChatClient } from "./client";
import { sessionItems } from "./session-items";
import { suiteStack } from "./suite-stack";

const isStarted = (f: ServerFrame): f is TurnStartedFrame => f.type === "turn.started";
const send = (text: string, extra: Record<string, unknown> = {}) => ({ action: "send", clientMessageId: randomUUID(), text, ...extra });
const QUIET = { LOG_LEVEL: "SILENT", POWERTOOLS_LOG_LEVEL: "SILENT" };

async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Sends a frame and waits for its answer: the next `sessions` or `error` frame. */
async function ask(client: ChatClient, frame: unknown): Promise<SessionsFrameOut | ErrorFrame> {
  const from = client.frames.length;
  client.send(frame);
  return until(() => client.frames.slice(from).find((f): f is SessionsFrameOut | ErrorFrame => f.type === "sessions" || f.type === "error"), "an answer");
}

/** The turn's end frames on a client: exactly one is the rule. */
const endsOf = (client: ChatClient, turnId: string) => client.frames.filter((f) => (f.type === "turn.done" || f.type === "error") && f.turnId === turnId);

describe("runtime integration: rename and delete of sessions (one region)", function () {
  this.timeout(120_000);
  const suite = suiteStack({
    ports: { web: 0 },
    staticDir: "/nonexistent",
    bedrock: { timing: { timeToFirstTokenMs: 30, tokensPerSecond: 300 } },
    env: { FLUSH_INTERVAL_MS: "20", STOP_POLL_MS: "50", MESSAGES_PER_MINUTE: "500", ...QUIET },
  });
  const connect = (user: string) => suite.connect(user);

  it("renames a session and answers the list; others' sessions are not_found; bad titles are bad_request", async () => {
    const alice = await connect("alice-rename");
    alice.send(send("Plan a trip to Lisbon in May, with a budget [[tokens:5]]"));
    const started = await alice.waitFor(isStarted);
    await alice.ending(started.turnId);
    const renamed = await ask(alice, { action: "rename", sessionId: started.sessionId, title: "  Lisbon\ntrip " });
    expect(renamed.type).to.equal("sessions");
    expect((renamed as SessionsFrameOut).sessions.find((s) => s.sessionId === started.sessionId)!.title).to.equal("Lisbon trip");

    const mallory = await connect("mallory-rename");
    const theirs = await ask(mallory, { action: "rename", sessionId: started.sessionId, title: "mine" });
    const missing = await ask(mallory, { action: "delete", sessionId: randomUUID() });
    // Another user's session and one that does not exist: the same answer, word for word.
    expect(theirs).to.include({ type: "error", code: "not_found" });
    expect(theirs).to.deep.equal(missing);
    expect((await ask(mallory, { action: "delete", sessionId: started.sessionId })).type).to.equal("error");

    for (const title of ["", " \n ", "t".repeat(121)]) {
      expect(await ask(alice, { action: "rename", sessionId: started.sessionId, title })).to.include({ type: "error", code: "bad_request" });
    }
    const list = await ask(alice, { action: "sessions" });
    expect((list as SessionsFrameOut).sessions.find((s) => s.sessionId === started.sessionId)!.title).to.equal("Lisbon trip");
  });

  it("deletes a session during generation: one turn.done (stopped), the model stream aborted, no item left", async () => {
    const alice = await connect("alice-delete");
    alice.send(send("First question [[tokens:5]]"));
    const first = await alice.waitFor(isStarted);
    await alice.ending(first.turnId);
    suite.stack.bedrock.script({ fault: "slow", tokensPerSecond: 20 });
    alice.send(send("A long answer to delete midway [[tokens:400]]", { sessionId: first.sessionId }));
    const started = await until(() => alice.of("turn.started").find((f) => f.turnId !== first.turnId), "the second turn");
    await until(() => alice.of("delta").some((d) => d.turnId === started.turnId), "a delta");
    expect(await sessionItems(suite.stack, first.sessionId)).to.have.length.greaterThan(4);

    const answer = await ask(alice, { action: "delete", sessionId: first.sessionId });
    expect(answer.type).to.equal("sessions");
    expect((answer as SessionsFrameOut).sessions.map((s) => s.sessionId)).to.not.include(first.sessionId);
    const done = (await alice.ending(started.turnId, 30_000)) as TurnDoneFrame;
    expect(done).to.include({ type: "turn.done", stopReason: "stopped" });
    await until(async () => (await sessionItems(suite.stack, first.sessionId)).length === 0, "no item left", 30_000);
    expect(suite.stack.bedrock.requests.find((r) => r.prompt.includes("delete midway"))!.outcome).to.equal("aborted");
    expect(endsOf(alice, started.turnId)).to.have.length(1);
    expect(await ask(alice, { action: "history", sessionId: first.sessionId })).to.include({ type: "error", code: "not_found" });
  });
});

describe("runtime integration: delete in two regions (LOCAL_REGIONS=us-east-1,eu-west-1)", function () {
  this.timeout(120_000);
  const REGIONS = ["us-east-1", "eu-west-1"];
  const suite = suiteStack({
    regions: REGIONS,
    replicationLagMs: 300,
    ports: { web: 0 },
    staticDir: "/nonexistent",
    bedrock: { timing: { timeToFirstTokenMs: 30, tokensPerSecond: 300 } },
    env: { FLUSH_INTERVAL_MS: "20", STOP_POLL_MS: "50", MESSAGES_PER_MINUTE: "500", ...QUIET },
  });
  const connect = (user: string, region: string) => suite.connect(user, region);

  it("a delete in eu-west-1 of a session generating in us-east-1: the answer stops there, and no item is left in either region", async () => {
    const us = await connect("roamer", "us-east-1");
    us.send(send("Something to keep [[tokens:5]]"));
    const first = await us.waitFor(isStarted);
    await us.ending(first.turnId);
    suite.stack.bedrock.script({ fault: "slow", tokensPerSecond: 20 });
    us.send(send("A long answer deleted from abroad [[tokens:400]]", { sessionId: first.sessionId }));
    const started = await until(() => us.of("turn.started").find((f) => f.turnId !== first.turnId), "the second turn");
    await until(() => us.of("delta").some((d) => d.turnId === started.turnId), "a delta");

    const eu = await connect("roamer", "eu-west-1");
    // Within the replication lag the session may not be in eu-west-1 yet: a delete then answers not_found.
    await until(async () => (await sessionItems(suite.stack, first.sessionId, "eu-west-1")).some((sk) => sk.endsWith(started.turnId)), "the turn in eu-west-1");
    const answer = await ask(eu, { action: "delete", sessionId: first.sessionId });
    expect(answer.type).to.equal("sessions");
    expect((answer as SessionsFrameOut).sessions.map((s) => s.sessionId)).to.not.include(first.sessionId);

    const done = (await us.ending(started.turnId, 30_000)) as TurnDoneFrame;
    expect(done).to.include({ type: "turn.done", stopReason: "stopped" });
    expect(endsOf(us, started.turnId)).to.have.length(1);
    await until(async () => (await sessionItems(suite.stack, first.sessionId, "us-east-1")).length === 0, "nothing left in us-east-1", 30_000);
    await suite.stack.replication!.settled();
    for (const region of REGIONS) expect(await sessionItems(suite.stack, first.sessionId, region), region).to.deep.equal([]);
    expect(suite.stack.replication!.failures).to.deep.equal([]);
    // Both regions answer as if it never was.
    expect(await ask(us, { action: "history", sessionId: first.sessionId })).to.include({ type: "error", code: "not_found" });
    const list = await ask(us, { action: "sessions" });
    expect((list as SessionsFrameOut).sessions.map((s) => s.sessionId)).to.not.include(first.sessionId);
  });
});
