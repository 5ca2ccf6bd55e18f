/**
 * `$connect`, after the authorizer allowed it: stores the connection with the caller's identity and the token's
 * expiry, and selects the `chat.v1` subprotocol in the handshake answer.
 */
import { offeredSubprotocols, headerValue } from "../auth/subprotocol";
import { openConnection, type ConnectDeps } from "../chat/connect";
import type { Log } from "../chat/ports";
import { runtimeConfig, runtimeLog } from "../composition/base";
import { connectDependencies } from "../composition/connect";
import { CHAT_SUBPROTOCOL, SUBPROTOCOL_HEADER } from "../protocol";
import type { WebSocketEvent, WebSocketResult } from "./events";

export interface ConnectHandlerDeps extends ConnectDeps {
  log: Log;
  region: string;
  callbackEndpoint: string;
}

/** The authorizer's `exp` context value: a number, or its decimal string (API Gateway may stringify context values). */
function expiryOf(value: unknown): number | undefined {
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) && n > 0 ? n : undefined;
}

export function createConnectHandler(deps: () => ConnectHandlerDeps) {
  return async (event: WebSocketEvent): Promise<WebSocketResult> => {
    const d = deps();
    const { connectionId, authorizer, connectedAt } = event.requestContext;
    const userId = authorizer?.userId;
    const tokenExpiresAt = expiryOf(authorizer?.exp);
    if (typeof userId !== "string" || userId.length === 0 || tokenExpiresAt === undefined) {
      // Only reachable if the route lost its authorizer: refuse rather than store an anonymous connection.
      d.log.error("connect without authorizer context", { connectionId });
      return { statusCode: 401 };
    }
    // The authorizer refuses a handshake that does not offer chat.v1; checked again so that this answer can never
    // name a protocol the client did not offer (a browser drops such a connection).
    if (!offeredSubprotocols(headerValue(event.headers, SUBPROTOCOL_HEADER)).includes(CHAT_SUBPROTOCOL)) {
      d.log.info("connect refused", { connectionId, reason: "chat.v1 not offered" });
      return { statusCode: 400 };
    }
    const username = typeof authorizer?.username === "string" ? authorizer.username : userId;
    await openConnection(
      { connectionId, userId, username, region: d.region, callbackEndpoint: d.callbackEndpoint, tokenExpiresAt, connectedAtMs: connectedAt },
      d,
    );
    d.log.info("connected", { connectionId });
    // API Gateway answers the handshake with the Sec-WebSocket-Protocol header that the $connect integration returns
    // (API Gateway developer guide, "Set up a $connect route that requires a WebSocket subprotocol":
    // https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-connect-route-subprotocol.html).
    return { statusCode: 200, headers: { [SUBPROTOCOL_HEADER]: CHAT_SUBPROTOCOL } };
  };
}

export const handler = createConnectHandler(() => {
  const cfg = runtimeConfig();
  return { ...connectDependencies(), log: runtimeLog(), region: cfg.region, callbackEndpoint: cfg.connectionsEndpoint };
});
