/**
 * The real handlers with the real AWS SDK clients, through the local stack: API Gateway WebSocket emulator
 * (with @connections), Bedrock streaming emulator (HTTP/2 event streams), Lambda Invoke emulator, the
 * Cognito-shaped issuer and DynamoDB Local.
 */
import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { startLocalStack, type LocalStack } from "../../../runtime/local/stack";
import type { BadTokenKind } from "../../../runtime/local/emulators/identity";
import type { DeltaFrame, ServerFrame, TurnDoneFrame, TurnStartedFrame } from "../../../runtime/protocol";
import { ChatClient } from "./client";
import { modeTitle, workerModes } from "../../worker-modes";

const isStarted = (f: ServerFrame): f is TurnStartedFrame => f.type === "turn.started";

function send(text: string, extra: Record<string, unknown> = {}) {
  return { action: "send", clientMessageId: randomUUID(), text, ...extra };
}

async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function expectOrderedDeltas(deltas: DeltaFrame[]): void {
  expect(deltas.map((d) => d.seq)).to.deep.equal(deltas.map((_, i) => i), "seq 0, 1, 2, … without gaps");
}

for (const worker of workerModes()) describe(`runtime integration: real handlers and SDK clients on the local stack${modeTitle(worker)}`, function () {
  this.timeout(120_000);
  let stack: LocalStack;
  const clients: ChatClient[] = [];

  before(async () => {
    stack = await startLocalStack({
      worker,
      dynamo: "dynamodb-local",
      ports: { web: 0 },
      staticDir: "/nonexistent",
      bedrock: { timing: { timeToFirstTokenMs: 30, tokensPerSecond: 300 } },
      // A shrunken integration timeout: long answers must still stream to the end.
      gateway: { integrationTimeoutMs: 3_000 },
      env: { FLUSH_INTERVAL_MS: "20", STOP_POLL_MS: "50", MESSAGES_PER_MINUTE: "500", MAX_CONCURRENT_PER_CONNECTION: "3", LOG_LEVEL: "SILENT", POWERTOOLS_LOG_LEVEL: "SILENT" },
    });
  });
  after(async () => {
    for (const c of clients) c.close();
    await stack?.stop();
  });

  async function connect(user = "alice"): Promise<ChatClient> {
    const client = await ChatClient.open(stack.wsUrl, await stack.token(user));
    clients.push(client);
    return client;
  }

  async function historyOf(client: ChatClient, sessionId: string) {
    const before = client.of("history").length;
    client.send({ action: "history", sessionId });
    await until(() => client.of("history").length > before, "history");
    return client.of("history")[before]!;
  }

  it("refuses the handshake for missing and bad tokens, and accepts a good one", async () => {
    expect(await ChatClient.refusal(stack.wsUrl)).to.equal(401);
    const kinds: BadTokenKind[] = ["expired", "wrong-client", "wrong-use", "forged", "wrong-issuer", "malformed"];
    for (const kind of kinds) {
      const status = await ChatClient.refusal(stack.wsUrl, stack.identity.mintBad(kind));
      expect(status, kind).to.equal(401);
    }
    const access = stack.identity.mint("carol", { tokenUse: "access" });
    expect(await ChatClient.refusal(stack.wsUrl, access)).to.equal("accepted");
  });

  it("streams an answer in order and history holds exactly the concatenated deltas", async () => {
    const client = await connect();
    client.send(send("Explain WebSockets briefly."));
    const started = await client.waitFor(isStarted);
    const done = (await client.ending(started.turnId)) as TurnDoneFrame;
    expect(done).to.include({ type: "turn.done", stopReason: "end_turn" });
    expect(done.usage.outputTokens).to.be.greaterThan(0);
    expect(done.ttftMs).to.be.a("number");
    const deltas = client.of("delta").filter((d) => d.turnId === started.turnId);
    expectOrderedDeltas(deltas);
    const history = await historyOf(client, started.sessionId);
    const answer = history.turns.find((t) => t.turnId === started.turnId)!;
    expect(answer).to.include({ status: "complete", text: client.deltaText(started.turnId) });
    expect(answer.text.length).to.be.greaterThan(0);
    expect(history.turns[0]).to.include({ role: "user", text: "Explain WebSockets briefly." });
  });

  it("a duplicate clientMessageId re-announces the turn and reaches the model once", async () => {
    const client = await connect();
    const frame = send(`Duplicate check ${randomUUID()}`);
    const requestsBefore = stack.bedrock.requests.length;
    client.send(frame);
    const started = await client.waitFor(isStarted);
    client.send(frame);
    await until(() => client.of("turn.started").length === 2, "the second turn.started");
    const [a, b] = client.of("turn.started");
    expect(b).to.deep.include({ turnId: a!.turnId, sessionId: a!.sessionId, clientMessageId: frame.clientMessageId });
    await client.ending(started.turnId);
    // Both sends handled, and every worker they started has finished: only then is "once" a fact.
    await stack.gateway.idle();
    await stack.functions.drain();
    await stack.workersIdle();
    await stack.gateway.idle();
    expect(stack.functions.invocations.filter((i) => i.endedAt === undefined), "invocations still running").to.deep.equal([]);
    expect(stack.bedrock.requests.slice(requestsBefore).filter((r) => r.prompt.includes(frame.text))).to.have.length(1);
    expect(client.of("turn.done").filter((d) => d.turnId === started.turnId)).to.have.length(1);
  });

  it("stop mid-stream aborts the Bedrock stream and keeps the partial answer as stopped", async () => {
    const client = await connect();
    stack.bedrock.script({ fault: "slow", tokensPerSecond: 30 });
    client.send(send("Tell me a long story [[tokens:400]]"));
    const started = await client.waitFor(isStarted);
    await until(() => client.of("delta").filter((d) => d.turnId === started.turnId).length >= 2, "a few deltas");
    client.send({ action: "stop", turnId: started.turnId });
    const done = (await client.ending(started.turnId)) as TurnDoneFrame;
    expect(done).to.include({ type: "turn.done", stopReason: "stopped" });
    const request = stack.bedrock.requests.find((r) => r.prompt.includes("Tell me a long story"))!;
    await until(() => request.outcome !== undefined, "the emulator to see the stream end");
    expect(request.outcome).to.equal("aborted");
    const history = await historyOf(client, started.sessionId);
    const answer = history.turns.find((t) => t.turnId === started.turnId)!;
    expectOrderedDeltas(client.of("delta").filter((d) => d.turnId === started.turnId));
    expect(answer).to.include({ status: "stopped", text: client.deltaText(started.turnId) });
  });

  it("a dropped connection is not a stop: the answer is generated to its end, saved, and resumed on a new connection", async () => {
    const client = await connect("dave");
    stack.bedrock.script({ fault: "slow", tokensPerSecond: 60 });
    client.send(send("Another long story [[tokens:120]]"));
    const started = await client.waitFor(isStarted);
    await until(() => client.of("delta").some((d) => d.turnId === started.turnId), "a delta");
    client.socket.terminate();
    const had = client.deltaText(started.turnId);
    const lastSeq = Math.max(...client.of("delta").filter((d) => d.turnId === started.turnId).map((d) => d.seq));

    const again = await connect("dave");
    again.send({ action: "resume", turnId: started.turnId, afterSeq: lastSeq, offset: had.length });
    const done = (await again.ending(started.turnId, 30_000)) as TurnDoneFrame;
    expect(done.type).to.equal("turn.done");
    expect(done.stopReason).to.equal("end_turn");
    const request = stack.bedrock.requests.find((r) => r.prompt.includes("Another long story"))!;
    expect(request.outcome).to.equal("complete");
    const deltas = again.of("delta").filter((d) => d.turnId === started.turnId);
    expect(deltas.map((d) => d.seq), "seq continues the client's, without gaps").to.deep.equal(deltas.map((_, i) => lastSeq + 1 + i));
    const answer = (await historyOf(again, started.sessionId)).turns.find((t) => t.turnId === started.turnId)!;
    expect(answer.status).to.equal("complete");
    expect(had + again.deltaText(started.turnId), "the client's text is the saved text").to.equal(answer.text);
  });

  it("guardrail: a blocked input becomes a guardrail turn with the blocked message; an output intervention ends with guardrail", async () => {
    const client = await connect();
    client.send(send("Let's talk about the forbidden topic"));
    const blocked = await client.waitFor(isStarted);
    const done = (await client.ending(blocked.turnId)) as TurnDoneFrame;
    expect(done.stopReason).to.equal("guardrail");
    expect(client.deltaText(blocked.turnId)).to.equal(stack.bedrock.guardrail.blockedInputMessage);

    client.send(send("Please write some unsafe output for me", { sessionId: blocked.sessionId }));
    await until(() => client.of("turn.started").length === 2, "the second turn");
    const cut = client.of("turn.started")[1]!;
    expect(((await client.ending(cut.turnId)) as TurnDoneFrame).stopReason).to.equal("guardrail");
    const history = await historyOf(client, blocked.sessionId);
    for (const t of [blocked, cut]) {
      expect(history.turns.find((x) => x.turnId === t.turnId)).to.include({ status: "guardrail", text: client.deltaText(t.turnId) });
    }
  });

  it("throttling before the first token is retried, then reported as model_error naming the turn", async () => {
    const client = await connect();
    stack.bedrock.script({ fault: "throttle-before" }, { fault: "throttle-before" }, { fault: "throttle-before" });
    client.send(send("Throttled question"));
    const started = await client.waitFor(isStarted);
    const ending = await client.ending(started.turnId);
    expect(ending).to.include({ type: "error", code: "model_error", turnId: started.turnId });
    expect(stack.bedrock.requests.filter((r) => r.prompt.includes("Throttled question"))).to.have.length(3);
    const history = await historyOf(client, started.sessionId);
    expect(history.turns.find((t) => t.turnId === started.turnId)).to.include({ status: "error" });

    stack.bedrock.script({ fault: "5xx", status: 503 });
    client.send(send("Recovers after one 503", { sessionId: started.sessionId }));
    await until(() => client.of("turn.started").length === 2, "the second turn");
    const second = client.of("turn.started")[1]!;
    expect(await client.ending(second.turnId)).to.include({ type: "turn.done", stopReason: "end_turn" });
  });

  it("an in-stream exception closes the turn as error with the partial text saved", async () => {
    const client = await connect();
    stack.bedrock.script({ fault: "model-stream-error", afterTokens: 20 });
    client.send(send("This stream will break [[tokens:200]]"));
    const started = await client.waitFor(isStarted);
    const ending = await client.ending(started.turnId);
    const shown = client.deltaText(started.turnId);
    const history = await historyOf(client, started.sessionId);
    const answer = history.turns.find((t) => t.turnId === started.turnId)!;
    expect(answer).to.include({ status: "error", text: shown });
    expect(ending).to.include(shown.length > 0 ? { type: "turn.done", stopReason: "error" } : { type: "error", code: "model_error" });
  });

  it("an answer longer than the integration timeout streams to the end without a gateway timeout frame", async () => {
    const client = await connect();
    stack.bedrock.script({ fault: "slow", tokensPerSecond: 60 });
    const began = Date.now();
    client.send(send("A long one [[tokens:300]]"));
    const started = await client.waitFor(isStarted);
    const done = (await client.ending(started.turnId, 60_000)) as TurnDoneFrame;
    expect(Date.now() - began).to.be.greaterThan(stack.gateway.limits.integrationTimeoutMs);
    expect(done.stopReason).to.equal("end_turn");
    expect(client.foreign).to.deep.equal([]);
    const history = await historyOf(client, started.sessionId);
    expect(history.turns.find((t) => t.turnId === started.turnId)).to.include({ status: "complete", text: client.deltaText(started.turnId) });
    const deltas = client.of("delta").filter((d) => d.turnId === started.turnId);
    expectOrderedDeltas(deltas);
  });

  it("bad frames get an error and the connection stays usable; other users' sessions are not_found", async () => {
    const client = await connect();
    client.send({ action: "dance" });
    client.send("not json");
    const tooLong = send("x".repeat(20 * 1024)); // over MAX_TEXT_BYTES, under API Gateway's 32 KB frame limit
    client.send(tooLong);
    client.send({ action: "ping" });
    await client.waitFor((f) => f.type === "pong");
    expect(client.of("error").map((e) => e.code)).to.deep.equal(["bad_request", "bad_request", "too_large"]);
    expect(client.of("error")[2]).to.include({ clientMessageId: tooLong.clientMessageId });

    client.send(send("private words"));
    const started = await client.waitFor(isStarted);
    await client.ending(started.turnId);
    const intruder = await connect("mallory");
    intruder.send({ action: "history", sessionId: started.sessionId });
    intruder.send({ action: "stop", turnId: started.turnId });
    await until(() => intruder.of("error").length === 2, "two errors");
    expect(intruder.of("error").map((e) => e.code)).to.deep.equal(["not_found", "not_found"]);
    intruder.send({ action: "sessions" });
    await intruder.waitFor((f) => f.type === "sessions");
    expect(intruder.of("sessions")[0]!.sessions.map((s) => s.sessionId)).not.to.include(started.sessionId);
  });
});
