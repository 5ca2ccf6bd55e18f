/**
 * Every action route (`send`, `stop`, `regenerate`, `sessions`, `history`, `ping`) and `$default`. Answers go
 * through the @connections API, so the route needs no route response; `send`/`regenerate` return quickly and
 * leave generation to the worker.
 */
import { handleClientFrame, type MessageDeps } from "../chat/dispatch";
import { messageDependencies } from "../composition/message";
import { frameBody, type WebSocketEvent, type WebSocketResult } from "./events";

export function createMessageHandler(deps: () => MessageDeps) {
  return async (event: WebSocketEvent): Promise<WebSocketResult> => {
    const { connectionId, requestTimeEpoch } = event.requestContext;
    await handleClientFrame({ connectionId, body: frameBody(event), receivedAt: requestTimeEpoch ?? Date.now() }, deps());
    return { statusCode: 200 };
  };
}

export const handler = createMessageHandler(messageDependencies);
