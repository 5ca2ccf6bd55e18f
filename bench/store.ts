/** Reads turns back from the history table (Query by session; keys from runtime/store/schema.ts). */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { LocalStack } from "../runtime/local/stack";
import type { TurnStatus } from "../runtime/protocol";
import { historyTable } from "../runtime/store/schema";

export interface StoredTurn {
  turnId: string;
  role: string;
  status: TurnStatus;
  text: string;
  stopReason?: string;
  /** ISO times: written by the message handler, and claimed by the worker. */
  createdAt?: string;
  generationStartedAt?: string;
}

export class HistoryReader {
  private readonly client: DynamoDBDocumentClient;

  constructor(private readonly stack: LocalStack) {
    this.client = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: stack.dynamo.endpoint, region: stack.region, credentials: { accessKeyId: "local", secretAccessKey: "local" } }),
    );
  }

  async turns(sessionId: string): Promise<StoredTurn[]> {
    const pk = historyTable.hashKey.name;
    const sk = historyTable.rangeKey!.name;
    const out: StoredTurn[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.stack.tables.history,
          KeyConditionExpression: "#pk = :pk AND begins_with(#sk, :turn)",
          ExpressionAttributeNames: { "#pk": pk, "#sk": sk },
          ExpressionAttributeValues: { ":pk": `SESSION#${sessionId}`, ":turn": "TURN#" },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        out.push({
          turnId: String(item.turnId),
          role: String(item.role),
          status: item.status as TurnStatus,
          text: String(item.text ?? ""),
          stopReason: item.stopReason === undefined ? undefined : String(item.stopReason),
          ...(typeof item.createdAt === "string" ? { createdAt: item.createdAt } : {}),
          ...(typeof item.generationStartedAt === "string" ? { generationStartedAt: item.generationStartedAt } : {}),
        });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return out;
  }

  async turn(sessionId: string, turnId: string): Promise<StoredTurn | undefined> {
    return (await this.turns(sessionId)).find((t) => t.turnId === turnId);
  }

  close(): void {
    this.client.destroy();
  }
}
