/**
 * Rename and erase over the history table (keys: ./schema.ts, ./dynamo-history.ts). An erase deletes items with
 * BatchWriteItem (25 requests a call; unprocessed ones are sent again) after a strongly consistent Query of the
 * session's partition: the session item, its turns and their control items all share `SESSION#<sessionId>`.
 * Deletes replicate to every region of a global table like any other write (DynamoDB developer guide, "Global
 * tables: how it works").
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Turn } from "../chat/ports";
import { DYNAMO_TIMEOUT_MS, batchWrite, epochSeconds, isConditionFailure, timeout } from "./dynamo";
import { STOP_TTL_SECONDS, sessionKey, stopKey, toTurn, turnKey } from "./history-items";
import { historyTable } from "./schema";

const PK = historyTable.hashKey.name;
const SK = historyTable.rangeKey!.name;
const TTL = historyTable.ttlAttribute;

type Item = Record<string, unknown>;
type Key = Record<string, string>;

export class DynamoErase {
  constructor(
    private readonly client: () => DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number,
  ) {}

  async renameSession(sessionId: string, title: string): Promise<boolean> {
    try {
      await this.client().send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: sessionKey(sessionId),
          UpdateExpression: "SET title = :title",
          ConditionExpression: `attribute_exists(${PK})`,
          ExpressionAttributeValues: { ":title": title },
        }),
        timeout(DYNAMO_TIMEOUT_MS),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async allTurns(sessionId: string): Promise<Turn[]> {
    return (await this.query(sessionId, "TURN#")).map(toTurn);
  }

  async requestErase(sessionId: string, turnId: string, at: string): Promise<void> {
    await this.client().send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...stopKey(sessionId, turnId), requestedAt: at, erase: true, [TTL]: epochSeconds(this.now()) + STOP_TTL_SECONDS },
      }),
      timeout(DYNAMO_TIMEOUT_MS),
    );
  }

  async eraseRequested(sessionId: string, turnId: string): Promise<boolean> {
    const { Item } = await this.client().send(
      new GetCommand({ TableName: this.tableName, Key: stopKey(sessionId, turnId), ConsistentRead: true }),
      timeout(DYNAMO_TIMEOUT_MS),
    );
    return Item?.erase === true;
  }

  async eraseSession(sessionId: string, liveTurns: readonly string[]): Promise<void> {
    const keep = new Set(liveTurns.flatMap((turnId) => [turnKey(sessionId, turnId)[SK], stopKey(sessionId, turnId)[SK]]));
    // The session's own item first: from then on it is out of the user's list and every read of it is not_found.
    await this.deleteKeys([sessionKey(sessionId) as Key]);
    const items = await this.query(sessionId, "");
    await this.deleteKeys(items.map((item) => ({ [PK]: String(item[PK]), [SK]: String(item[SK]) })).filter((key) => !keep.has(key[SK]!)));
  }

  async eraseTurn(sessionId: string, turnId: string): Promise<void> {
    const control = await this.query(sessionId, `CTL#${turnId}#`);
    await this.deleteKeys([turnKey(sessionId, turnId) as Key, ...control.map((item) => ({ [PK]: String(item[PK]), [SK]: String(item[SK]) }))]);
  }

  /** Every item of the session's partition whose sort key starts with `prefix`, keys and all (consistent). */
  private async query(sessionId: string, prefix: string): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const { Items, LastEvaluatedKey }: { Items?: Item[]; LastEvaluatedKey?: Item } = await this.client().send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: prefix === "" ? "#pk = :pk" : "#pk = :pk AND begins_with(#sk, :prefix)",
          ExpressionAttributeNames: prefix === "" ? { "#pk": PK } : { "#pk": PK, "#sk": SK },
          ExpressionAttributeValues: prefix === "" ? { ":pk": `SESSION#${sessionId}` } : { ":pk": `SESSION#${sessionId}`, ":prefix": prefix },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
        timeout(DYNAMO_TIMEOUT_MS),
      );
      items.push(...(Items ?? []));
      startKey = LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  private async deleteKeys(keys: Key[]): Promise<void> {
    await batchWrite(this.client(), this.tableName, keys.map((Key) => ({ DeleteRequest: { Key } })));
  }
}
