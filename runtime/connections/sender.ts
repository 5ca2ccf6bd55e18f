/**
 * ConnectionSender over the API Gateway @connections API (PostToConnection, DeleteConnection). A closed socket
 * answers 410 GoneException (API Gateway developer guide, "Use @connections commands in your backend service").
 * The SDK client of each endpoint resolves its region, endpoint and credentials (the function's or the container's
 * chain); the requests themselves go through ./connections-api.ts, a signed post without the SDK's per-call machinery.
 */
import type { ApiGatewayManagementApiClient } from "@aws-sdk/client-apigatewaymanagementapi";
import { onDestroy } from "../aws/on-destroy";
import type { ServerFrame } from "../protocol";
import type { ConnectionRoute, ConnectionSender, PostResult } from "../chat/ports";
import { ConnectionsApi } from "./connections-api";

export const POST_TIMEOUT_MS = 5_000;

export function isGone(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  return e.name === "GoneException" || e.$metadata?.httpStatusCode === 410;
}

/** The @connections API that an SDK client is configured for. */
export async function connectionsApiOf(client: ApiGatewayManagementApiClient): Promise<ConnectionsApi> {
  const { config } = client;
  const endpoint = await config.endpoint?.();
  if (!endpoint) throw new Error("the @connections client has no endpoint (CONNECTIONS_ENDPOINT)");
  const port = endpoint.port === undefined ? "" : `:${endpoint.port}`;
  return new ConnectionsApi({
    endpoint: new URL(`${endpoint.protocol}//${endpoint.hostname}${port}${endpoint.path}`),
    region: await config.region(),
    credentials: () => config.credentials(),
  });
}

export class ApiGatewayConnectionSender implements ConnectionSender {
  private readonly apis = new WeakMap<ApiGatewayManagementApiClient, Promise<ConnectionsApi>>();

  /** `client(route)`: the @connections client for a connection in another region; without one, this region's. */
  constructor(private readonly client: (route?: ConnectionRoute) => ApiGatewayManagementApiClient) {}

  async post(connectionId: string, frame: ServerFrame, route?: ConnectionRoute): Promise<PostResult> {
    const api = await this.api(route);
    return api.post(connectionId, JSON.stringify(frame), { timeoutMs: POST_TIMEOUT_MS });
  }

  async close(connectionId: string): Promise<void> {
    const api = await this.api();
    await api.delete(connectionId, { timeoutMs: POST_TIMEOUT_MS });
  }

  private api(route?: ConnectionRoute): Promise<ConnectionsApi> {
    const client = this.client(route);
    let api = this.apis.get(client);
    if (!api) {
      api = connectionsApiOf(client);
      this.apis.set(client, api);
      api.catch(() => this.apis.delete(client));
      // Its keep-alive connections close with the client.
      const made = api;
      onDestroy(client, () => {
        if (this.apis.get(client) === made) this.apis.delete(client);
        void made.then((a) => a.destroy(), () => undefined);
      });
    }
    return api;
  }
}
