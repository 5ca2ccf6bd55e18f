/** Moves a turn's last write back in time, in the primary region's table: how a test stands in for a silent worker. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { LocalStack } from "../../../runtime/local/stack";
import { historyTable } from "../../../runtime/store/schema";

export async function ageLastWrite(stack: LocalStack, sessionId: string, turnId: string, ms: number): Promise<void> {
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: stack.dynamo.endpoint, region: stack.region, credentials: { accessKeyId: "local", secretAccessKey: "local" } }));
  try {
    await client.send(
      new UpdateCommand({
        TableName: stack.tables.history,
        Key: { [historyTable.hashKey.name]: `SESSION#${sessionId}`, [historyTable.rangeKey!.name]: `TURN#${turnId}` },
        UpdateExpression: "SET updatedAt = :at",
        ExpressionAttributeValues: { ":at": new Date(Date.now() - ms).toISOString() },
      }),
    );
  } finally {
    client.destroy();
  }
}
