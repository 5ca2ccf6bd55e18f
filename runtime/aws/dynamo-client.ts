/**
 * The DynamoDB document client, created once per container (lazily) and reused by every invocation. Its endpoint
 * comes from the environment (the SDK reads AWS_ENDPOINT_URL_DYNAMODB itself).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

let documentClient: DynamoDBDocumentClient | undefined;

export function dynamo(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return documentClient;
}

/** Drops the client (and closes its sockets). */
export function resetDynamo(): void {
  documentClient?.destroy();
  documentClient = undefined;
}
