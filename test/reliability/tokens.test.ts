/**
 * The token matrix at the handshake, through the real authorizer (aws-jwt-verify against the local issuer's
 * JWKS): every bad token is refused before the connection exists — HTTP 401/403, no `$connect` invocation, no
 * connection stored — and a good token, tried last, still gets in.
 */
import { expect } from "chai";
import { ScanCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ChatClient } from "../../bench/client";
import { sharedStack, type ReliabilityStack } from "./stack";

describe("reliability: token matrix at the handshake", function () {
  this.timeout(60_000);
  const shared = sharedStack();
  let rs: ReliabilityStack;
  let mark = 0;
  let unhandledMark = 0;
  before(() => {
    mark = shared.get().mark();
    unhandledMark = shared.get().unhandled.length;
  });
  beforeEach(() => {
    rs = shared.get();
  });

  async function storedConnections(): Promise<number> {
    // A test may Scan a local table; the runtime never does.
    const client = new DynamoDBClient({ endpoint: rs.stack.dynamo.endpoint, region: rs.stack.region, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
    try {
      return (await client.send(new ScanCommand({ TableName: rs.stack.tables.connections, Select: "COUNT", ConsistentRead: true }))).Count ?? 0;
    } finally {
      client.destroy();
    }
  }

  /**
   * The stored-connection count once earlier tests' connections are gone: every `$disconnect` has run, so the table
   * holds exactly the connections the gateway has open (a client's close resolves before the server's own).
   */
  async function settledConnections(): Promise<number> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      await rs.stack.gateway.idle();
      const stored = await storedConnections();
      const open = rs.stack.gateway.connections().length;
      if (stored === open) return stored;
      if (Date.now() > deadline) throw new Error(`${stored} connections stored, ${open} open: the table never settled`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const cases: Array<{ name: string; token: (rs: ReliabilityStack) => string | undefined }> = [
    { name: "expired", token: (s) => s.stack.identity.mintBad("expired") },
    { name: "forged (right claims and kid, wrong key)", token: (s) => s.stack.identity.mintBad("forged") },
    { name: "wrong client (aud of another app client)", token: (s) => s.stack.identity.mintBad("wrong-client") },
    { name: "wrong use (token_use refresh)", token: (s) => s.stack.identity.mintBad("wrong-use") },
    { name: "wrong issuer (another user pool)", token: (s) => s.stack.identity.mintBad("wrong-issuer") },
    { name: "access token of another client", token: (s) => s.stack.identity.mint("mallory", { tokenUse: "access", claims: { client_id: "someotherclient0000000000" } }) },
    { name: "alg none", token: (s) => unsigned(s.stack.identity.mint("mallory")) },
    { name: "garbage", token: () => "not.a.jwt" },
    { name: "random bytes", token: () => Buffer.from(Array.from({ length: 90 }, (_, i) => (i * 37 + 11) % 256)).toString("base64") },
    { name: "empty", token: () => "" },
    { name: "missing", token: () => undefined },
  ];

  for (const c of cases) {
    it(`refuses the ${c.name} token at the handshake and stores nothing`, async () => {
      const before = await settledConnections();
      const connectsBefore = rs.stack.gateway.invocations.filter((i) => i.routeKey === "$connect" && i.functionName === "connect").length;
      const result = await ChatClient.handshake(rs.stack.wsUrl, c.token(rs));
      if (result.ok) {
        await result.client.close();
        expect.fail("the handshake was accepted");
      }
      expect([401, 403]).to.include(result.status);
      await rs.stack.gateway.idle();
      const connectsAfter = rs.stack.gateway.invocations.filter((i) => i.routeKey === "$connect" && i.functionName === "connect").length;
      expect(connectsAfter, "the $connect route ran").to.equal(connectsBefore);
      expect(await storedConnections()).to.equal(before);
    });
  }

  it("accepts a good token after all of them (the key set was not poisoned) and nothing crashed", async () => {
    const before = await settledConnections();
    const client = await rs.connect("alice");
    expect(await client.ping()).to.be.a("number");
    expect(await storedConnections()).to.equal(before + 1);
    await client.close();
    await rs.stack.gateway.idle();
    expect(rs.crashes(mark).filter((c) => !c.startsWith("authorizer: Unauthorized"))).to.deep.equal([]);
    expect(rs.unhandled.slice(unhandledMark)).to.deep.equal([]);
  });
});

/** The same claims with `alg: none` and no signature. */
function unsigned(token: string): string {
  const [, payload] = token.split(".");
  return `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${payload}.`;
}
