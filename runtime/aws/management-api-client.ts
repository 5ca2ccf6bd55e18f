/**
 * @connections clients, one per endpoint (this region's CONNECTIONS_ENDPOINT, or another region's for a client that
 * resumed a turn there), once per container. A request to another region's API is signed for that region.
 */
import { ApiGatewayManagementApiClient } from "@aws-sdk/client-apigatewaymanagementapi";

const managementApis = new Map<string, ApiGatewayManagementApiClient>();

export function managementApi(endpoint: string, region?: string): ApiGatewayManagementApiClient {
  const key = `${region ?? ""} ${endpoint}`;
  let client = managementApis.get(key);
  if (!client) {
    client = new ApiGatewayManagementApiClient(region === undefined ? { endpoint } : { endpoint, region });
    managementApis.set(key, client);
  }
  return client;
}

export function resetManagementApis(): void {
  for (const client of managementApis.values()) client.destroy();
  managementApis.clear();
}
