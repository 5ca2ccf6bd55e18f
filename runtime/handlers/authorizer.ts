/** Lambda REQUEST authorizer on `$connect`: the Cognito token arrives in the query string (`?token=`). */
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { authorizeConnection } from "../auth/authorize";
import type { TokenVerifier } from "../auth/verifier";
import type { Log } from "../chat/ports";
import { tokenVerifier } from "../composition/authorizer";
import { runtimeLog } from "../composition/base";
import { TOKEN_QUERY_PARAMETER } from "../protocol";

export function createAuthorizerHandler(verifier: () => TokenVerifier, log: () => Log) {
  return async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const token = event.queryStringParameters?.[TOKEN_QUERY_PARAMETER] ?? undefined;
    const result = await authorizeConnection(token, event.methodArn, verifier(), log());
    log().info("connect authorized", { connectionId: event.requestContext?.connectionId });
    return result;
  };
}

export const handler = createAuthorizerHandler(tokenVerifier, runtimeLog);
