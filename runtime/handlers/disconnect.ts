/** `$disconnect`: forgets the connection (a generating worker notices through 410 and stops). */
import { closeConnection, type ConnectDeps } from "../chat/connect";
import type { Log } from "../chat/ports";
import { runtimeLog } from "../composition/base";
import { connectDependencies } from "../composition/connect";
import type { WebSocketEvent, WebSocketResult } from "./events";

export function createDisconnectHandler(deps: () => ConnectDeps & { log: Log }) {
  return async (event: WebSocketEvent): Promise<WebSocketResult> => {
    const d = deps();
    const { connectionId } = event.requestContext;
    await closeConnection(connectionId, d);
    d.log.info("disconnected", { connectionId, reason: (event.requestContext as { disconnectStatusCode?: number }).disconnectStatusCode });
    return { statusCode: 200 };
  };
}

export const handler = createDisconnectHandler(() => ({ ...connectDependencies(), log: runtimeLog() }));
