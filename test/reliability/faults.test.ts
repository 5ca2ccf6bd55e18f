/**
 * Fault injection on the local stack with the real handlers and SDK clients; after each fault the shared
 * invariant checker (invariants.ts) runs over every turn the client saw: no lost turn, none left `streaming`,
 * history equal to what was streamed, deltas in seq order without gaps, exactly one end per turn.
 *
 * "Killed" means the worker's execution environment dies mid-turn: the worker runs in its own process
 * (worker-host.ts) and is SIGKILLed — no `finally`, no last frame, its sockets reset — as when Lambda's sandbox
 * crashes (out of memory, a native fault). The protocol promises the client frames in order up to the kill and
 * nothing after it from that invocation; the invocation fails, and Lambda delivers the event again (its
 * asynchronous retry, replayed here), which the worker's claim turns into a no-op. The turn then stays `streaming`
 * in the store with its last checkpoint of delivered text; what recovers it is the runtime's read-time rule
 * (runtime/chat/liveness.ts STALE_STREAMING_MS, longer than any worker can live): history shows it as `error` with that
 * text, and `regenerate` closes and replaces it. The test moves the turn's createdAt back instead of waiting.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { marker } from "../../bench/harness";
import type { ChatClient, TurnFrames } from "../../bench/client";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { STALE_STREAMING_MS } from "../../runtime/chat/liveness";
import { historyTable } from "../../runtime/store/schema";
import { healthProbeScript } from "../../runtime/worker-service/health";
import { checkInvariants, observed, type ObservedTurn } from "./invariants";
import { sharedStack, type ReliabilityStack } from "./stack";
import { modeTitle, workerModes } from "../worker-modes";

for (const worker of workerModes()) describe(`reliability: fault injection, invariants checked after each${modeTitle(worker)}`, function () {
  this.timeout(60_000);
  const shared = sharedStack(worker);
  let rs: ReliabilityStack;
  let client: ChatClient;
  let user = 0;

  beforeEach(async () => {
    rs = shared.get();
    rs.stack.bedrock.clearScript();
    client = await rs.connect(`faulty-${++user}`);
  });
  afterEach(async () => {
    rs.stack.bedrock.clearScript();
    rs.dynamo!.restore();
    if (client.open) await client.close();
    // The next test (or file) starts from a still stack: this one's $disconnect and workers have finished.
    await rs.quiet();
  });

  async function expectInvariants(turns: ObservedTurn[]): Promise<void> {
    expect(await checkInvariants(rs, turns)).to.deep.equal([]);
  }

  function requestFor(mark: string) {
    return rs.observer.until(() => rs.observer.find(mark));
  }

  async function framesUntil(clientMessageId: string, sentAt: number, deltas: number): Promise<TurnFrames> {
    await client.until(() => (client.turnFrames(clientMessageId, sentAt).deltas.length >= deltas ? true : undefined), 15_000, `${deltas} deltas`);
    return client.turnFrames(clientMessageId, sentAt);
  }

  it("client drop mid-stream is not a stop: the answer is generated to its end, saved, and resumed on a new connection", async () => {
    const mark = marker("drop", 1);
    const { clientMessageId, sentAt } = client.startTurn(`Tell me about ${mark} [[tokens:300]]`);
    await framesUntil(clientMessageId, sentAt, 3);
    client.terminate();
    const cut = client.turnFrames(clientMessageId, sentAt);
    const turnId = cut.started!.turnId;
    const lastSeq = cut.deltas[cut.deltas.length - 1]!.seq;
    const again = await rs.connect(`faulty-${user}`);
    try {
      const from = again.frames.length;
      again.send({ action: "resume", turnId, afterSeq: lastSeq, offset: cut.text.length });
      await again.until(() => (again.framesOfTurn(turnId, from).endCount > 0 ? true : undefined), 60_000, "the resumed end");
      await again.settle();
      const resumed = again.framesOfTurn(turnId, from);
      const request = await requestFor(mark);
      expect(request.record.outcome, "the model stream ran to its end").to.equal("complete");
      await expectInvariants([observed(client, cut, true)]);
      const saved = await rs.reader.turn(cut.started!.sessionId, turnId);
      expect(saved?.status).to.equal("complete");
      expect(resumed.done?.stopReason).to.equal("end_turn");
      expect(resumed.endCount, "one end").to.equal(1);
      expect(resumed.deltas.map((d) => d.seq), "seq continues, no gap, no repeat").to.deep.equal(resumed.deltas.map((_, i) => lastSeq + 1 + i));
      expect(cut.text + resumed.text, "the client's text is the saved text").to.equal(saved!.text);
    } finally {
      if (again.open) await again.close();
    }
  });

  it("429 before the stream: retried with backoff, the answer completes", async () => {
    rs.stack.bedrock.script({ fault: "throttle-before" });
    const mark = marker("t429", 1);
    const turn = await client.turn(`Question ${mark} [[tokens:40]]`);
    expect(turn.done?.stopReason).to.equal("end_turn");
    expect(rs.observer.requests.filter((r) => r.record.prompt.includes(mark)).map((r) => r.record.fault ?? "none")).to.deep.equal([
      "throttle-before",
      "none",
    ]);
    await expectInvariants([observed(client, turn)]);
  });

  it("5xx on every attempt before the stream: one model_error naming the turn, turn saved as error", async () => {
    rs.stack.bedrock.script({ fault: "5xx", status: 503 }, { fault: "5xx" }, { fault: "5xx", status: 503 }, { fault: "5xx" });
    const turn = await client.turn(`Question ${marker("t5xx", 1)} [[tokens:40]]`);
    expect(turn.error?.code).to.equal("model_error");
    expect(turn.error?.turnId).to.equal(turn.started?.turnId);
    expect(turn.deltas).to.have.length(0);
    await expectInvariants([observed(client, turn)]);
    const saved = await rs.reader.turn(turn.started!.sessionId, turn.started!.turnId);
    expect(saved?.status).to.equal("error");
  });

  for (const fault of ["throttle-in-stream", "model-stream-error"] as const) {
    it(`${fault} after some tokens: turn.done error, the partial answer saved as streamed`, async () => {
      rs.stack.bedrock.script({ fault, afterTokens: 30 });
      const turn = await client.turn(`Question ${marker(fault, 1)} [[tokens:200]]`);
      expect(turn.done?.stopReason).to.equal("error");
      expect(turn.text.length).to.be.greaterThan(0);
      await expectInvariants([observed(client, turn)]);
    });
  }

  it("DynamoDB unavailable for a moment mid-stream: the answer still ends and is saved as streamed", async () => {
    // Long enough (~2.5 s) that the turn is saved well after the outage ended: this case is about the stream.
    const { clientMessageId, sentAt } = client.startTurn(`Question ${marker("ddbmid", 1)} [[tokens:1500]]`);
    await framesUntil(clientMessageId, sentAt, 2);
    const refusedBefore = rs.dynamo!.refused;
    rs.dynamo!.unavailableFor(800);
    const turn = await client.awaitTurnEnd(clientMessageId, sentAt, 30_000);
    expect(turn.done?.stopReason).to.equal("end_turn");
    expect(rs.dynamo!.refused, "no DynamoDB call was refused").to.be.greaterThan(refusedBefore);
    await expectInvariants([observed(client, turn)]);
  });

  // DynamoDB unavailable for 700 ms from the model's last chunk: the worker retries its final save (backoff with
  // jitter, until half its deadline margin is left) and posts turn.done only once the turn is saved.
  it("DynamoDB unavailable when the turn is saved: the save is retried, the answer saved as streamed", async () => {
    const mark = marker("ddbsave", 1);
    const { clientMessageId, sentAt } = client.startTurn(`Question ${mark} [[tokens:80]]`);
    const request = await requestFor(mark);
    // The model's last chunk: the worker flushes and saves the turn right after.
    await rs.observer.until(() => (request.closedAt !== undefined ? true : undefined), 15_000);
    const refusedBefore = rs.dynamo!.refused;
    rs.dynamo!.unavailableFor(700);
    const turn = await client.awaitTurnEnd(clientMessageId, sentAt, 30_000);
    expect(turn.done?.stopReason).to.equal("end_turn");
    expect(rs.dynamo!.refused, "no DynamoDB call was refused").to.be.greaterThan(refusedBefore);
    await expectInvariants([observed(client, turn)]);
  });

  it("DynamoDB unavailable at send: the send is refused with an error naming it, and re-sending the same message makes exactly one turn", async () => {
    const refusedBefore = rs.dynamo!.refused;
    rs.dynamo!.unavailable();
    const from = client.frames.length;
    const first = client.startTurn(`Question ${marker("ddbsend", 1)} [[tokens:60]]`);
    // The only send in flight: its answer is the next turn.started or error frame.
    const answer = await client.nextFrame((f) => f.type === "turn.started" || f.type === "error", from, 30_000);
    expect(answer.json, "the send was answered without DynamoDB").to.deep.include({ type: "error", clientMessageId: first.clientMessageId });
    expect(rs.dynamo!.refused, "no DynamoDB call was refused").to.be.greaterThan(refusedBefore);
    // The outage ends once the refusal is in: then the client's retry, with the same clientMessageId.
    await rs.quiet();
    rs.dynamo!.restore();
    const retry = client.startTurn("Question again [[tokens:60]]", undefined, first.clientMessageId);
    const turn = await client.awaitTurnEnd(first.clientMessageId, retry.sentAt, 30_000);
    expect(turn.done?.stopReason).to.equal("end_turn");
    await expectInvariants([observed(client, turn)]);
    // Nothing half-written by the failed attempt: every session of this user, none streaming, one answer in all.
    const listed = client.frames.length;
    client.send({ action: "sessions" });
    const sessions = (await client.nextFrame((f) => f.type === "sessions", listed)).json!.sessions as Array<{ sessionId: string }>;
    const stored = (await Promise.all(sessions.map((s) => rs.reader.turns(s.sessionId)))).flat();
    expect(stored.filter((t) => t.status === "streaming").map((t) => t.turnId), "left streaming").to.deep.equal([]);
    expect(stored.filter((t) => t.role === "assistant")).to.have.length(1);
  });

  it("integration timeout shrunk below the answer's length: the answer streams to the end, no gateway timeout frame", async () => {
    // The send route's own run must fit the timeout (on a loaded machine it has taken over a second), and the answer
    // must outlast it: 5 s against an answer of about 9 s (700 tokens at 60 tokens/s, paced by the emulator).
    const saved = rs.stack.gateway.limits.integrationTimeoutMs;
    rs.stack.gateway.limits.integrationTimeoutMs = 5_000;
    rs.stack.bedrock.script({ fault: "slow", tokensPerSecond: 60 });
    try {
      const turn = await client.turn(`Question ${marker("slow", 1)} [[tokens:700]]`, undefined, 40_000);
      expect(turn.done?.stopReason).to.equal("end_turn");
      expect(turn.done!.at - turn.sentAt).to.be.greaterThan(5_000);
      expect(client.frames.filter((f) => f.json?.message === "Endpoint request timed out")).to.have.length(0);
      await expectInvariants([observed(client, turn)]);
    } finally {
      rs.stack.gateway.limits.integrationTimeoutMs = saved;
    }
  });

  it("a worker killed mid-turn: frames in order up to the kill, nothing after; a second delivery does not generate it twice; once its lifetime has passed, history shows it as error and regenerate replaces it", async function () {
    this.timeout(60_000);
    // LOCAL_WORKER=ecs: the worker service process is SIGKILLed (and replaced, as the ECS service does).
    const ecs = rs.stack.worker === "ecs";
    if (!ecs) await shared.killable.arm();
    // Slow enough that the worker checkpoints the delivered text (every 2 s) before it dies.
    rs.stack.bedrock.script({ fault: "slow", tokensPerSecond: 60 });
    const mark = marker("kill", 1);
    const { clientMessageId, sentAt } = client.startTurn(`Question ${mark} [[tokens:1500]]`);
    const { sessionId, turnId } = (await framesUntil(clientMessageId, sentAt, 1)).started!;
    await waitFor(async () => ((await rs.reader.turn(sessionId, turnId))?.text.length ?? 0) > 0, 15_000, "a checkpoint");
    if (ecs) await rs.stack.workerService!.kill();
    else shared.killable.kill();
    const request = await requestFor(mark);
    await rs.observer.until(() => (request.closedAt !== undefined ? true : undefined), 10_000);
    expect(request.record.outcome, "the model stream outlived the worker").to.equal("aborted");
    // Whatever the dead worker had sent has arrived once its invocation has failed and a ping made the round trip.
    await rs.quiet();
    await client.ping();
    const frames = client.turnFrames(clientMessageId, sentAt);
    frames.deltas.forEach((d, i) => expect(d.seq).to.equal(i));
    expect(frames.endCount, "a frame after the kill").to.equal(0);

    if (ecs) {
      // The job was deleted once claimed: the replacement process has nothing to generate again.
      await rs.quiet();
    } else {
      // Lambda's asynchronous retry delivers the same event again: the claim makes it a no-op.
      const retried = (await rs.stack.functions.invoke("worker", shared.killable.lastEvent)) as { status: string };
      expect(retried.status, "a second delivery must not generate the turn again").to.equal("skipped");
    }
    expect(rs.observer.requests.filter((r) => r.record.prompt.includes(mark))).to.have.length(1);

    // What is kept: the last checkpoint, a prefix of what the client saw; the turn stays `streaming` in the store.
    const stored = await rs.reader.turn(sessionId, turnId);
    expect(stored?.status).to.equal("streaming");
    expect(frames.text.startsWith(stored!.text), "the checkpoint is not a prefix of what was streamed").to.equal(true);
    const checkpoint = stored!.text;

    // Once the worker's lifetime has passed, history shows that turn as error with its checkpoint, and regenerate
    // replaces it. The recovery is a read-time rule (runtime/chat/read.ts): a turn `streaming` for longer than any worker can
    // live is failed. Time is simulated by moving the turn's createdAt back past that limit.
    await ageTurn(rs, sessionId, turnId, STALE_STREAMING_MS + 60_000);
    let from = client.frames.length;
    client.send({ action: "history", sessionId });
    const history = (await client.nextFrame((f) => f.type === "history", from)).json!.turns as Array<{ turnId: string; status: string; text: string }>;
    const shown = history.find((t) => t.turnId === turnId);
    expect(shown?.status).to.equal("error");
    expect(shown?.text).to.equal(checkpoint);

    from = client.frames.length;
    client.send({ action: "regenerate", turnId });
    const started = await client.nextFrame((f) => f.type === "turn.started", from, 15_000);
    const newTurnId = started.json!.turnId as string;
    expect(newTurnId).to.not.equal(turnId);
    await client.until(() => (client.framesOfTurn(newTurnId, from).endCount > 0 ? true : undefined), 30_000, "the regenerated answer");
    const regenerated = client.framesOfTurn(newTurnId, from);
    expect(regenerated.done?.stopReason).to.equal("end_turn");
    expect(regenerated.endCount).to.equal(1);
    regenerated.deltas.forEach((d, i) => expect(d.seq).to.equal(i));
    const turns = await rs.reader.turns(sessionId);
    expect(turns.find((t) => t.turnId === turnId)?.status, "the dead turn was not closed").to.equal("error");
    const saved = turns.find((t) => t.turnId === newTurnId);
    expect(saved?.status).to.equal("complete");
    expect(saved?.text).to.equal(regenerated.text);
    expect(turns.filter((t) => t.status === "streaming")).to.have.length(0);
  });

  // The worker service only (a Lambda worker has no container to check).
  if (worker === "ecs") it("the worker service passes its container's health check, the process that replaced a killed one too", async () => {
    const { healthPort } = rs.stack.workerService!;
    expect(healthPort).to.be.above(0);
    // The probe the task definition runs (infra/worker-service.ts), as its own process; the endpoint starts right after
    // the process polls, so the first probes may find nothing yet.
    const passes = () =>
      new Promise<boolean>((resolve) => spawn(process.execPath, ["-e", healthProbeScript(healthPort, 2_000)], { stdio: "ignore" }).once("exit", (code) => resolve(code === 0)));
    await waitFor(passes, 10_000, "passing health check");
    await rs.stack.workerService!.kill();
    await waitFor(passes, 10_000, "passing health check of the replacement");
  });
});

async function waitFor(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Moves a turn's createdAt back by `ms`, as if that much time had passed since it started. */
async function ageTurn(rs: ReliabilityStack, sessionId: string, turnId: string, ms: number): Promise<void> {
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: rs.stack.dynamo.endpoint, region: rs.stack.region, credentials: { accessKeyId: "local", secretAccessKey: "local" } }),
  );
  try {
    await client.send(
      new UpdateCommand({
        TableName: rs.stack.tables.history,
        Key: { [historyTable.hashKey.name]: `SESSION#${sessionId}`, [historyTable.rangeKey!.name]: `TURN#${turnId}` },
        UpdateExpression: "SET createdAt = :at",
        ExpressionAttributeValues: { ":at": new Date(Date.now() - ms).toISOString() },
      }),
    );
  } finally {
    client.destroy();
  }
}
