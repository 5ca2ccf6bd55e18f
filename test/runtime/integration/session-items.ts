/** Every item a region's history table keeps under a session (its sort keys): what a delete must leave none of. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { LocalStack } from "../../../runtime/local/stack";
import { historyTable } from "../../../runtime/store/schema";

/** `region` defaults to the primary; another region is read through its replica's endpoint. */
export async function sessionItems(stack: LocalStack, sessionId: string, region = stack.region): Promise<string[]> {
  const endpoint = region === stack.region ? stack.dynamo.endpoint : stack.replication!.endpoint(region);
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint, region, credentials: { accessKeyId: "local", secretAccessKey: "local" } }));
  try {
    const { Items } = await client.send(
      new QueryCommand({
        TableName: stack.tables.history,
        KeyConditionExpression: "#pk = :pk",
        ExpressionAttributeNames: { "#pk": historyTable.hashKey.name },
        ExpressionAttributeValues: { ":pk": `SESSION#${sessionId}` },
        ConsistentRead: true,
      }),
    );
    return (Items ?? []).map((item) => String(item[historyTable.rangeKey!.name]));
  } finally {
    client.destroy();
  }
}
