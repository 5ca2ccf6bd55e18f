/**
 * runtime/connections/connections-api.ts and the sender over it: the Signature Version 4 equals the AWS SDK's own
 * signer (@smithy/signature-v4) for the same request; against the local gateway emulator a post reaches the socket,
 * a closed connection answers "gone" and a delete closes it; against a stand-in server, throttling, 5xx and network
 * errors are retried as the SDK's standard strategy does, other refusals are not, and a skewed clock is corrected.
 */
import { NodeSha256 } from "../sdk-sha256";
import * as http from "node:http";
import { getEventListeners } from "node:events";
import type { AddressInfo, Socket } from "node:net";
import { ApiGatewayManagementApiClient } from "@aws-sdk/client-apigatewaymanagementapi";
import { SignatureV4 } from "@smithy/signature-v4";
import { expect } from "chai";
import { SigV4Signer, type AwsCredentials } from "../../runtime/aws/signed-http";
import { ConnectionsApi } from "../../runtime/connections/connections-api";
import { ApiGatewayConnectionSender } from "../../runtime/connections/sender";
import { LocalFunctions, type LambdaHandler } from "../../runtime/local/emulators/functions";
import { GatewayEmulator } from "../../runtime/local/emulators/gateway";
import { fixtureHandlers } from "../local/fixtures/gateway-handlers";
import { openSocket, waitFor } from "../local/helpers";


const SESSION = { accessKeyId: "ASIAEXAMPLEKEY", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", sessionToken: "IQoJb3JpZ2luX2VjEXAMPLE//token+/=" };
const frame = (seq: number) => ({ type: "delta" as const, turnId: "01JTURN", seq, text: `text ${seq}` });

describe("runtime/connections: the signed @connections API", function () {
  this.timeout(15_000);

  it("signs a post exactly as the AWS SDK's SigV4 signer does (service execute-api, session token, escaped path)", async () => {
    const now = Date.parse("2026-12-05T00:10:53.456Z");
    for (const [credentials, connectionId] of [
      [SESSION, "L0SM9cOFvHcCIhw="],
      [{ accessKeyId: "AKIAEXAMPLE", secretAccessKey: "secret" }, "a+b/c=(d)!*'"],
    ] as const) {
      const path = `/prod/@connections/${encodeURIComponent(connectionId).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
      const body = Buffer.from(JSON.stringify(frame(1)));
      const host = "abc123.execute-api.eu-west-1.amazonaws.com";
      const headers = new SigV4Signer("eu-west-1", "execute-api").sign(
        { method: "POST", path, host, body, headers: { "content-type": "application/octet-stream", "content-length": String(body.length) } },
        credentials,
        now,
      );
      const { authorization, ...signedHeaders } = headers;
      const sdk = await new SignatureV4({ service: "execute-api", region: "eu-west-1", credentials, sha256: NodeSha256 }).sign(
        { method: "POST", protocol: "https:", hostname: host, path, query: {}, headers: signedHeaders, body },
        { signingDate: new Date(now) },
      );
      expect(authorization).to.equal(sdk.headers.authorization);
      expect(headers["x-amz-date"]).to.equal("20261205T001053Z");
      expect(headers["x-amz-security-token"]).to.equal("sessionToken" in credentials ? credentials.sessionToken : undefined);
    }
  });

  describe("against the local gateway emulator", () => {
    let gateway: GatewayEmulator;
    let sender: ApiGatewayConnectionSender;
    before(async () => {
      let endpoint = "";
      const fixtures = fixtureHandlers(() => endpoint);
      const api = { apiId: "localapi01", stage: "local", region: "us-east-1", accountId: "000000000000" };
      const functions = new LocalFunctions(
        api.region,
        api.accountId,
        Object.entries(fixtures.handlers).map(([name, handler]) => ({ name, timeoutMs: 5_000, load: async () => handler as LambdaHandler })),
      );
      gateway = await new GatewayEmulator({
        api,
        functions,
        routes: { routes: { $connect: "connect", $disconnect: "disconnect", $default: "echo" } },
        limits: { frameBytes: 1024, messageBytes: 8192 },
      }).start();
      endpoint = gateway.connectionsEndpoint;
      const client = new ApiGatewayManagementApiClient({ endpoint, region: api.region, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
      sender = new ApiGatewayConnectionSender(() => client);
    });
    after(() => gateway.stop());

    it("posts frames in order, deletes the connection, then answers gone for both", async () => {
      const socket = await openSocket(gateway.url);
      const id = gateway.connections().at(-1)!.connectionId;
      for (let seq = 0; seq < 5; seq++) expect(await sender.post(id, frame(seq))).to.equal("ok");
      for (let seq = 0; seq < 5; seq++) expect(await socket.next()).to.deep.equal(frame(seq));
      await sender.close(id);
      expect((await socket.closed).code).to.equal(1000);
      await waitFor(() => !gateway.connections().some((c) => c.connectionId === id));
      expect(await sender.post(id, frame(5))).to.equal("gone");
      await sender.close(id); // a gone connection is already closed: no error
    });

    it("refuses a message over the limit with PayloadTooLargeException (413), as the SDK reported it", async () => {
      const socket = await openSocket(gateway.url);
      const id = gateway.connections().at(-1)!.connectionId;
      const error = await sender.post(id, { ...frame(0), text: "x".repeat(9000) }).then(() => null, (e: Error & { $metadata?: { httpStatusCode?: number } }) => e);
      expect(error?.name).to.equal("PayloadTooLargeException");
      expect(error?.$metadata?.httpStatusCode).to.equal(413);
      socket.ws.close();
    });
  });

  describe("against a stand-in server: retries as the SDK's standard strategy", () => {
    let server: http.Server;
    let endpoint: URL;
    let answers: Array<(res: http.ServerResponse, req: http.IncomingMessage) => void> = [];
    let seen: http.IncomingHttpHeaders[] = [];
    const status = (code: number, errorType?: string, extra: Record<string, string> = {}) => (res: http.ServerResponse) => {
      res.writeHead(code, { "content-type": "application/json", ...(errorType ? { "x-amzn-errortype": `${errorType}:http://internal.amazon.com/coral/` } : {}), ...extra });
      res.end(errorType ? JSON.stringify({ message: errorType }) : "");
    };
    before(async () => {
      server = http.createServer((req, res) => {
        req.resume();
        req.on("end", () => {
          seen.push(req.headers);
          (answers.shift() ?? status(200))(res, req);
        });
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      endpoint = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/prod`);
    });
    beforeEach(() => {
      answers = [];
      seen = [];
    });
    after(() => server.close());

    const api = (credentials: () => Promise<AwsCredentials> = async () => SESSION, now?: () => number) =>
      new ConnectionsApi({ endpoint, region: "us-east-1", credentials }, { random: () => 0, ...(now ? { now } : {}) });
    const signal = () => ({ signal: AbortSignal.timeout(5_000) });

    it("closes the sender's kept-alive connection when the SDK client it was made from is destroyed", async () => {
      const open = new Set<number>();
      const onConnection = (socket: Socket) => {
        const port = socket.remotePort!;
        open.add(port);
        socket.once("close", () => open.delete(port));
      };
      server.on("connection", onConnection);
      const client = new ApiGatewayManagementApiClient({ endpoint: endpoint.href, region: "us-east-1", credentials: SESSION });
      try {
        const sender = new ApiGatewayConnectionSender(() => client);
        expect(await sender.post("conn-1", frame(0))).to.equal("ok");
        expect(open.size, "one connection kept alive after the post").to.equal(1);
        client.destroy();
        await waitFor(() => open.size === 0, 3_000, "the kept connection to close");
      } finally {
        server.off("connection", onConnection);
      }
    });

    it("retries throttling (429) and 5xx up to 3 attempts, then answers", async () => {
      answers = [status(429, "LimitExceededException"), status(503, "ServiceUnavailableException")];
      expect(await api().post("c1", "{}", signal())).to.equal("ok");
      expect(seen).to.have.length(3);
      expect(seen.every((h) => h["x-amz-security-token"] === SESSION.sessionToken && String(h.authorization).startsWith(`AWS4-HMAC-SHA256 Credential=${SESSION.accessKeyId}/`))).to.equal(true);
    });

    it("gives up after 3 throttled attempts with the service's error name and status", async () => {
      answers = [429, 429, 429, 429].map((code) => status(code, "LimitExceededException"));
      const error = await api().post("c1", "{}", signal()).then(() => null, (e: Error & { $metadata?: { httpStatusCode?: number; attempts?: number } }) => e);
      expect(error?.name).to.equal("LimitExceededException");
      expect(error?.$metadata).to.deep.equal({ httpStatusCode: 429, attempts: 3 });
      expect(seen).to.have.length(3);
    });

    it("does not retry a refusal (403), and answers 410 as gone", async () => {
      answers = [status(403, "ForbiddenException")];
      const error = await api().post("c1", "{}", signal()).then(() => null, (e: Error) => e);
      expect(error?.name).to.equal("ForbiddenException");
      expect(seen).to.have.length(1);
      answers = [status(410, "GoneException")];
      expect(await api().delete("c1", signal())).to.equal("gone");
    });

    it("retries a connection reset by the server", async () => {
      answers = [(res) => res.socket?.destroy()];
      expect(await api().post("c1", "{}", signal())).to.equal("ok");
      expect(seen).to.have.length(2);
    });

    it("asks the credentials provider for every request (rotated credentials are used at once)", async () => {
      let key = "ASIAFIRST";
      const poster = api(async () => ({ ...SESSION, accessKeyId: key }));
      await poster.post("c1", "{}", signal());
      key = "ASIASECOND";
      await poster.post("c1", "{}", signal());
      expect(seen.map((h) => String(h.authorization).split("/")[0])).to.deep.equal(["AWS4-HMAC-SHA256 Credential=ASIAFIRST", "AWS4-HMAC-SHA256 Credential=ASIASECOND"]);
    });

    it("signs with the server's time after a refusal for a skewed clock", async () => {
      const serverTime = Date.parse("2026-12-05T12:00:00Z");
      answers = [status(403, "InvalidSignatureException", { date: new Date(serverTime).toUTCString() })];
      const poster = api(undefined, () => serverTime - 3_600_000);
      expect(await poster.post("c1", "{}", signal())).to.equal("ok");
      expect(seen.map((h) => h["x-amz-date"])).to.deep.equal(["20261205T110000Z", "20261205T120000Z"]);
    });

    it("stops at the caller's deadline", async () => {
      answers = [() => undefined]; // never answers
      const error = await api().post("c1", "{}", { signal: AbortSignal.timeout(200) }).then(() => null, (e: Error) => e);
      expect(error?.name).to.be.oneOf(["AbortError", "TimeoutError"]);
    });

    it("leaves no listener on the caller's signal once a call has ended, answered or refused", async () => {
      const limits = signal();
      answers = [status(429, "LimitExceededException")];
      expect(await api().post("c1", "{}", limits)).to.equal("ok");
      answers = [status(403, "ForbiddenException")];
      await api().post("c1", "{}", limits).catch(() => undefined);
      expect(getEventListeners(limits.signal, "abort")).to.have.length(0);
    });

    it("stops at its own deadline (the sender's, a timer per call instead of an AbortSignal), retries included", async () => {
      answers = [() => undefined]; // never answers
      const hung = await api().post("c1", "{}", { timeoutMs: 200 }).then(() => null, (e: Error) => e);
      expect(hung?.name).to.equal("TimeoutError");
      // Throttled again and again: the waits between attempts end at the deadline too.
      answers = [429, 429, 429].map((code) => status(code, "LimitExceededException"));
      const poster = new ConnectionsApi({ endpoint, region: "us-east-1", credentials: async () => SESSION }, { random: () => 1 });
      const throttled = await poster.post("c1", "{}", { timeoutMs: 300 }).then(() => null, (e: Error) => e);
      expect(throttled?.name).to.equal("LimitExceededException");
      expect(seen.length).to.be.lessThan(3);
    });
  });
});
