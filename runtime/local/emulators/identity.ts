/**
 * A local stand-in for a Cognito user pool's token issuer: RS256 ID and access tokens with Cognito's issuer and
 * claim layout, and the pool's JWKS at `/<userPoolId>/.well-known/jwks.json`. The unchanged authorizer verifies
 * them with aws-jwt-verify, fetching the JWKS here through AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER.
 * Claims: "Understanding user pool JSON web tokens (JWTs)" in the Cognito developer guide.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { dirname } from "node:path";
import { close, listen, sendJson } from "./http";

export interface IdentityOptions {
  region: string;
  userPoolId: string;
  clientId: string;
  /** Where the signing key is kept across restarts; absent: a new key per process. */
  keyFile?: string;
  /** Lifetime of minted tokens, in seconds (Cognito's default: 1 hour). */
  tokenLifetimeSeconds?: number;
  port?: number;
  host?: string;
}

export type TokenUse = "id" | "access";

export interface MintOptions {
  tokenUse?: TokenUse;
  /** Seconds from now until `exp` (negative: already expired). */
  expiresIn?: number;
  /** Override claims (e.g. `aud`, `client_id`, `iss`, `token_use`) to build deliberately wrong tokens. */
  claims?: Record<string, unknown>;
}

/** The kinds of bad token tests need; each must be refused by the authorizer. */
export type BadTokenKind = "expired" | "wrong-client" | "wrong-use" | "forged" | "wrong-issuer" | "malformed";

interface KeyMaterial {
  kid: string;
  privateKey: KeyObject;
}

export class IdentityIssuer {
  readonly issuer: string;
  private readonly key: KeyMaterial;
  private readonly server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (req.method === "GET" && path === `/${this.options.userPoolId}/.well-known/jwks.json`) {
      return sendJson(res, 200, this.jwks(), { "cache-control": "max-age=3600" });
    }
    if (req.method === "GET" && path === `/${this.options.userPoolId}/.well-known/openid-configuration`) {
      return sendJson(res, 200, {
        issuer: this.issuer,
        jwks_uri: `${this.issuer}/.well-known/jwks.json`,
        id_token_signing_alg_values_supported: ["RS256"],
      });
    }
    sendJson(res, 404, { message: "Not found" });
  });
  private port = 0;

  constructor(private readonly options: IdentityOptions) {
    this.issuer = `https://cognito-idp.${options.region}.amazonaws.com/${options.userPoolId}`;
    this.key = loadOrCreateKey(options.keyFile);
  }

  async start(): Promise<this> {
    this.port = await listen(this.server, this.options.port ?? 0, this.options.host ?? "127.0.0.1");
    return this;
  }

  /** `AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`: the JWKS is at `<endpoint>/<userPoolId>/.well-known/jwks.json`. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    await close(this.server);
  }

  jwks(): { keys: Array<Record<string, string>> } {
    const jwk = createPublicKey(this.key.privateKey).export({ format: "jwk" }) as { n: string; e: string; kty: string };
    return { keys: [{ alg: "RS256", e: jwk.e, kid: this.key.kid, kty: jwk.kty, n: jwk.n, use: "sig" }] };
  }

  /** The user's stable `sub`: the same name always maps to the same id (history survives restarts). */
  subOf(username: string): string {
    const h = createHash("sha256").update(`${this.options.userPoolId}:${username}`).digest("hex");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  /** A Cognito-shaped token for `username` (an ID token unless `tokenUse: "access"`). */
  mint(username: string, options: MintOptions = {}): string {
    return signJwt(this.claimsFor(username, options), this.key);
  }

  /** A token the authorizer must refuse. */
  mintBad(kind: BadTokenKind, username = "mallory"): string {
    switch (kind) {
      case "expired":
        return this.mint(username, { expiresIn: -60 });
      case "wrong-client":
        return this.mint(username, { claims: { aud: "someotherclient0000000000" } });
      case "wrong-use":
        return this.mint(username, { claims: { token_use: "refresh" } });
      case "wrong-issuer":
        return this.mint(username, { claims: { iss: `https://cognito-idp.${this.options.region}.amazonaws.com/${this.options.region}_Other0000` } });
      case "forged": {
        // Right claims and right kid, wrong key: only the signature gives it away.
        const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
        return signJwt(this.claimsFor(username, {}), { kid: this.key.kid, privateKey });
      }
      case "malformed":
        return "not.a.jwt";
    }
  }

  private claimsFor(username: string, options: MintOptions): Record<string, unknown> {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + (options.expiresIn ?? this.options.tokenLifetimeSeconds ?? 3600);
    const sub = this.subOf(username);
    const common = {
      sub,
      iss: this.issuer,
      event_id: randomUUID(),
      auth_time: now,
      iat: Math.min(now, exp - 1),
      exp,
      jti: randomUUID(),
      origin_jti: randomUUID(),
    };
    const claims =
      (options.tokenUse ?? "id") === "id"
        ? { ...common, aud: this.options.clientId, token_use: "id", "cognito:username": username, email_verified: true, email: `${username}@example.com` }
        : { ...common, client_id: this.options.clientId, token_use: "access", scope: "openid email", username };
    return { ...claims, ...options.claims };
  }
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString("base64url");
}

function signJwt(claims: Record<string, unknown>, key: KeyMaterial): string {
  const header = base64url(JSON.stringify({ kid: key.kid, alg: "RS256" }));
  const payload = base64url(JSON.stringify(claims));
  const signature = sign("sha256", Buffer.from(`${header}.${payload}`), key.privateKey);
  return `${header}.${payload}.${base64url(signature)}`;
}

function loadOrCreateKey(keyFile: string | undefined): KeyMaterial {
  if (keyFile) {
    try {
      const stored = JSON.parse(readFileSync(keyFile, "utf8")) as { kid: string; privateKeyPem: string };
      return { kid: stored.kid, privateKey: createPrivateKey(stored.privateKeyPem) };
    } catch {
      // no key yet (or unreadable): make one below
    }
  }
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const kid = base64url(createHash("sha256").update(randomUUID()).digest()).slice(0, 43) + "=";
  if (keyFile) {
    mkdirSync(dirname(keyFile), { recursive: true });
    writeFileSync(keyFile, JSON.stringify({ kid, privateKeyPem: privateKey.export({ format: "pem", type: "pkcs8" }) }), {
      mode: 0o600,
    });
  }
  return { kid, privateKey };
}
