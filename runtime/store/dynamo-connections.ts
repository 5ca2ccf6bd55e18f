/** ConnectionStore over the connections table (keys: ./schema.ts). */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Connection, ConnectionStore } from "../chat/ports";
import { DYNAMO_TIMEOUT_MS, isConditionFailure, timeout } from "./dynamo";
import { connectionsTable } from "./schema";

const KEY = connectionsTable.hashKey.name;
const TTL = connectionsTable.ttlAttribute;

export class DynamoConnectionStore implements ConnectionStore {
  constructor(
    private readonly client: () => DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(connection: Connection, expiresAtEpochSeconds: number): Promise<void> {
    await this.client().send(
      new PutCommand({ TableName: this.tableName, Item: { ...connection, [KEY]: connection.connectionId, [TTL]: expiresAtEpochSeconds } }),
      timeout(DYNAMO_TIMEOUT_MS),
    );
  }

  async get(connectionId: string): Promise<Connection | undefined> {
    const { Item } = await this.client().send(
      new GetCommand({ TableName: this.tableName, Key: { [KEY]: connectionId }, ConsistentRead: true }),
      timeout(DYNAMO_TIMEOUT_MS),
    );
    if (!Item) return undefined;
    return {
      connectionId: String(Item[KEY]),
      userId: String(Item.userId),
      username: String(Item.username ?? ""),
      region: String(Item.region ?? ""),
      callbackEndpoint: String(Item.callbackEndpoint ?? ""),
      connectedAt: String(Item.connectedAt ?? ""),
      // A record without it (written before tokens expired connections) counts as expired: the client reconnects.
      tokenExpiresAt: typeof Item.tokenExpiresAt === "number" ? Item.tokenExpiresAt : 0,
    };
  }

  async delete(connectionId: string): Promise<void> {
    await this.client().send(new DeleteCommand({ TableName: this.tableName, Key: { [KEY]: connectionId } }), timeout(DYNAMO_TIMEOUT_MS));
  }

  /** The running turns are a string set on the connection item, so a retried release cannot undercount. */
  async acquireSlot(connectionId: string, turnId: string, max: number): Promise<boolean> {
    try {
      await this.client().send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [KEY]: connectionId },
          UpdateExpression: "ADD activeTurns :turn",
          ConditionExpression: "attribute_exists(#key) AND (attribute_not_exists(activeTurns) OR size(activeTurns) < :max)",
          ExpressionAttributeNames: { "#key": KEY },
          ExpressionAttributeValues: { ":turn": new Set([turnId]), ":max": max },
        }),
        timeout(DYNAMO_TIMEOUT_MS),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async slotHolders(connectionId: string): Promise<string[]> {
    const { Item } = await this.client().send(
      new GetCommand({ TableName: this.tableName, Key: { [KEY]: connectionId }, ConsistentRead: true, ProjectionExpression: "activeTurns" }),
      timeout(DYNAMO_TIMEOUT_MS),
    );
    const turns: unknown = Item?.activeTurns;
    return turns instanceof Set ? [...turns].filter((t): t is string => typeof t === "string") : [];
  }

  async releaseSlot(connectionId: string, turnId: string): Promise<void> {
    try {
      await this.client().send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [KEY]: connectionId },
          UpdateExpression: "DELETE activeTurns :turn",
          ConditionExpression: "attribute_exists(#key)",
          ExpressionAttributeNames: { "#key": KEY },
          ExpressionAttributeValues: { ":turn": new Set([turnId]) },
        }),
        timeout(DYNAMO_TIMEOUT_MS),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error; // the connection is gone: nothing to release
    }
  }
}
