/**
 * A Cognito-shaped OAuth 2.0 / OIDC provider, just enough for the browser to run the real sign-in code path
 * (oidc-client-ts): discovery, `/oauth2/authorize` (authorization code, PKCE S256 required, as Cognito does for a
 * public client), `/oauth2/token` (code and refresh_token grants; a refresh answers no new refresh token, like
 * Cognito) and the hosted domain's `/logout?client_id&logout_uri`. Tokens are unsigned JWT shapes carrying `sub`:
 * the fake chat server reads the user from them.
 * https://docs.aws.amazon.com/cognito/latest/developerguide/token-endpoint.html
 */
import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeOidc {
  /** The OIDC authority (issuer), like `https://cognito-idp.<region>.amazonaws.com/<poolId>`. */
  authority: string;
  /** The hosted sign-in domain, like `https://<prefix>.auth.<region>.amazoncognito.com`. */
  domain: string;
  clientId: string;
  /** Every token request, in order (grant type and whether PKCE verified). */
  tokenRequests: { grantType: string; pkceVerified?: boolean }[];
  logouts: { clientId: string | null; logoutUri: string | null }[];
  stop(): Promise<void>;
}

export async function startFakeOidc(options: { user: string; accessTokenSeconds: number }): Promise<FakeOidc> {
  const clientId = "webclient123";
  const codes = new Map<string, { challenge: string; redirectUri: string }>();
  const tokenRequests: FakeOidc["tokenRequests"] = [];
  const logouts: FakeOidc["logouts"] = [];
  let base = "";

  const tokens = (withRefresh: boolean) => {
    const now = Math.floor(Date.now() / 1000);
    const jwt = (claims: object) =>
      `${Buffer.from(JSON.stringify({ alg: "none" })).toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.`;
    const common = { sub: options.user, iss: `${base}/pool`, iat: now, exp: now + options.accessTokenSeconds };
    return {
      id_token: jwt({ ...common, aud: clientId, token_use: "id", email: `${options.user}@example.com` }),
      access_token: jwt({ ...common, client_id: clientId, token_use: "access", username: options.user, jti: randomUUID() }),
      ...(withRefresh ? { refresh_token: `refresh-${randomUUID()}` } : {}),
      expires_in: options.accessTokenSeconds,
      token_type: "Bearer",
    };
  };

  const server = createServer((req, res) => void handle(req, res));
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", base);
    const cors = { "access-control-allow-origin": "*", "access-control-allow-headers": "*", "cache-control": "no-store" };
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { ...cors, "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.method === "OPTIONS") return void res.writeHead(204, cors).end();
    if (url.pathname === "/pool/.well-known/openid-configuration") {
      return json(200, {
        issuer: `${base}/pool`,
        authorization_endpoint: `${base}/oauth2/authorize`,
        token_endpoint: `${base}/oauth2/token`,
        jwks_uri: `${base}/pool/.well-known/jwks.json`,
        userinfo_endpoint: `${base}/oauth2/userInfo`,
        response_types_supported: ["code", "token"],
        code_challenge_methods_supported: ["S256"],
      });
    }
    if (url.pathname === "/oauth2/authorize") {
      const params = url.searchParams;
      if (params.get("client_id") !== clientId || params.get("response_type") !== "code" || params.get("code_challenge_method") !== "S256") {
        return json(400, { error: "invalid_request" });
      }
      const code = randomUUID();
      codes.set(code, { challenge: params.get("code_challenge") ?? "", redirectUri: params.get("redirect_uri") ?? "" });
      const back = new URL(params.get("redirect_uri") ?? "");
      back.searchParams.set("code", code);
      back.searchParams.set("state", params.get("state") ?? "");
      res.writeHead(302, { location: back.toString() });
      return void res.end();
    }
    if (url.pathname === "/oauth2/token" && req.method === "POST") {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const form = new URLSearchParams(Buffer.concat(chunks).toString());
      const grantType = form.get("grant_type") ?? "";
      if (grantType === "authorization_code") {
        const issued = codes.get(form.get("code") ?? "");
        codes.delete(form.get("code") ?? "");
        const verifier = form.get("code_verifier") ?? "";
        const pkceVerified = issued !== undefined && createHash("sha256").update(verifier).digest("base64url") === issued.challenge;
        tokenRequests.push({ grantType, pkceVerified });
        if (!pkceVerified || issued.redirectUri !== form.get("redirect_uri")) return json(400, { error: "invalid_grant" });
        return json(200, tokens(true));
      }
      if (grantType === "refresh_token" && (form.get("refresh_token") ?? "").startsWith("refresh-")) {
        tokenRequests.push({ grantType });
        return json(200, tokens(false));
      }
      tokenRequests.push({ grantType });
      return json(400, { error: "unsupported_grant_type" });
    }
    if (url.pathname === "/logout") {
      logouts.push({ clientId: url.searchParams.get("client_id"), logoutUri: url.searchParams.get("logout_uri") });
      res.writeHead(302, { location: url.searchParams.get("logout_uri") ?? "/" });
      return void res.end();
    }
    json(404, { error: "not_found" });
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    authority: `${base}/pool`,
    domain: base,
    clientId,
    tokenRequests,
    logouts,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
