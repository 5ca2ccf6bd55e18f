/**
 * Lambda REQUEST authorizer on `$connect`: the Cognito token arrives as the second offered WebSocket subprotocol
 * (`Sec-WebSocket-Protocol: chat.v1, <jwt>`, the route's identity source). The query string is never read: a token
 * in a URL ends up in consoles, proxies and logs.
 */
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { authorizeConnection } from "../auth/authorize";
import { headerValue, tokenFromSubprotocols } from "../auth/subprotocol";
import type { TokenVerifier } from "../auth/verifier";
import type { Log } from "../chat/ports";
import { tokenVerifier } from "../composition/authorizer";
import { runtimeLog } from "../composition/base";
import { SUBPROTOCOL_HEADER } from "../protocol";

export function createAuthorizerHandler(verifier: () => TokenVerifier, log: () => Log) {
  return async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const token = tokenFromSubprotocols(headerValue(event.headers, SUBPROTOCOL_HEADER));
    const result = await authorizeConnection(token, event.methodArn, verifier(), log());
    log().info("connect authorized", { connectionId: event.requestContext?.connectionId });
    return result;
  };
}

export const handler = createAuthorizerHandler(tokenVerifier, runtimeLog);
