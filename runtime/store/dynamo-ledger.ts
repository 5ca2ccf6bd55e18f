/**
 * UserLedger over the history table's per-user items: `USER#<userId>` / `MSG#<clientMessageId>` (idempotency
 * claims, in this region), and the budget counters, all in the home region: `RATE#<minute>` (messages a minute),
 * `ACTIVE` (the turns generating now, a string set) and `TOKENS#<day>` (tokens a UTC day). Counters expire by TTL.
 *
 * The history table is a global table, and global tables evaluate conditions only in the region that is written
 * (last writer wins across regions), so a counter that each region updated in its own replica would hold per region
 * only. Every region therefore writes and reads the counters through a client for the home region's replica (the
 * table has the same name there); the other replicas only receive copies.
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
/** A day's token count outlives its day (the page may still ask just after midnight), then TTL removes it. */
export const TOKENS_TTL_SECONDS = 3 * 86_400;

const rateKey = (userId: string, minuteKey: string) => ({ [PK]: `USER#${userId}`, [SK]: `RATE#${minuteKey}` });
const claimKey = (userId: string, clientMessageId: string) => ({ [PK]: `USER#${userId}`, [SK]: `MSG#${clientMessageId}` });
const activeKey = (userId: string) => ({ [PK]: `USER#${userId}`, [SK]: "ACTIVE" });
const tokensKey = (userId: string, dayKey: string) => ({ [PK]: `USER#${userId}`, [SK]: `TOKENS#${dayKey}` });

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
    /** This region's table: the idempotency claims. */
    private readonly client: () => DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
    /** The home region's replica of the same table: every budget counter. */
    private readonly home: () => DynamoDBDocumentClient = client,
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
      await this.home().send(
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
      await this.home().send(
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

  async acquireGeneration(userId: string, turnId: string, max: number): Promise<boolean> {
    try {
      await this.home().send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: activeKey(userId),
          UpdateExpression: "ADD #turns :turn",
          // Re-acquiring for a turn that holds a slot is no second slot (the set holds it once).
          ConditionExpression: "attribute_not_exists(#turns) OR size(#turns) < :max OR contains(#turns, :id)",
          ExpressionAttributeNames: { "#turns": "turns" },
          ExpressionAttributeValues: { ":turn": new Set([turnId]), ":id": turnId, ":max": max },
        }),
        timeout(DYNAMO_TIMEOUT_MS),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** A string set: a retried or repeated release cannot free someone else's slot. */
  async releaseGeneration(userId: string, turnId: string): Promise<void> {
    await this.home().send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: activeKey(userId),
        UpdateExpression: "DELETE #turns :turn",
        ExpressionAttributeNames: { "#turns": "turns" },
        ExpressionAttributeValues: { ":turn": new Set([turnId]) },
      }),
      timeout(DYNAMO_TIMEOUT_MS),
    );
  }

  async generationHolders(userId: string): Promise<string[]> {
    const { Item } = await this.home().send(
      new GetCommand({ TableName: this.tableName, Key: activeKey(userId), ConsistentRead: true, ProjectionExpression: "turns" }),
      timeout(DYNAMO_TIMEOUT_MS),
    );
    const turns: unknown = Item?.turns;
    return turns instanceof Set ? [...turns].filter((t): t is string => typeof t === "string") : [];
  }

  async addTokens(userId: string, dayKey: string, tokens: number): Promise<void> {
    if (tokens <= 0) return;
    await this.home().send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: tokensKey(userId, dayKey),
        UpdateExpression: "ADD #tokens :n SET #ttl = if_not_exists(#ttl, :ttl)",
        ExpressionAttributeNames: { "#tokens": "tokens", "#ttl": TTL },
        ExpressionAttributeValues: { ":n": tokens, ":ttl": epochSeconds(Date.parse(`${dayKey}T00:00:00Z`)) + TOKENS_TTL_SECONDS },
      }),
      timeout(DYNAMO_TIMEOUT_MS),
    );
  }

  async tokensUsed(userId: string, dayKey: string): Promise<number> {
    const { Item } = await this.home().send(
      new GetCommand({ TableName: this.tableName, Key: tokensKey(userId, dayKey), ConsistentRead: true, ProjectionExpression: "#tokens", ExpressionAttributeNames: { "#tokens": "tokens" } }),
      timeout(DYNAMO_TIMEOUT_MS),
    );
    const tokens: unknown = Item?.tokens;
    return typeof tokens === "number" ? tokens : 0;
  }
}
