/**
 * Only the stack's own CloudFront distribution may open a connection: each of its WebSocket origins adds the header
 * `X-Origin-Verify: <secret>` to the requests it sends (an origin custom header, which also replaces a header of
 * the same name sent by the viewer; CloudFront developer guide, "Add custom headers to origin requests"), and the
 * $connect authorizer requires it. A handshake sent to the API's own `execute-api` host (or to the regional custom
 * domain behind CloudFront) lacks it: API Gateway refuses it with 401 before any Lambda runs, because the header is
 * one of the authorizer's identity sources (a missing identity source is answered 401 without invoking the
 * authorizer; API Gateway developer guide, "Control access to WebSocket APIs with AWS Lambda REQUEST
 * authorizers"); a wrong value reaches the authorizer, which refuses it here.
 *
 * Rotation (infra/origin-secret.ts): two secrets are accepted at once, the one CloudFront sends now and the one it
 * sent before, so CloudFront's edge locations can take minutes to switch without refusing anyone.
 */
import { createHash, timingSafeEqual } from "node:crypto";

export const ORIGIN_VERIFY_HEADER = "X-Origin-Verify";

/** Secrets shorter than this are refused as configuration: the header is worthless if it can be guessed. */
export const MIN_ORIGIN_SECRET_LENGTH = 32;

/** `ORIGIN_VERIFY_SECRETS`: comma-separated; empty entries dropped. */
export function parseOriginSecrets(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/**
 * True when `presented` equals one of the accepted secrets. Compared as SHA-256 digests with timingSafeEqual, so the
 * time taken tells nothing about how much of a guess was right (and both sides have the same length). Every secret
 * is compared, whichever matches.
 */
export function originVerified(presented: string | undefined, accepted: readonly string[]): boolean {
  if (presented === undefined || presented === "") return false;
  const seen = digest(presented);
  let ok = false;
  for (const secret of accepted) ok = timingSafeEqual(seen, digest(secret)) || ok;
  return ok;
}
