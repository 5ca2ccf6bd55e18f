/**
 * AWS SDK clients, created once per container (lazily, at module scope) and reused by every invocation. Each client
 * lives in its own module so a handler's bundle holds only the clients it calls (runtime/composition/). Endpoints
 * come only from the environment: the SDK reads AWS_ENDPOINT_URL_<SERVICE> itself, and the @connections client
 * uses CONNECTIONS_ENDPOINT.
 */
import { resetBedrock } from "./bedrock-client";
import { resetDynamo } from "./dynamo-client";
import { resetHomeDynamo } from "./home-dynamo-client";
import { resetLambda } from "./lambda-client";
import { resetManagementApis } from "./management-api-client";
import { resetSqs } from "./sqs-client";

export { bedrockRuntime } from "./bedrock-client";
export { dynamo } from "./dynamo-client";
export { lambdaClient } from "./lambda-client";
export { managementApi } from "./management-api-client";
export { sqsClient } from "./sqs-client";
export { timeout } from "./timeout";

/** Drops every cached client (and closes its sockets): for a process that changes endpoints, e.g. tests. */
export function resetClients(): void {
  resetDynamo();
  resetHomeDynamo();
  resetBedrock();
  resetLambda();
  resetManagementApis();
  resetSqs();
}
