/**
 * ConnectionSender over the API Gateway @connections API (PostToConnection, DeleteConnection). A closed socket
 * answers 410 GoneException (API Gateway developer guide, "Use @connections commands in your backend service").
 */
import {
  DeleteConnectionCommand,
  PostToConnectionCommand,
  type ApiGatewayManagementApiClient,
} from "@aws-sdk/client-apigatewaymanagementapi";
import type { ServerFrame } from "../protocol";
import type { ConnectionRoute, ConnectionSender, PostResult } from "../chat/ports";
import { timeout } from "../aws/timeout";

export const POST_TIMEOUT_MS = 5_000;

export function isGone(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  return e.name === "GoneException" || e.$metadata?.httpStatusCode === 410;
}

export class ApiGatewayConnectionSender implements ConnectionSender {
  /** `client(route)`: the @connections client for a connection in another region; without one, this region's. */
  constructor(private readonly client: (route?: ConnectionRoute) => ApiGatewayManagementApiClient) {}

  async post(connectionId: string, frame: ServerFrame, route?: ConnectionRoute): Promise<PostResult> {
    try {
      await this.client(route).send(
        new PostToConnectionCommand({ ConnectionId: connectionId, Data: new TextEncoder().encode(JSON.stringify(frame)) }),
        timeout(POST_TIMEOUT_MS),
      );
      return "ok";
    } catch (error) {
      if (isGone(error)) return "gone";
      throw error;
    }
  }

  async close(connectionId: string): Promise<void> {
    try {
      await this.client().send(new DeleteConnectionCommand({ ConnectionId: connectionId }), timeout(POST_TIMEOUT_MS));
    } catch (error) {
      if (!isGone(error)) throw error;
    }
  }
}
