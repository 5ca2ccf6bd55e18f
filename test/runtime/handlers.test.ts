import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CONNECTION_TTL_SECONDS } from "../../runtime/chat/connect";
import { systemClock } from "../../runtime/chat/clock";
import { createConnectHandler } from "../../runtime/handlers/connect";
import { createDisconnectHandler } from "../../runtime/handlers/disconnect";
import type { WebSocketEvent } from "../../runtime/handlers/events";
import { createMessageHandler } from "../../runtime/handlers/message";
import { createWorkerHandler } from "../../runtime/handlers/worker";
import { CLIENT_ACTIONS } from "../../runtime/protocol";
import { createWorld, send } from "./world";

// Copies kept in the repository (their README says where they come from).
const FIXTURES = join(__dirname, "../local/fixtures/apigw-websocket");
const fixture = (name: string): WebSocketEvent & Record<string, unknown> => JSON.parse(readFileSync(join(FIXTURES, name), "utf8"));
const CONNECTION = "R1kmxc2VNjMCFIA="; // the connection id in the fixtures

/** A $connect event: the fixture's request shape plus what a REQUEST authorizer adds (API Gateway developer guide). */
function connectEvent(authorizer: Record<string, unknown> | undefined, subprotocols = "chat.v1, eyJhbGciOiJSUzI1NiJ9.e30.sig"): WebSocketEvent {
  const base = fixture("disconnect.json");
  const { disconnectStatusCode: _code, disconnectReason: _reason, ...context } = base.requestContext as Record<string, unknown>;
  return {
    ...base,
    headers: { ...(base.headers as Record<string, string>), "Sec-WebSocket-Protocol": subprotocols },
    requestContext: { ...(context as WebSocketEvent["requestContext"]), routeKey: "$connect", eventType: "CONNECT", ...(authorizer ? { authorizer } : {}) },
  } as WebSocketEvent;
}

describe("runtime/handlers against real API Gateway WebSocket events", () => {
  it("connect stores the caller from the authorizer context with a TTL past the 2-hour connection limit", async () => {
    const w = createWorld();
    const handler = createConnectHandler(() => ({ connections: w.connections, clock: systemClock, log: w.log, region: "ap-northeast-1", callbackEndpoint: "https://dl7ptocha9.execute-api.ap-northeast-1.amazonaws.com/prod" }));
    const exp = Math.floor(Date.now() / 1000) + 600;
    const result = await handler(connectEvent({ principalId: "sub-1", userId: "sub-1", username: "alice", exp, integrationLatency: 41 }));
    // The handshake answer selects chat.v1 (a browser drops a connection whose answer names no offered protocol).
    expect(result).to.deep.equal({ statusCode: 200, headers: { "Sec-WebSocket-Protocol": "chat.v1" } });
    const item = w.connections.items.get(CONNECTION)!;
    expect(item.connection).to.include({ userId: "sub-1", username: "alice", region: "ap-northeast-1", callbackEndpoint: "https://dl7ptocha9.execute-api.ap-northeast-1.amazonaws.com/prod" });
    expect(item.connection.tokenExpiresAt).to.equal(exp);
    expect(item.connection.connectedAt).to.equal(new Date(1705751697419).toISOString());
    const nowSeconds = Math.floor(Date.now() / 1000);
    expect(item.expiresAt).to.be.within(nowSeconds + CONNECTION_TTL_SECONDS - 5, nowSeconds + CONNECTION_TTL_SECONDS + 5);
    expect(CONNECTION_TTL_SECONDS).to.be.greaterThan(2 * 3600);
  });

  it("connect without authorizer context refuses and stores nothing", async () => {
    const w = createWorld();
    const handler = createConnectHandler(() => ({ connections: w.connections, clock: systemClock, log: w.log, region: "us-east-1", callbackEndpoint: "https://x/prod" }));
    expect(await handler(connectEvent(undefined))).to.deep.equal({ statusCode: 401 });
    // An authorizer context without the token's expiry would make a connection that never expires.
    expect(await handler(connectEvent({ principalId: "sub-1", userId: "sub-1", username: "alice" }))).to.deep.equal({ statusCode: 401 });
    expect(w.connections.items.size).to.equal(0);
  });

  it("connect takes the expiry as API Gateway may pass it (a decimal string), and refuses a handshake without chat.v1", async () => {
    const w = createWorld();
    const handler = createConnectHandler(() => ({ connections: w.connections, clock: systemClock, log: w.log, region: "us-east-1", callbackEndpoint: "https://x/prod" }));
    const authorizer = { principalId: "sub-1", userId: "sub-1", username: "alice", exp: "1900000000" };
    expect(await handler(connectEvent(authorizer, "chat.v2, tok"))).to.deep.equal({ statusCode: 400 });
    expect(w.connections.items.size).to.equal(0);
    expect(await handler(connectEvent(authorizer))).to.include({ statusCode: 200 });
    expect(w.connections.items.get(CONNECTION)!.connection.tokenExpiresAt).to.equal(1_900_000_000);
  });

  it("disconnect (the real DISCONNECT event) deletes the connection", async () => {
    const w = createWorld();
    await w.connect(CONNECTION, "alice");
    const handler = createDisconnectHandler(() => ({ connections: w.connections, clock: systemClock, log: w.log }));
    expect(await handler(fixture("disconnect.json"))).to.deep.equal({ statusCode: 200 });
    expect(w.connections.items.has(CONNECTION)).to.equal(false);
  });

  it("message: the real $default MESSAGE event (unknown body) gets an error frame and 200", async () => {
    const w = createWorld();
    await w.connect(CONNECTION, "alice");
    const handler = createMessageHandler(() => w.messageDeps);
    expect(await handler(fixture("message.json"))).to.deep.equal({ statusCode: 200 });
    expect(w.sender.frames).to.deep.equal([
      { connectionId: CONNECTION, frame: { type: "error", code: "bad_request", message: `unknown action; expected one of ${CLIENT_ACTIONS.join(", ")}` } },
    ]);
  });

  it("message: a send in the same event shape starts a turn, timing TTFT from requestTimeEpoch", async () => {
    const w = createWorld();
    await w.connect(CONNECTION, "alice");
    const handler = createMessageHandler(() => w.messageDeps);
    const base = fixture("message.json");
    const event = { ...base, requestContext: { ...base.requestContext, routeKey: "send", requestTimeEpoch: Date.now() - 5 }, body: JSON.stringify(send("hi")) };
    await handler(event);
    expect(w.sender.of("turn.started")).to.have.length(1);
    expect(w.queue.jobs[0]!.receivedAt).to.equal(event.requestContext.requestTimeEpoch);

    const encoded = { ...event, isBase64Encoded: true, body: Buffer.from(JSON.stringify({ action: "ping" })).toString("base64") };
    await handler(encoded);
    expect(w.sender.of("pong")).to.have.length(1);
  });

  it("worker: runs a job with the Lambda context's remaining time, and rejects a malformed one without throwing", async () => {
    const w = createWorld();
    const c = await w.connect("c1", "alice");
    await w.frame(c, send("hi"));
    const handler = createWorkerHandler(() => w.generateDeps);
    const context = { getRemainingTimeInMillis: () => 600_000 };
    const outcome = await handler(w.queue.jobs[0], context);
    expect(outcome).to.include({ status: "complete" });
    expect(await handler({ kind: "generate", turnId: 5 }, context)).to.deep.equal({ status: "rejected" });
    expect(await handler("nonsense", context)).to.deep.equal({ status: "rejected" });
  });
});
