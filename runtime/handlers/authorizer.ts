/**
 * Lambda REQUEST authorizer on `$connect`: the Cognito token arrives as the second offered WebSocket subprotocol
 * (`Sec-WebSocket-Protocol: chat.v1, <jwt>`, the route's identity source). The query string is never read: a token
 * in a URL ends up in consoles, proxies and logs. The handshake must also carry the `X-Origin-Verify` header that
 * only the stack's CloudFront distribution adds (runtime/auth/origin-verify.ts).
 */
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { authorizeConnection } from "../auth/authorize";
import { ORIGIN_VERIFY_HEADER, originVerified } from "../auth/origin-verify";
import { headerValue, tokenFromSubprotocols } from "../auth/subprotocol";
import type { TokenVerifier } from "../auth/verifier";
import type { Log } from "../chat/ports";
import { originSecrets, tokenVerifier } from "../composition/authorizer";
import { runtimeLog } from "../composition/base";
import { SUBPROTOCOL_HEADER } from "../protocol";

export function createAuthorizerHandler(verifier: () => TokenVerifier, log: () => Log, secrets: () => readonly string[] = () => []) {
  return async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const token = tokenFromSubprotocols(headerValue(event.headers, SUBPROTOCOL_HEADER));
    const accepted = secrets();
    const origin = { required: accepted.length > 0, verified: originVerified(headerValue(event.headers, ORIGIN_VERIFY_HEADER), accepted) };
    const result = await authorizeConnection(token, event.methodArn, verifier(), log(), origin);
    log().info("connect authorized", { connectionId: event.requestContext?.connectionId });
    return result;
  };
}

export const handler = createAuthorizerHandler(tokenVerifier, runtimeLog, originSecrets);
