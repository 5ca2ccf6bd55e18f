/** @connections clients, one per endpoint (CONNECTIONS_ENDPOINT), once per container. */
import { ApiGatewayManagementApiClient } from "@aws-sdk/client-apigatewaymanagementapi";

const managementApis = new Map<string, ApiGatewayManagementApiClient>();

export function managementApi(endpoint: string): ApiGatewayManagementApiClient {
  let client = managementApis.get(endpoint);
  if (!client) {
    client = new ApiGatewayManagementApiClient({ endpoint });
    managementApis.set(endpoint, client);
  }
  return client;
}

export function resetManagementApis(): void {
  for (const client of managementApis.values()) client.destroy();
  managementApis.clear();
}
