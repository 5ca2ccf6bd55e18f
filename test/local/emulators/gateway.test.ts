import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import WebSocket from "ws";
import { LocalFunctions, type LambdaHandler } from "../../../runtime/local/emulators/functions";
import { GatewayEmulator, type GatewayLimits } from "../../../runtime/local/emulators/gateway";
import { fixtureHandlers } from "../fixtures/gateway-handlers";
import { chatProtocols, handshakeStatus, openSocket, shapeOf, waitFor } from "../helpers";

const fixture = (name: string) =>
  JSON.parse(readFileSync(join(__dirname, "..", "fixtures", "apigw-websocket", name), "utf8")) as Record<string, unknown>;

const api = { apiId: "localapi01", stage: "local", region: "us-east-1", accountId: "000000000000" };

async function startGateway(options: { authorizer: boolean; limits?: Partial<GatewayLimits> }) {
  let endpoint = "";
  const fixtures = fixtureHandlers(() => endpoint);
  const fn = (name: string, handler: LambdaHandler) => ({ name, timeoutMs: 5_000, load: async () => handler });
  const functions = new LocalFunctions(
    api.region,
    api.accountId,
    Object.entries(fixtures.handlers).map(([name, handler]) => fn(name, handler as LambdaHandler)),
  );
  const gateway = await new GatewayEmulator({
    api,
    functions,
    routes: {
      authorizer: options.authorizer ? "authorizer" : undefined,
      identitySource: options.authorizer ? ["route.request.header.Sec-WebSocket-Protocol"] : undefined,
      routes: { $connect: "connect", $disconnect: "disconnect", $default: "echo", echo: "echo", slow: "slow", crash: "crash" },
    },
    limits: options.limits,
  }).start();
  endpoint = gateway.connectionsEndpoint;
  const management = new ApiGatewayManagementApiClient({
    endpoint,
    region: api.region,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  return { gateway, ...fixtures, management };
}

describe("local/gateway: API Gateway WebSocket emulator", function () {
  this.timeout(15_000);

  describe("with a REQUEST authorizer on $connect", () => {
    let ctx: Awaited<ReturnType<typeof startGateway>>;
    before(async () => {
      ctx = await startGateway({ authorizer: true });
    });
    after(() => ctx.gateway.stop());

    it("runs the authorizer first with a REQUEST event and a $connect method ARN", async () => {
      const socket = await openSocket(ctx.gateway.url, chatProtocols("good"));
      const auth = ctx.received.find((r) => r.name === "authorizer")!.event;
      expect(auth.type).to.equal("REQUEST");
      expect(auth.methodArn).to.equal(`arn:aws:execute-api:us-east-1:000000000000:localapi01/local/$connect`);
      expect(auth).not.to.have.property("queryStringParameters");
      expect(auth.stageVariables).to.deep.equal({});
      const headers = auth.headers as Record<string, string>;
      expect(headers).to.include.keys("Host", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "X-Forwarded-For", "X-Forwarded-Proto");
      expect(headers["Sec-WebSocket-Protocol"]).to.equal("chat.v1,good");
      expect((auth.multiValueHeaders as Record<string, string[]>).Host).to.deep.equal([headers.Host]);
      const rc = auth.requestContext as Record<string, unknown>;
      expect(rc).to.include({ routeKey: "$connect", eventType: "CONNECT", messageDirection: "IN", stage: "local", apiId: "localapi01" });
      expect(rc).to.not.have.property("authorizer");
      socket.ws.close();
    });

    it("passes principalId, the authorizer context and integrationLatency to $connect and later routes", async () => {
      const socket = await openSocket(ctx.gateway.url, chatProtocols("good"));
      const connect = ctx.received.filter((r) => r.name === "connect").at(-1)!.event;
      const authorizer = (connect.requestContext as Record<string, Record<string, unknown>>).authorizer;
      expect(authorizer).to.include({ principalId: "user-1", userId: "user-1", tokenUse: "id" });
      expect(authorizer.integrationLatency).to.be.a("number");
      expect((connect.headers as Record<string, string>)["Sec-WebSocket-Protocol"]).to.equal("chat.v1,good");
      expect(connect.isBase64Encoded).to.equal(false);
      socket.send({ action: "echo", n: 1 });
      await socket.next((f: { route?: string }) => f.route === "echo");
      const message = ctx.received.filter((r) => r.name === "echo").at(-1)!.event;
      expect((message.requestContext as Record<string, unknown>).authorizer).to.deep.equal(authorizer);
      socket.ws.close();
    });

    it("refuses the upgrade with 401 when the authorizer throws Unauthorized or the token is missing, 403 on Deny", async () => {
      const connectsBefore = ctx.received.filter((r) => r.name === "connect").length;
      const authorizersBefore = ctx.received.filter((r) => r.name === "authorizer").length;
      expect(await handshakeStatus(ctx.gateway.url, chatProtocols("forged"))).to.equal(401);
      expect(await handshakeStatus(ctx.gateway.url, chatProtocols("deny"))).to.equal(403);
      expect(await handshakeStatus(ctx.gateway.url)).to.equal(401);
      // The token in the query string is not an identity source: refused before the authorizer runs.
      expect(await handshakeStatus(`${ctx.gateway.url}?token=good`)).to.equal(401);
      // The missing identity source is refused before the authorizer runs; nothing reaches $connect.
      expect(ctx.received.filter((r) => r.name === "authorizer").length).to.equal(authorizersBefore + 2);
      expect(ctx.received.filter((r) => r.name === "connect").length).to.equal(connectsBefore);
    });

    it("refuses a path after the stage with 403", async () => {
      expect(await handshakeStatus(`${ctx.gateway.url}/extra`, chatProtocols("good"))).to.equal(403);
    });

    it("answers the handshake with the subprotocol that $connect selected (chat.v1), which a ws client accepts", async () => {
      const socket = await openSocket(ctx.gateway.url, chatProtocols("good"));
      expect(socket.ws.protocol).to.equal("chat.v1");
      socket.send({ action: "echo", n: 2 });
      await socket.next((f: { route?: string }) => f.route === "echo");
      socket.ws.close();
    });
  });

  describe("subprotocol selection without an authorizer", () => {
    let ctx: Awaited<ReturnType<typeof startGateway>>;
    before(async () => {
      ctx = await startGateway({ authorizer: false });
    });
    after(() => ctx.gateway.stop());

    it("names no subprotocol when $connect selected none, and a client that offered some drops the connection", async () => {
      // As API Gateway: the answer carries only what the integration returned, never the first offered protocol.
      let failure: unknown;
      await openSocket(ctx.gateway.url, ["chat.v2"]).then(
        (socket) => socket.ws.close(),
        (error: unknown) => (failure = error),
      );
      expect(String(failure)).to.match(/no subprotocol/i);
      const plain = await openSocket(ctx.gateway.url);
      expect(plain.ws.protocol).to.equal("");
      plain.ws.close();
    });

    it("passes through whatever $connect selected, so a client refuses a protocol it did not offer", async () => {
      const failures: string[] = [];
      for (const [query, offered] of [["?select=chat.v2", ["chat.v1"]], ["?select=chat.v1", undefined]] as const) {
        await openSocket(`${ctx.gateway.url}${query}`, offered ? [...offered] : undefined).then(
          (socket) => socket.ws.close(),
          (error: unknown) => failures.push(String(error)),
        );
      }
      expect(failures).to.have.length(2);
      expect(failures[0]).to.match(/invalid subprotocol/i);
      expect(failures[1]).to.match(/subprotocol but none was requested/i);
    });
  });

  describe("events match real API Gateway events (fixtures from aws-lambda-go)", () => {
    let ctx: Awaited<ReturnType<typeof startGateway>>;
    before(async () => {
      ctx = await startGateway({ authorizer: false });
    });
    after(() => ctx.gateway.stop());

    it("MESSAGE and DISCONNECT events have the fixtures' keys and types", async () => {
      const socket = await openSocket(ctx.gateway.url);
      socket.send("{\r\n\t\"a\": 1\r\n}");
      await socket.next((f: { route?: string }) => f.route === "$default");
      socket.ws.close(1001);
      const disconnect = await waitFor(() => ctx.received.find((r) => r.name === "disconnect"));
      const message = ctx.received.find((r) => r.name === "echo")!.event;
      expect(shapeOf(message)).to.deep.equal(shapeOf(fixture("message.json")));
      expect(shapeOf(disconnect.event)).to.deep.equal(shapeOf(fixture("disconnect.json")));
      expect(message.body).to.equal("{\r\n\t\"a\": 1\r\n}");
      const rc = disconnect.event.requestContext as Record<string, unknown>;
      expect(rc).to.include({ disconnectStatusCode: 1001, eventType: "DISCONNECT", routeKey: "$disconnect" });
      expect(String(rc.requestTime)).to.match(/^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000$/);
    });

    it("CONNECT events carry the handshake plus the same requestContext as MESSAGE events (without messageId)", async () => {
      const socket = await openSocket(`${ctx.gateway.url}?lang=en&lang=fr`);
      const connect = ctx.received.filter((r) => r.name === "connect").at(-1)!.event;
      expect(Object.keys(connect).sort()).to.deep.equal(
        ["headers", "isBase64Encoded", "multiValueHeaders", "multiValueQueryStringParameters", "queryStringParameters", "requestContext"].sort(),
      );
      expect(connect.queryStringParameters).to.deep.equal({ lang: "fr" });
      expect(connect.multiValueQueryStringParameters).to.deep.equal({ lang: ["en", "fr"] });
      const { messageId: _id, ...messageContext } = fixture("message.json").requestContext as Record<string, unknown>;
      expect(shapeOf(connect.requestContext)).to.deep.equal(shapeOf(messageContext));
      expect(connect.requestContext).to.include({ eventType: "CONNECT", routeKey: "$connect" });
      socket.ws.close();
    });

    it("selects routes on $request.body.action, falling back to $default (also for non-JSON bodies)", async () => {
      const socket = await openSocket(ctx.gateway.url);
      socket.send({ action: "echo" });
      expect(await socket.next()).to.deep.include({ route: "echo" });
      socket.send({ action: "nope" });
      expect(await socket.next()).to.deep.include({ route: "$default" });
      socket.send("not json");
      expect(await socket.next()).to.deep.equal({ route: "$default", body: "not json" });
      socket.send({ action: "toString" });
      expect(await socket.next()).to.deep.include({ route: "$default" });
      socket.send({ action: "$disconnect" });
      expect(await socket.next()).to.deep.include({ route: "$default" });
      socket.ws.close();
    });

    it("gives Lambda a context with the function's name, a request id and a running deadline", async () => {
      const socket = await openSocket(ctx.gateway.url);
      socket.send({ action: "echo" });
      await socket.next();
      const { context } = ctx.received.filter((r) => r.name === "echo").at(-1)!;
      expect(context.functionName).to.equal("echo");
      expect(context.awsRequestId).to.match(/^[0-9a-f-]{36}$/);
      const remaining = context.getRemainingTimeInMillis();
      expect(remaining).to.be.greaterThan(0).and.at.most(5_000);
      socket.ws.close();
    });
  });

  describe("limits and failures", () => {
    // Short limits only where a test is about them: on a busy machine an echo can take longer than 150 ms.
    let ctx: Awaited<ReturnType<typeof startGateway>>;
    before(async () => {
      ctx = await startGateway({ authorizer: false, limits: { frameBytes: 1024, messageBytes: 4096 } });
    });
    after(() => ctx.gateway.stop());

    it("answers 'Endpoint request timed out' after the integration timeout while the handler runs on", async () => {
      const timing = await startGateway({ authorizer: false, limits: { integrationTimeoutMs: 150 } });
      try {
        const socket = await openSocket(timing.gateway.url);
        socket.send({ action: "slow" });
        // The slow handler holds until released: the timeout frame cannot depend on how fast the machine is.
        const frame = await socket.next();
        const { connectionId } = frame as { connectionId: string };
        expect(timing.gateway.connections().map((c) => c.connectionId)).to.include(connectionId);
        expect(frame).to.include({ message: "Endpoint request timed out", connectionId });
        expect(frame.requestId).to.be.a("string");
        expect(timing.received.filter((r) => r.name === "slow")).to.have.length(1);
        expect(timing.finished).to.not.include(connectionId);
        timing.releaseSlow();
        await waitFor(() => timing.finished.includes(connectionId), 5_000, "the slow handler to finish");
        socket.ws.close();
      } finally {
        timing.releaseSlow();
        await timing.gateway.stop();
      }
    });

    it("answers 'Internal server error' when the handler throws, and the connection stays usable", async () => {
      const socket = await openSocket(ctx.gateway.url);
      socket.send({ action: "crash" });
      expect(await socket.next()).to.include({ message: "Internal server error" });
      socket.send({ action: "echo" });
      expect(await socket.next()).to.include({ route: "echo" });
      socket.ws.close();
    });

    it("closes with 1009 on a frame over the frame limit", async () => {
      const socket = await openSocket(ctx.gateway.url);
      socket.ws.send("x".repeat(2000));
      expect((await socket.closed).code).to.equal(1009);
    });

    it("accepts a message split into small frames, and closes with 1009 past the message limit", async () => {
      const socket = await openSocket(ctx.gateway.url);
      const part = "y".repeat(900);
      socket.ws.send(`{"action":"echo","p":"`, { fin: false });
      socket.ws.send(part, { fin: false });
      socket.ws.send(part, { fin: false });
      socket.ws.send(`"}`, { fin: true });
      const echoed = await socket.next<{ route: string; body: string }>();
      expect(echoed.route).to.equal("echo");
      expect(echoed.body.length).to.equal(1800 + 24);
      for (let i = 0; i < 5; i++) socket.ws.send(part, { fin: i === 4 });
      expect((await socket.closed).code).to.equal(1009);
    });

    it("closes a connection at the maximum duration even while it is active", async () => {
      const short = await startGateway({ authorizer: false, limits: { maxConnectionMs: 400, idleMs: 10_000 } });
      try {
        const socket = await openSocket(short.gateway.url);
        const keepAlive = setInterval(() => socket.send({ action: "echo" }), 100);
        const closed = await socket.closed;
        clearInterval(keepAlive);
        expect(closed.code).to.equal(1001);
      } finally {
        await short.gateway.stop();
      }
    });

    it("closes an idle connection with 1001 and runs $disconnect with that status", async () => {
      const idle = await startGateway({ authorizer: false, limits: { idleMs: 600 } });
      try {
        const socket = await openSocket(idle.gateway.url);
        const [{ connectionId: id }] = idle.gateway.connections();
        expect((await socket.closed).code).to.equal(1001);
        const disconnect = await waitFor(() =>
          idle.received.find((r) => r.name === "disconnect" && (r.event.requestContext as { connectionId: string }).connectionId === id),
        );
        expect((disconnect.event.requestContext as { disconnectStatusCode: number }).disconnectStatusCode).to.equal(1001);
      } finally {
        await idle.gateway.stop();
      }
    });
  });

  describe("@connections API through the real SDK client", () => {
    let ctx: Awaited<ReturnType<typeof startGateway>>;
    before(async () => {
      ctx = await startGateway({ authorizer: false, limits: { frameBytes: 1024, messageBytes: 8192 } });
    });
    after(() => ctx.gateway.stop());

    it("posts, reads connection info and deletes; a gone connection is GoneException", async () => {
      const socket = await openSocket(ctx.gateway.url);
      const id = ctx.gateway.connections()[0].connectionId;
      await ctx.management.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('{"hello":"world"}') }));
      expect(await socket.next()).to.deep.equal({ hello: "world" });
      const info = await ctx.management.send(new GetConnectionCommand({ ConnectionId: id }));
      expect(info.ConnectedAt).to.be.instanceOf(Date);
      expect(info.LastActiveAt).to.be.instanceOf(Date);
      expect(info.Identity?.SourceIp).to.equal("127.0.0.1");
      await ctx.management.send(new DeleteConnectionCommand({ ConnectionId: id }));
      expect((await socket.closed).code).to.equal(1000);
      const gone = await ctx.management
        .send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from("x") }))
        .then(() => null, (error: Error & { $metadata?: { httpStatusCode?: number } }) => error);
      expect(gone?.name).to.equal("GoneException");
      expect(gone?.$metadata?.httpStatusCode).to.equal(410);
    });

    it("splits a large post into frames the client reassembles; over the message limit is PayloadTooLargeException", async () => {
      const socket = await openSocket(ctx.gateway.url);
      const id = ctx.gateway.connections().at(-1)!.connectionId;
      const big = JSON.stringify({ text: "é".repeat(2500) });
      await ctx.management.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from(big) }));
      expect(await socket.next()).to.deep.equal(JSON.parse(big));
      const tooLarge = await ctx.management
        .send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.alloc(9000, 65) }))
        .then(() => null, (error: Error) => error);
      expect(tooLarge?.name).to.equal("PayloadTooLargeException");
      socket.ws.close();
    });

    it("refuses an unsigned request with 403 ForbiddenException", async () => {
      const response = await fetch(`${ctx.gateway.connectionsEndpoint}/@connections/abc`, { method: "POST", body: "x" });
      expect(response.status).to.equal(403);
      expect(response.headers.get("x-amzn-errortype")).to.equal("ForbiddenException");
    });

    it("lists connections and drops one abruptly (client sees 1006, $disconnect still runs)", async () => {
      const socket = await openSocket(ctx.gateway.url);
      const id = ctx.gateway.connections().at(-1)!.connectionId;
      expect(ctx.gateway.drop(id)).to.equal(true);
      expect((await socket.closed).code).to.equal(1006);
      await waitFor(() =>
        ctx.received.find((r) => r.name === "disconnect" && (r.event.requestContext as { connectionId: string }).connectionId === id),
      );
      expect(ctx.gateway.connections().map((c) => c.connectionId)).to.not.include(id);
      expect(socket.ws.readyState).to.equal(WebSocket.CLOSED);
    });
  });
});
