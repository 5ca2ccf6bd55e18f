import { expect } from "chai";
import type { APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { originVerified, parseOriginSecrets } from "../../runtime/auth/origin-verify";
import { createCognitoVerifier, jwksFetchUri } from "../../runtime/auth/verifier";
import { createAuthorizerHandler } from "../../runtime/handlers/authorizer";
import { silentLog } from "../../runtime/log";

const REGION = "us-east-1";
const POOL = "us-east-1_TestPool1";
const CLIENT = "client-abc123";
const ISSUER = `https://cognito-idp.${REGION}.amazonaws.com/${POOL}`;
const METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/$connect";

const b64url = (v: string | Buffer) => Buffer.from(v).toString("base64url");

function keyPair(): { privateKey: KeyObject; jwk: Record<string, unknown> } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = publicKey.export({ format: "jwk" }) as Record<string, unknown>;
  const kid = createHash("sha256").update(String(jwk.n)).digest("base64url").slice(0, 16);
  return { privateKey, jwk: { ...jwk, kid, alg: "RS256", use: "sig" } };
}

function jwt(key: KeyObject, kid: string, claims: Record<string, unknown>): string {
  const header = b64url(JSON.stringify({ alg: "RS256", kid, typ: "JWT" }));
  const payload = b64url(JSON.stringify(claims));
  const signature = sign("RSA-SHA256", Buffer.from(`${header}.${payload}`), key);
  return `${header}.${payload}.${b64url(signature)}`;
}

const now = () => Math.floor(Date.now() / 1000);
const idClaims = (over: Record<string, unknown> = {}) => ({
  sub: "5f0c-alice",
  aud: CLIENT,
  iss: ISSUER,
  token_use: "id",
  "cognito:username": "alice",
  auth_time: now() - 10,
  iat: now() - 10,
  exp: now() + 3600,
  ...over,
});
const accessClaims = (over: Record<string, unknown> = {}) => ({
  sub: "5f0c-alice",
  client_id: CLIENT,
  iss: ISSUER,
  token_use: "access",
  username: "alice",
  scope: "openid email",
  iat: now() - 10,
  exp: now() + 3600,
  ...over,
});

describe("runtime/auth: the $connect authorizer with real JWTs and a JWKS server", () => {
  const signer = keyPair();
  const stranger = keyPair();
  let server: Server;
  let endpoint: string;
  let jwksFetches = 0;
  const paths: string[] = [];

  before(async () => {
    server = createServer((req, res) => {
      paths.push(req.url ?? "");
      if (req.url === `/${POOL}/.well-known/jwks.json`) {
        jwksFetches++;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ keys: [signer.jwk] }));
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const kid = () => String(signer.jwk.kid);
  const newHandler = () => {
    const verifier = createCognitoVerifier({ userPoolId: POOL, userPoolClientId: CLIENT }, endpoint);
    return createAuthorizerHandler(() => verifier, () => silentLog);
  };
  /** A $connect authorizer event whose handshake offered `Sec-WebSocket-Protocol: <header>` (absent: no header). */
  const withHeader = (header: string | undefined, query: Record<string, string> = {}): APIGatewayRequestAuthorizerEvent =>
    ({
      type: "REQUEST",
      methodArn: METHOD_ARN,
      headers: header === undefined ? { Host: "abc.execute-api.us-east-1.amazonaws.com" } : { "Sec-WebSocket-Protocol": header },
      queryStringParameters: query,
      requestContext: { connectionId: "R1kmxc2VNjMCFIA=", routeKey: "$connect", eventType: "CONNECT" },
    }) as unknown as APIGatewayRequestAuthorizerEvent;
  /** The way a browser offers it: `new WebSocket(url, ["chat.v1", token])`. */
  const event = (token?: string) => withHeader(token === undefined ? undefined : `chat.v1, ${token}`);
  const refusal = async (e: APIGatewayRequestAuthorizerEvent): Promise<unknown> => {
    try {
      await newHandler()(e);
    } catch (error) {
      return error;
    }
    return undefined;
  };

  it("allows a valid ID token: Allow for this methodArn, context userId (sub) and username", async () => {
    const result = await newHandler()(event(jwt(signer.privateKey, kid(), idClaims())));
    expect(result).to.deep.equal({
      principalId: "5f0c-alice",
      policyDocument: { Version: "2012-10-17", Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: METHOD_ARN }] },
      context: { userId: "5f0c-alice", username: "alice", exp: idClaims().exp },
    });
  });

  it("allows a valid access token (client_id checked instead of aud)", async () => {
    const claims = accessClaims();
    const result = await newHandler()(event(jwt(signer.privateKey, kid(), claims)));
    expect(result.context).to.deep.equal({ userId: "5f0c-alice", username: "alice", exp: claims.exp });
  });

  describe("reads the token from Sec-WebSocket-Protocol (`chat.v1, <jwt>`) and nowhere else", () => {
    const good = () => jwt(signer.privateKey, kid(), idClaims());

    it("accepts the list with or without spaces, in any header casing, and chat.v1 anywhere before the token", async () => {
      const token = good();
      for (const header of [`chat.v1,${token}`, `  chat.v1 ,   ${token}  `, `other, chat.v1, ${token}`]) {
        const result = await newHandler()(withHeader(header));
        expect(result.principalId, header).to.equal("5f0c-alice");
      }
      const lower = { ...withHeader(undefined), headers: { "sec-websocket-protocol": `chat.v1, ${token}` } } as unknown as APIGatewayRequestAuthorizerEvent;
      expect((await newHandler()(lower)).principalId).to.equal("5f0c-alice");
    });

    const refused: [string, () => string | undefined][] = [
      ["no Sec-WebSocket-Protocol header", () => undefined],
      ["chat.v1 alone (no token slot)", () => "chat.v1"],
      ["chat.v1 followed by an empty slot", () => "chat.v1, "],
      ["the token without chat.v1", () => good()],
      ["the token before chat.v1", () => `${good()}, chat.v1`],
      ["another protocol version", () => `chat.v2, ${good()}`],
      ["chat.v1 twice", () => "chat.v1, chat.v1"],
    ];
    for (const [name, header] of refused) {
      it(`refuses ${name}`, async () => {
        expect(await refusal(withHeader(header()))).to.be.instanceOf(Error).with.property("message", "Unauthorized");
      });
    }

    it("ignores a token in the query string", async () => {
      expect(await refusal(withHeader(undefined, { token: good() }))).to.be.instanceOf(Error).with.property("message", "Unauthorized");
      expect(await refusal(withHeader("chat.v1", { token: good() }))).to.be.instanceOf(Error).with.property("message", "Unauthorized");
    });
  });

  const refusals: [string, () => string | undefined][] = [
    ["a missing token", () => undefined],
    ["an empty token", () => ""],
    ["garbage", () => "not-a-jwt"],
    ["three garbage segments", () => "abc.def.ghi"],
    ["an expired ID token", () => jwt(signer.privateKey, kid(), idClaims({ iat: now() - 7200, exp: now() - 3600 }))],
    ["an expired access token", () => jwt(signer.privateKey, kid(), accessClaims({ exp: now() - 60 }))],
    ["a token forged with another key under the pool's kid", () => jwt(stranger.privateKey, kid(), idClaims())],
    ["a token with a tampered payload", () => {
      const [h, , s] = jwt(signer.privateKey, kid(), idClaims()).split(".");
      return `${h}.${b64url(JSON.stringify(idClaims({ sub: "mallory" })))}.${s}`;
    }],
    ["an unsigned token (alg none)", () => `${b64url(JSON.stringify({ alg: "none", kid: kid() }))}.${b64url(JSON.stringify(idClaims()))}.`],
    ["an ID token for another client", () => jwt(signer.privateKey, kid(), idClaims({ aud: "other-client" }))],
    ["an access token for another client", () => jwt(signer.privateKey, kid(), accessClaims({ client_id: "other-client" }))],
    ["a refresh token_use", () => jwt(signer.privateKey, kid(), idClaims({ token_use: "refresh" }))],
    ["a custom token_use", () => jwt(signer.privateKey, kid(), accessClaims({ token_use: "custom" }))],
    ["no token_use", () => jwt(signer.privateKey, kid(), idClaims({ token_use: undefined }))],
    ["another user pool's issuer", () => jwt(signer.privateKey, kid(), idClaims({ iss: `https://cognito-idp.${REGION}.amazonaws.com/us-east-1_Other` }))],
    ["a token not yet valid", () => jwt(signer.privateKey, kid(), idClaims({ nbf: now() + 3600 }))],
    ["a token without exp (it would make a connection that never expires)", () => jwt(signer.privateKey, kid(), idClaims({ exp: undefined }))],
  ];
  for (const [name, token] of refusals) {
    it(`refuses ${name} with "Unauthorized" (API Gateway answers 401)`, async () => {
      let caught: unknown;
      try {
        await newHandler()(event(token()));
      } catch (error) {
        caught = error;
      }
      expect(caught).to.be.instanceOf(Error).with.property("message", "Unauthorized");
    });
  }

  it("fetches the JWKS once across many verifications (concurrent and sequential) and from the rewritten origin", async () => {
    jwksFetches = 0;
    paths.length = 0;
    const handler = newHandler();
    const tokens = Array.from({ length: 10 }, (_, i) => jwt(signer.privateKey, kid(), idClaims({ sub: `user-${i}` })));
    await Promise.all(tokens.map((t) => handler(event(t))));
    for (const t of tokens) await handler(event(t));
    await handler(event(jwt(signer.privateKey, kid(), accessClaims())));
    await handler(event(jwt(stranger.privateKey, kid(), idClaims()))).catch(() => undefined);
    expect(jwksFetches).to.equal(1);
    expect(paths).to.deep.equal([`/${POOL}/.well-known/jwks.json`]);
  });

  it("rewrites only the Cognito origin of the JWKS URI", () => {
    const uri = `${ISSUER}/.well-known/jwks.json`;
    expect(jwksFetchUri(uri, undefined)).to.equal(uri);
    expect(jwksFetchUri(uri, "http://127.0.0.1:9229/")).to.equal(`http://127.0.0.1:9229/${POOL}/.well-known/jwks.json`);
    expect(jwksFetchUri(uri, "http://localhost:4566/cognito")).to.equal(`http://localhost:4566/cognito/${POOL}/.well-known/jwks.json`);
    expect(jwksFetchUri("https://example.com/jwks.json", "http://x")).to.equal("https://example.com/jwks.json");
  });

  describe("refuses a handshake that did not come through the stack's CloudFront distribution (X-Origin-Verify)", () => {
    const current = "c".repeat(32) + "-current";
    const previous = "p".repeat(32) + "-previous";
    const guarded = () => {
      const verifier = createCognitoVerifier({ userPoolId: POOL, userPoolClientId: CLIENT }, endpoint);
      return createAuthorizerHandler(() => verifier, () => silentLog, () => [current, previous]);
    };
    const through = (origin: string | undefined, headerName = "X-Origin-Verify"): APIGatewayRequestAuthorizerEvent => {
      const e = event(jwt(signer.privateKey, kid(), idClaims()));
      return { ...e, headers: { ...e.headers, ...(origin === undefined ? {} : { [headerName]: origin }) } } as APIGatewayRequestAuthorizerEvent;
    };
    const outcome = async (e: APIGatewayRequestAuthorizerEvent): Promise<string> => {
      try {
        return (await guarded()(e)).principalId;
      } catch (error) {
        return error instanceof Error ? error.message : "?";
      }
    };

    it("allows the secret CloudFront sends now and the one it sent before a rotation, in any header casing", async () => {
      expect(await outcome(through(current))).to.equal("5f0c-alice");
      expect(await outcome(through(previous))).to.equal("5f0c-alice");
      expect(await outcome(through(current, "x-origin-verify"))).to.equal("5f0c-alice");
    });

    it("refuses a missing, empty, wrong, truncated or extended value with Unauthorized (401), even with a valid token", async () => {
      for (const value of [undefined, "", "wrong", current.slice(0, -1), `${current}x`, ` ${current}`, `${current},${previous}`]) {
        expect(await outcome(through(value)), JSON.stringify(value)).to.equal("Unauthorized");
      }
    });

    it("does not check the header when no secret is configured (a local stack without the edge)", async () => {
      expect(await outcome({ ...through(undefined) })).to.equal("Unauthorized");
      expect((await newHandler()(through(undefined))).principalId).to.equal("5f0c-alice");
    });

    it("compares against every accepted secret and parses ORIGIN_VERIFY_SECRETS as a trimmed list", () => {
      expect(originVerified(previous, [current, previous])).to.equal(true);
      expect(originVerified(current, [])).to.equal(false);
      expect(originVerified(undefined, [current])).to.equal(false);
      expect(parseOriginSecrets(undefined)).to.deep.equal([]);
      expect(parseOriginSecrets(` ${current} ,, ${previous}`)).to.deep.equal([current, previous]);
    });
  });
});
