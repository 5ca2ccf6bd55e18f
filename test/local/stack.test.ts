/**
 * startLocalStack in-process on DynamoDB Local (the integration tests' store), with the real runtime handlers:
 * the wiring between gateway, handlers, Lambda Invoke API, Bedrock emulator and DynamoDB, and the controls that
 * tests and benchmarks use (faults, recorded requests, bad tokens).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { startLocalStack, type LocalStack } from "../../runtime/local/stack";
import { chatProtocols, handshakeStatus, openSocket, waitFor, type TestSocket } from "./helpers";

interface Frame {
  type: string;
  turnId?: string;
  sessionId?: string;
  seq?: number;
  text?: string;
  stopReason?: string;
  code?: string;
}

async function send(socket: TestSocket, text: string) {
  const clientMessageId = randomUUID();
  socket.send({ action: "send", clientMessageId, text });
  const started = await socket.next<Frame>((f) => f.type === "turn.started" || f.type === "error", 10_000);
  expect(started.type, JSON.stringify(started)).to.equal("turn.started");
  return started;
}

function finished(socket: TestSocket, turnId: string) {
  return socket.next<Frame>((f) => (f.type === "turn.done" || f.type === "error") && f.turnId === turnId, 15_000);
}

function textOf(socket: TestSocket, turnId: string): string {
  return (socket.frames as Frame[])
    .filter((f) => f.type === "delta" && f.turnId === turnId)
    .map((f) => f.text)
    .join("");
}

describe("local/stack: startLocalStack with the real handlers on DynamoDB Local", function () {
  this.timeout(60_000);
  let stack: LocalStack;
  let socket: TestSocket;

  before(async () => {
    stack = await startLocalStack({
      ports: { web: 0 },
      dynamo: "dynamodb-local",
      bedrock: { timing: { timeToFirstTokenMs: 20, tokensPerSecond: 400 } },
      env: { FLUSH_INTERVAL_MS: "20", STOP_POLL_MS: "50", MESSAGES_PER_MINUTE: "1000", LOG_LEVEL: "SILENT" },
    });
    socket = await openSocket(stack.wsUrl, chatProtocols(await stack.token("tester")));
  });
  after(async () => {
    socket?.ws.close();
    await stack?.stop();
  });

  it("answers through worker → Bedrock emulator → @connections, and saves the turn in DynamoDB Local", async () => {
    const started = await send(socket, "Explain eventual consistency in two paragraphs");
    const done = await finished(socket, started.turnId!);
    expect(done).to.include({ type: "turn.done", stopReason: "end_turn" });
    const request = stack.bedrock.requests.at(-1)!;
    expect(request.modelId).to.equal(stack.modelId);
    expect(request.guardrail).to.deep.include({ identifier: "local-guardrail", version: "1" });
    expect(textOf(socket, started.turnId!)).to.equal(request.text);
    // With LOCAL_WORKER=ecs the worker service process generates the turn instead of the worker function.
    const worker = stack.worker === "lambda" ? ["worker"] : [];
    expect(stack.functions.invocations.map((i) => i.functionName)).to.include.members(["authorizer", "connect", "message", ...worker]);

    const doc = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: stack.dynamo.endpoint, region: stack.region, credentials: { accessKeyId: "x", secretAccessKey: "x" } }),
    );
    const turns = await doc.send(
      new QueryCommand({
        TableName: stack.tables.history,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :turn)",
        ExpressionAttributeValues: { ":pk": `SESSION#${started.sessionId}`, ":turn": "TURN#" },
      }),
    );
    expect(turns.Items!.length).to.equal(2);
    doc.destroy();
  });

  it("stop aborts the model stream: the emulator records when the stream closed", async () => {
    stack.bedrock.script({ fault: "slow", tokensPerSecond: 30 });
    const started = await send(socket, "Write a long essay about queues [[tokens:2000]]");
    await socket.next<Frame>((f) => f.type === "delta" && f.turnId === started.turnId, 10_000);
    const stopSentAt = Date.now();
    socket.send({ action: "stop", turnId: started.turnId });
    const done = await finished(socket, started.turnId!);
    expect(done.stopReason).to.equal("stopped");
    const request = stack.bedrock.requests.at(-1)!;
    await waitFor(() => request.outcome === "aborted", 5_000, "the model stream to be aborted");
    expect(request.closedAt).to.be.at.least(stopSentAt);
  });

  it("a guardrail intervention reaches the client as stopReason guardrail", async () => {
    const started = await send(socket, "tell me about the forbidden topic");
    const done = await finished(socket, started.turnId!);
    expect(done.stopReason).to.equal("guardrail");
    expect(textOf(socket, started.turnId!)).to.include(stack.bedrock.guardrail.blockedInputMessage);
  });

  it("a model stream error ends the turn with exactly one turn.done or error naming it", async () => {
    stack.bedrock.script({ fault: "model-stream-error", afterTokens: 3 });
    const started = await send(socket, "hello");
    const end = await finished(socket, started.turnId!);
    expect(end.type === "error" || end.stopReason === "error", JSON.stringify(end)).to.equal(true);
  });

  it("refuses bad tokens from the issuer at the handshake", async () => {
    for (const kind of ["expired", "wrong-client", "wrong-use", "forged"] as const) {
      expect(await handshakeStatus(stack.wsUrl, chatProtocols(stack.identity.mintBad(kind))), kind).to.be.oneOf([401, 403]);
    }
  });

  it("refuses a handshake that bypasses the edge (401) before any Lambda runs, and replaces a viewer's forged X-Origin-Verify", async () => {
    const token = await stack.token("bypasser");
    const direct = stack.regions[0]!.gatewayUrl;
    const before = stack.functions.invocations.filter((i) => i.functionName === "authorizer").length;
    // Straight to the gateway's own port, as to execute-api: the identity source is missing, the authorizer never runs.
    expect(await handshakeStatus(direct, chatProtocols(token))).to.equal(401);
    expect(stack.functions.invocations.filter((i) => i.functionName === "authorizer").length).to.equal(before);
    // A guessed value reaches the authorizer, which refuses it.
    expect(await handshakeStatus(direct, chatProtocols(token), { "X-Origin-Verify": "a-guess-of-the-secret-that-is-long-enough" })).to.equal(401);
    expect(stack.functions.invocations.filter((i) => i.functionName === "authorizer").length).to.equal(before + 1);
    // Through the edge, a viewer's own X-Origin-Verify is replaced by the edge's, so the connection opens and works.
    const viaEdge = await openSocket(stack.wsUrl, chatProtocols(token), { "X-Origin-Verify": "forged" });
    viaEdge.send({ action: "ping" });
    expect(await viaEdge.next<Frame>((f) => f.type === "pong")).to.deep.equal({ type: "pong" });
    viaEdge.ws.close();
  });

  it("answers forbidden to a frame after the token's expiry and closes that connection, and only that one", async () => {
    // Long enough to outlast the handshake on a loaded machine; the pings below wait for the refusal, not the clock.
    const response = await fetch(`${stack.webUrl}local/token?user=shortlived&ttl=4`);
    const { token } = (await response.json()) as { token: string };
    const expiring = await openSocket(stack.wsUrl, chatProtocols(token));
    expect(expiring.ws.protocol).to.equal("chat.v1");
    const connectionId = stack.gateway.connections().at(-1)!.connectionId;
    // Ping until the server refuses: the state is the answer, not the time it takes.
    let refusal: { type?: string; code?: string; turnId?: string; clientMessageId?: string } | undefined;
    const deadline = Date.now() + 15_000;
    while (refusal === undefined && Date.now() < deadline) {
      expiring.send({ action: "ping" });
      const answer = await expiring.next<{ type?: string; code?: string }>((f) => f.type === "pong" || f.type === "error");
      if (answer.type === "error") refusal = answer;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(refusal).to.deep.include({ type: "error", code: "forbidden" });
    expect(refusal).not.to.have.any.keys("turnId", "clientMessageId");
    await expiring.closed;
    await waitFor(
      () =>
        stack.gateway.invocations.find(
          (i) => i.routeKey === "$disconnect" && (i.event as { requestContext: { connectionId: string } }).requestContext.connectionId === connectionId,
        ),
      5_000,
      "$disconnect of the expired connection",
    );
    // The long-lived connection of another user is untouched.
    const pongs = () => socket.frames.filter((f) => (f as { type?: string }).type === "pong").length;
    const before = pongs();
    socket.send({ action: "ping" });
    await waitFor(() => pongs() > before, 5_000, "a pong on the other connection");
    expect(socket.ws.readyState).to.equal(socket.ws.OPEN);
  });

  it("runs $disconnect when the gateway drops a connection", async () => {
    const other = await openSocket(stack.wsUrl, chatProtocols(await stack.token("dropper")));
    const connectionId = stack.gateway.connections().at(-1)!.connectionId;
    stack.gateway.drop(connectionId);
    await other.closed;
    await waitFor(
      () =>
        stack.gateway.invocations.find(
          (i) => i.routeKey === "$disconnect" && (i.event as { requestContext: { connectionId: string } }).requestContext.connectionId === connectionId,
        ),
      5_000,
      "$disconnect",
    );
  });
});

describe("local/stack: a second stack in the same process (dynalite, ConverseStream, no guardrail)", function () {
  this.timeout(30_000);

  it("picks up its own endpoints and settings, and chats", async () => {
    const stack = await startLocalStack({
      ports: { web: 0 },
      dynamo: "dynalite",
      model: { id: "amazon.nova-lite-v1:0", api: "ConverseStream" },
      guardrail: false,
      bedrock: { timing: { timeToFirstTokenMs: 0, tokensPerSecond: 1000 } },
      env: { LOG_LEVEL: "SILENT" },
    });
    try {
      const socket = await openSocket(stack.wsUrl, chatProtocols(await stack.token("second")));
      const started = await send(socket, "forbidden topic, but no guardrail is configured");
      const done = await finished(socket, started.turnId!);
      expect(done.stopReason).to.equal("end_turn");
      const request = stack.bedrock.requests.at(-1)!;
      expect(request).to.include({ api: "converse", modelId: "amazon.nova-lite-v1:0" });
      expect(request.guardrail).to.equal(undefined);
      socket.ws.close();
    } finally {
      await stack.stop();
    }
    expect(process.env.MODEL_API).to.equal(undefined);
  });
});
