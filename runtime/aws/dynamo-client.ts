/**
 * The DynamoDB document client, created once per container (lazily) and reused by every invocation: the lean client
 * of ./dynamo-document-client.ts. Its endpoint comes from the environment (AWS_ENDPOINT_URL_DYNAMODB, as the SDK's).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { leanDocumentClient } from "./dynamo-document-client";

let documentClient: DynamoDBDocumentClient | undefined;

export function dynamo(): DynamoDBDocumentClient {
  documentClient ??= leanDocumentClient(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return documentClient;
}

/** Drops the client (and closes its sockets). */
export function resetDynamo(): void {
  documentClient?.destroy();
  documentClient = undefined;
}
