/** `$connect`, after the authorizer allowed it: stores the connection with the caller's identity. */
import { openConnection, type ConnectDeps } from "../chat/connect";
import type { Log } from "../chat/ports";
import { runtimeConfig, runtimeLog } from "../composition/base";
import { connectDependencies } from "../composition/connect";
import type { WebSocketEvent, WebSocketResult } from "./events";

export interface ConnectHandlerDeps extends ConnectDeps {
  log: Log;
  region: string;
  callbackEndpoint: string;
}

export function createConnectHandler(deps: () => ConnectHandlerDeps) {
  return async (event: WebSocketEvent): Promise<WebSocketResult> => {
    const d = deps();
    const { connectionId, authorizer, connectedAt } = event.requestContext;
    const userId = authorizer?.userId;
    if (typeof userId !== "string" || userId.length === 0) {
      // Only reachable if the route lost its authorizer: refuse rather than store an anonymous connection.
      d.log.error("connect without authorizer context", { connectionId });
      return { statusCode: 401 };
    }
    const username = typeof authorizer?.username === "string" ? authorizer.username : userId;
    await openConnection({ connectionId, userId, username, region: d.region, callbackEndpoint: d.callbackEndpoint, connectedAtMs: connectedAt }, d);
    d.log.info("connected", { connectionId });
    return { statusCode: 200 };
  };
}

export const handler = createConnectHandler(() => {
  const cfg = runtimeConfig();
  return { ...connectDependencies(), log: runtimeLog(), region: cfg.region, callbackEndpoint: cfg.connectionsEndpoint };
});
