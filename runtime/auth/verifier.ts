/**
 * Verifies Cognito ID and access tokens with aws-jwt-verify. The key set is fetched once and cached by the
 * module-scope verifier (SimpleJwksCache), so warm invocations verify offline; an unknown `kid` refetches it
 * (key rotation), rate limited by the library's penalty box.
 *
 * The JWKS fetch honours AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER like the SDK's endpoint variables: the
 * `https://cognito-idp.<region>.amazonaws.com` origin of the JWKS URI is replaced by it. Tokens still carry the
 * real Cognito issuer, which is checked as usual.
 */
import { CognitoJwtVerifier } from "aws-jwt-verify";
import type { Fetcher } from "aws-jwt-verify/https";
import { SimpleJwksCache } from "aws-jwt-verify/jwk";
import type { CognitoClient } from "../config";

export interface Identity {
  userId: string;
  username: string;
  /** The token's `exp`, in seconds since the epoch: the connection it opens ends there. */
  expiresAt: number;
}

export interface TokenVerifier {
  /** Resolves the caller's identity; rejects for any token that is not a valid ID or access token of the pool's client. */
  verify(token: string): Promise<Identity>;
}

export const ENDPOINT_ENV = "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER";
export const JWKS_FETCH_TIMEOUT_MS = 3_000;

const COGNITO_ORIGIN = /^https:\/\/(issuer-)?cognito-idp\.[a-z0-9-]+\.amazonaws\.com(?=\/)/;

/** The JWKS URI to fetch: the real one, or the same path under the endpoint override. */
export function jwksFetchUri(jwksUri: string, endpoint: string | undefined): string {
  if (!endpoint) return jwksUri;
  return jwksUri.replace(COGNITO_ORIGIN, endpoint.replace(/\/+$/, ""));
}

/** A Fetcher over Node's fetch (http and https), with a deadline and the endpoint override. */
export function jwksFetcher(endpoint: string | undefined, timeoutMs = JWKS_FETCH_TIMEOUT_MS): Fetcher {
  return {
    async fetch(uri: string): Promise<ArrayBuffer> {
      const response = await fetch(jwksFetchUri(uri, endpoint), { signal: AbortSignal.timeout(timeoutMs) });
      if (response.status !== 200) throw new Error(`JWKS fetch answered ${response.status}`);
      return response.arrayBuffer();
    },
  };
}

export function createCognitoVerifier(
  auth: CognitoClient,
  endpoint: string | undefined = process.env[ENDPOINT_ENV],
  fetcher: Fetcher = jwksFetcher(endpoint),
): TokenVerifier {
  const verifier = CognitoJwtVerifier.create(
    // tokenUse null accepts ID and access tokens; the library still refuses any other token_use, and checks the
    // client id against `aud` (ID token) or `client_id` (access token).
    { userPoolId: auth.userPoolId, tokenUse: null, clientId: auth.userPoolClientId },
    { jwksCache: new SimpleJwksCache({ fetcher }) },
  );
  return {
    async verify(token: string): Promise<Identity> {
      const payload = await verifier.verify(token);
      const username = payload["cognito:username"] ?? payload.username ?? payload.sub;
      // The library checks `exp` only when present; Cognito always sets it, and a token that could live forever
      // would make an endless connection, so none is accepted without one.
      if (!Number.isFinite(payload.exp)) throw new Error("token has no expiry");
      return { userId: payload.sub, username: typeof username === "string" ? username : payload.sub, expiresAt: payload.exp };
    },
  };
}
