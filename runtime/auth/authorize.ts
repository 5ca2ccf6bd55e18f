/**
 * The $connect REQUEST authorizer's decision: a handshake that did not come through the stack's CloudFront
 * distribution (runtime/auth/origin-verify.ts) → "Unauthorized", before the token is looked at; a valid token → an Allow policy for this connect request with the
 * caller's identity and the token's expiry (`exp`, epoch seconds) as context (API Gateway passes it to the $connect
 * integration as requestContext.authorizer, which stores it with the connection);
 * anything else → the "Unauthorized" error, which API Gateway answers with 401 before the connection exists.
 */
import type { APIGatewayAuthorizerResult } from "aws-lambda";
import type { Log } from "../chat/ports";
import type { TokenVerifier } from "./verifier";

export const MAX_TOKEN_LENGTH = 8192;

export class Unauthorized extends Error {
  constructor() {
    // API Gateway maps exactly this message to 401 (Lambda authorizer documentation).
    super("Unauthorized");
    this.name = "Unauthorized";
  }
}

/** Whether the handshake came through the edge: `required` false when no origin secret is configured. */
export interface OriginCheck {
  required: boolean;
  verified: boolean;
}

export async function authorizeConnection(
  token: string | undefined,
  methodArn: string,
  verifier: TokenVerifier,
  log: Log,
  origin: OriginCheck = { required: false, verified: false },
): Promise<APIGatewayAuthorizerResult> {
  if (origin.required && !origin.verified) {
    log.warn("connect refused", { reason: "not through the stack's CloudFront distribution" });
    throw new Unauthorized();
  }
  if (!token || token.length > MAX_TOKEN_LENGTH) {
    log.info("connect refused", { reason: token ? "token too long" : "no token" });
    throw new Unauthorized();
  }
  let identity;
  try {
    identity = await verifier.verify(token);
  } catch (error) {
    // The error names the failed check (expired, signature, client, token use); never log the token itself.
    log.info("connect refused", { reason: error instanceof Error ? error.name : "invalid token" });
    throw new Unauthorized();
  }
  return {
    principalId: identity.userId,
    policyDocument: {
      Version: "2012-10-17",
      Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: methodArn }],
    },
    context: { userId: identity.userId, username: identity.username, exp: identity.expiresAt },
  };
}
