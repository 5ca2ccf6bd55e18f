/**
 * The DynamoDB document client (./dynamo-document-client.ts) for the home region (the stack's primary region), where
 * the per-user budget counters live for every region. Created once per container, lazily. In the home region itself, and locally with
 * one region, it is the same endpoint as `dynamo()`; `endpoint` overrides the SDK's AWS_ENDPOINT_URL_DYNAMODB
 * only when the home region's store sits elsewhere (a local stack with several regions).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { leanDocumentClient } from "./dynamo-document-client";

let homeClient: DynamoDBDocumentClient | undefined;

export function homeDynamo(region: string, endpoint?: string): DynamoDBDocumentClient {
  homeClient ??= leanDocumentClient(new DynamoDBClient({ region, ...(endpoint ? { endpoint } : {}) }), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return homeClient;
}

/** Drops the client (and closes its sockets). */
export function resetHomeDynamo(): void {
  homeClient?.destroy();
  homeClient = undefined;
}
