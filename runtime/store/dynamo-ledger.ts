/**
 * UserLedger over the history table's per-user items: `USER#<userId>` / `MSG#<clientMessageId>` (idempotency
 * claims) and `USER#<userId>` / `RATE#<minute>` (message quota counters), both expiring by TTL.
 */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { MessageClaim, UserLedger } from "../chat/ports";
import { DYNAMO_TIMEOUT_MS, epochSeconds, isConditionFailure, timeout } from "./dynamo";
import { historyTable } from "./schema";

const PK = historyTable.hashKey.name;
const SK = historyTable.rangeKey!.name;
const TTL = historyTable.ttlAttribute;

/** How long a clientMessageId is remembered: far longer than any client retries a send. */
export const CLAIM_TTL_SECONDS = 7 * 86_400;
/** A quota counter outlives its minute a little, then TTL removes it. */
export const RATE_TTL_SECONDS = 5 * 60;

const rateKey = (userId: string, minuteKey: string) => ({ [PK]: `USER#${userId}`, [SK]: `RATE#${minuteKey}` });
const claimKey = (userId: string, clientMessageId: string) => ({ [PK]: `USER#${userId}`, [SK]: `MSG#${clientMessageId}` });

function toClaim(item: Record<string, unknown>): MessageClaim {
  return {
    userId: String(item.userId),
    clientMessageId: String(item.clientMessageId),
    sessionId: String(item.sessionId),
    userTurnId: String(item.userTurnId),
    assistantTurnId: String(item.assistantTurnId),
    createdAt: String(item.createdAt),
  };
}

export class DynamoUserLedger implements UserLedger {
  constructor(
    private readonly client: () => DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async getClaim(userId: string, clientMessageId: string): Promise<MessageClaim | undefined> {
    const { Item } = await this.client().send(
      new GetCommand({ TableName: this.tableName, Key: claimKey(userId, clientMessageId), ConsistentRead: true }),
      timeout(DYNAMO_TIMEOUT_MS),
    );
    return Item ? toClaim(Item) : undefined;
  }

  async claim(claim: MessageClaim): Promise<MessageClaim | "claimed"> {
    try {
      await this.client().send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...claimKey(claim.userId, claim.clientMessageId), ...claim, [TTL]: epochSeconds(this.now()) + CLAIM_TTL_SECONDS },
          ConditionExpression: `attribute_not_exists(${PK})`,
        }),
        timeout(DYNAMO_TIMEOUT_MS),
      );
      return "claimed";
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const existing = await this.getClaim(claim.userId, claim.clientMessageId);
      if (!existing) throw error;
      return existing;
    }
  }

  async releaseClaim(userId: string, clientMessageId: string): Promise<void> {
    await this.client().send(new DeleteCommand({ TableName: this.tableName, Key: claimKey(userId, clientMessageId) }), timeout(DYNAMO_TIMEOUT_MS));
  }

  async countMessage(userId: string, minuteKey: string, max: number): Promise<boolean> {
    try {
      await this.client().send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: rateKey(userId, minuteKey),
          UpdateExpression: "ADD #count :one SET #ttl = if_not_exists(#ttl, :ttl)",
          ConditionExpression: "attribute_not_exists(#count) OR #count < :max",
          ExpressionAttributeNames: { "#count": "messages", "#ttl": TTL },
          ExpressionAttributeValues: { ":one": 1, ":max": max, ":ttl": epochSeconds(this.now()) + RATE_TTL_SECONDS },
        }),
        timeout(DYNAMO_TIMEOUT_MS),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async uncountMessage(userId: string, minuteKey: string): Promise<void> {
    try {
      await this.client().send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: rateKey(userId, minuteKey),
          UpdateExpression: "ADD #count :minusOne",
          ConditionExpression: "#count > :zero",
          ExpressionAttributeNames: { "#count": "messages" },
          ExpressionAttributeValues: { ":minusOne": -1, ":zero": 0 },
        }),
        timeout(DYNAMO_TIMEOUT_MS),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error; // nothing counted (or already expired): nothing to take back
    }
  }
}
