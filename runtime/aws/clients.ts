/**
 * AWS SDK clients, created once per container (lazily, at module scope) and reused by every invocation.
 * Endpoints come only from the environment: the SDK reads AWS_ENDPOINT_URL_<SERVICE> itself, and the @connections
 * client uses CONNECTIONS_ENDPOINT. Bedrock keeps the SDK's default HTTP/2 handler; its retries are the worker's
 * (bounded, with jitter, only before the first token), so the client makes one attempt per call.
 */
import { ApiGatewayManagementApiClient } from "@aws-sdk/client-apigatewaymanagementapi";
import { BedrockRuntimeClient } from "@aws-sdk/client-bedrock-runtime";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

let documentClient: DynamoDBDocumentClient | undefined;
let bedrock: BedrockRuntimeClient | undefined;
let lambda: LambdaClient | undefined;
const managementApis = new Map<string, ApiGatewayManagementApiClient>();

export function dynamo(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return documentClient;
}

export function bedrockRuntime(): BedrockRuntimeClient {
  bedrock ??= new BedrockRuntimeClient({ maxAttempts: 1 });
  return bedrock;
}

export function lambdaClient(): LambdaClient {
  lambda ??= new LambdaClient({});
  return lambda;
}

export function managementApi(endpoint: string): ApiGatewayManagementApiClient {
  let client = managementApis.get(endpoint);
  if (!client) {
    client = new ApiGatewayManagementApiClient({ endpoint });
    managementApis.set(endpoint, client);
  }
  return client;
}

/** Drops every cached client (and closes its sockets): for a process that changes endpoints, e.g. tests. */
export function resetClients(): void {
  documentClient?.destroy();
  bedrock?.destroy();
  lambda?.destroy();
  for (const client of managementApis.values()) client.destroy();
  documentClient = bedrock = lambda = undefined;
  managementApis.clear();
}

/** Per-call deadline for a request/response AWS call: `client.send(command, timeout(ms))`. */
export function timeout(ms: number): { abortSignal: AbortSignal } {
  return { abortSignal: AbortSignal.timeout(ms) };
}
