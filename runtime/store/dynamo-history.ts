/**
 * HistoryStore over the history table (keys and index: ./schema.ts). Reads are Query/GetItem, never Scan.
 * A turn is written only by the region that generates it (global tables: last writer wins per item).
 */
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from "@aws-sdk/lib-dynamodb";
import type { StopReason, TurnStatus, Usage } from "../protocol";
import { ChatError } from "../chat/errors";
import {
  CONTEXT_TURN_FIELDS,
  InvalidCursor,
  type ContextTurn,
  type HistoryStore,
  type Session,
  type SessionTouch,
  type Turn,
  type TurnControl,
  type TurnPage,
  type TurnResult,
  type TurnWatcher,
} from "../chat/ports";
import { DYNAMO_TIMEOUT_MS, batchWrite, epochSeconds, isConditionFailure, timeout } from "./dynamo";
import { DynamoErase } from "./dynamo-erase";
import { PK, SK, STOP_TTL_SECONDS, TTL, ackKey, bellKey, controlPrefix, sessionKey, stopKey, toTurn, turnKey, watchKey, type Item } from "./history-items";
import { historyTable } from "./schema";

const SESSIONS_INDEX = historyTable.globalIndexes.find((i) => i.name === "sessionsByUser")!;

/**
 * Turns per context Query page. One page is one round trip before the model call, so it is sized to hold a whole
 * conversation of up to 100 exchanges (which at typical answer lengths is past the default 8,000-token budget);
 * a longer conversation is read page by page only until its budget is spent (runtime/chat/context.ts).
 */
const CONTEXT_PAGE_TURNS = 200;

/** Every field of ContextTurn, as names for a ProjectionExpression (`text`, `role` and `status` are reserved words). */
const CONTEXT_PROJECTION = {
  names: Object.fromEntries(CONTEXT_TURN_FIELDS.map((field, i) => [`#c${i}`, field])),
  expression: CONTEXT_TURN_FIELDS.map((_, i) => `#c${i}`).join(", "),
};

function toContextTurn(item: Item): ContextTurn {
  const turn: Record<string, unknown> = {};
  for (const field of CONTEXT_TURN_FIELDS) if (item[field] !== undefined && item[field] !== null) turn[field] = item[field];
  return turn as unknown as ContextTurn;
}

function toWatcher(item: Item): TurnWatcher {
  return {
    connectionId: String(item.connectionId),
    callbackEndpoint: String(item.callbackEndpoint),
    region: String(item.region),
    afterSeq: Number(item.afterSeq),
    offset: Number(item.offset),
    at: String(item.at),
  };
}

function toSession(item: Item): Session {
  return {
    sessionId: String(item.sessionId),
    userId: String(item[SESSIONS_INDEX.hashKey.name]),
    title: String(item.title ?? ""),
    createdAt: String(item.createdAt),
    updatedAt: String(item[SESSIONS_INDEX.rangeKey!.name]),
  };
}

function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  if (!key || typeof key[SK] !== "string") return undefined;
  return Buffer.from(JSON.stringify({ sk: key[SK] }), "utf8").toString("base64url");
}

function decodeCursor(sessionId: string, cursor: string): Item {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    const sk = (parsed as { sk?: unknown }).sk;
    if (typeof sk === "string" && sk.startsWith("TURN#") && sk.length < 400) return { [PK]: `SESSION#${sessionId}`, [SK]: sk };
  } catch {
    // fall through
  }
  throw new InvalidCursor("cursor is not valid");
}

export class DynamoHistoryStore implements HistoryStore {
  /** Rename and erase (session delete) live in ./dynamo-erase.ts. */
  private readonly erase: DynamoErase;

  constructor(
    private readonly client: () => DynamoDBDocumentClient,
    private readonly tableName: string,
    /** 0 keeps history forever. */
    private readonly retentionDays: number,
    private readonly now: () => number = Date.now,
  ) {
    this.erase = new DynamoErase(client, tableName, now);
  }

  renameSession(sessionId: string, title: string): Promise<boolean> {
    return this.erase.renameSession(sessionId, title);
  }
  allTurns(sessionId: string): Promise<Turn[]> {
    return this.erase.allTurns(sessionId);
  }
  requestErase(sessionId: string, turnId: string, at: string): Promise<void> {
    return this.erase.requestErase(sessionId, turnId, at);
  }
  eraseRequested(sessionId: string, turnId: string): Promise<boolean> {
    return this.erase.eraseRequested(sessionId, turnId);
  }
  eraseSession(sessionId: string, liveTurns: readonly string[]): Promise<void> {
    return this.erase.eraseSession(sessionId, liveTurns);
  }
  eraseTurn(sessionId: string, turnId: string): Promise<void> {
    return this.erase.eraseTurn(sessionId, turnId);
  }

  private expiry(): Item {
    return this.retentionDays > 0 ? { [TTL]: epochSeconds(this.now()) + this.retentionDays * 86_400 } : {};
  }

  private sessionItem(session: Session): Item {
    return {
      ...sessionKey(session.sessionId),
      sessionId: session.sessionId,
      [SESSIONS_INDEX.hashKey.name]: session.userId,
      [SESSIONS_INDEX.rangeKey!.name]: session.updatedAt,
      title: session.title,
      createdAt: session.createdAt,
      ...this.expiry(),
    };
  }

  async getSession(sessionId: string): Promise<Session | undefined> {
    const { Item } = await this.client().send(
      new GetCommand({ TableName: this.tableName, Key: sessionKey(sessionId), ConsistentRead: true }),
      timeout(DYNAMO_TIMEOUT_MS),
    );
    return Item ? toSession(Item) : undefined;
  }

  async createSession(session: Session): Promise<void> {
    await this.client().send(
      new PutCommand({
        TableName: this.tableName,
        Item: this.sessionItem(session),
        ConditionExpression: `attribute_not_exists(${PK})`,
      }),
      timeout(DYNAMO_TIMEOUT_MS),
    );
  }

  async touchSession(sessionId: string, at: string): Promise<void> {
    const expiry = this.expiry();
    await this.client().send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: sessionKey(sessionId),
        UpdateExpression: TTL in expiry ? "SET #last = :at, #ttl = :ttl" : "SET #last = :at",
        ConditionExpression: `attribute_exists(${PK})`,
        ExpressionAttributeNames: { "#last": SESSIONS_INDEX.rangeKey!.name, ...(TTL in expiry ? { "#ttl": TTL } : {}) },
        ExpressionAttributeValues: { ":at": at, ...(TTL in expiry ? { ":ttl": expiry[TTL] } : {}) },
      }),
      timeout(DYNAMO_TIMEOUT_MS),
    );
  }

  async touchOwnSession(sessionId: string, userId: string, at: string): Promise<SessionTouch | false> {
    const expiry = this.expiry();
    const last = SESSIONS_INDEX.rangeKey!.name;
    try {
      const { Attributes } = await this.client().send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: sessionKey(sessionId),
          UpdateExpression: TTL in expiry ? "SET #last = :at, #ttl = :ttl" : "SET #last = :at",
          ConditionExpression: "#owner = :owner",
          ExpressionAttributeNames: { "#last": last, "#owner": SESSIONS_INDEX.hashKey.name, ...(TTL in expiry ? { "#ttl": TTL } : {}) },
          ExpressionAttributeValues: { ":at": at, ":owner": userId, ...(TTL in expiry ? { ":ttl": expiry[TTL] } : {}) },
          // The updated attributes' old values (a few bytes): what a refused send puts back.
          ReturnValues: "UPDATED_OLD",
        }),
        timeout(DYNAMO_TIMEOUT_MS),
      );
      const previous = Attributes?.[last];
      return { previousAt: typeof previous === "string" ? previous : undefined };
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async untouchSession(sessionId: string, at: string, touch: SessionTouch): Promise<void> {
    if (touch.previousAt === undefined) return;
    try {
      await this.client().send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: sessionKey(sessionId),
          UpdateExpression: "SET #last = :previous",
          ConditionExpression: "#last = :at",
          ExpressionAttributeNames: { "#last": SESSIONS_INDEX.rangeKey!.name },
          ExpressionAttributeValues: { ":previous": touch.previousAt, ":at": at },
        }),
        timeout(DYNAMO_TIMEOUT_MS),
      );
    } catch (error) {
      // Touched since (another send, an answer saved): that order stands.
      if (!isConditionFailure(error)) throw error;
    }
  }

  async listSessions(userId: string, limit: number): Promise<Session[]> {
    const { Items } = await this.client().send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: SESSIONS_INDEX.name,
        KeyConditionExpression: "#owner = :owner",
        ExpressionAttributeNames: { "#owner": SESSIONS_INDEX.hashKey.name },
        ExpressionAttributeValues: { ":owner": userId },
        ScanIndexForward: false,
        Limit: limit,
      }),
      timeout(DYNAMO_TIMEOUT_MS),
    );
    return (Items ?? []).map(toSession);
  }

  async getTurn(sessionId: string, turnId: string): Promise<Turn | undefined> {
    const { Item } = await this.client().send(
      new GetCommand({ TableName: this.tableName, Key: turnKey(sessionId, turnId), ConsistentRead: true }),
      timeout(DYNAMO_TIMEOUT_MS),
    );
    return Item ? toTurn(Item) : undefined;
  }

  async putTurn(turn: Turn): Promise<void> {
    await this.client().send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...turnKey(turn.sessionId, turn.turnId), ...turn, ...this.expiry() },
        ConditionExpression: `attribute_not_exists(${PK})`,
      }),
      timeout(DYNAMO_TIMEOUT_MS),
    );
  }

  async putNewTurns(turns: Turn[], newSession?: Session): Promise<void> {
    const items: Item[] = turns.map((turn) => ({ ...turnKey(turn.sessionId, turn.turnId), ...turn, ...this.expiry() }));
    if (newSession) items.push(this.sessionItem(newSession));
    await batchWrite(this.client(), this.tableName, items.map((Item) => ({ PutRequest: { Item } })));
  }

  async deleteTurn(sessionId: string, turnId: string): Promise<void> {
    await this.client().send(new DeleteCommand({ TableName: this.tableName, Key: turnKey(sessionId, turnId) }), timeout(DYNAMO_TIMEOUT_MS));
  }

  async pageTurns(sessionId: string, limit: number, cursor?: string): Promise<TurnPage> {
    let startKey: Item | undefined = cursor === undefined ? undefined : decodeCursor(sessionId, cursor);
    const turns: Turn[] = [];
    // A filter drops the turns an edit replaced after the read, so a page may need a few reads (bounded).
    for (let reads = 0; reads < 5 && turns.length < limit; reads++) {
      const { Items, LastEvaluatedKey }: { Items?: Item[]; LastEvaluatedKey?: Item } = await this.client().send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "#pk = :pk AND begins_with(#sk, :turn)",
          // Earlier versions of an answer (supersededBy) stay: the page shows them as "1 of N".
          FilterExpression: "attribute_not_exists(droppedBy)",
          ExpressionAttributeNames: { "#pk": PK, "#sk": SK },
          ExpressionAttributeValues: { ":pk": `SESSION#${sessionId}`, ":turn": "TURN#" },
          ExclusiveStartKey: startKey,
          Limit: limit - turns.length,
        }),
        timeout(DYNAMO_TIMEOUT_MS),
      );
      turns.push(...(Items ?? []).map(toTurn));
      startKey = LastEvaluatedKey;
      if (!startKey) break;
    }
    const next = encodeCursor(startKey);
    return next === undefined ? { turns } : { turns, cursor: next };
  }

  cursorAfter(sessionId: string, turnId: string): string {
    return encodeCursor(turnKey(sessionId, turnId))!;
  }

  async *turnsUpTo(sessionId: string, turnId: string, limit: number, firstPage = CONTEXT_PAGE_TURNS): AsyncIterable<ContextTurn> {
    let startKey: Item | undefined;
    let seen = 0;
    let page = Math.max(1, firstPage);
    do {
      const { Items, LastEvaluatedKey }: { Items?: Item[]; LastEvaluatedKey?: Item } = await this.client().send(
        new QueryCommand({
          TableName: this.tableName,
          // BETWEEN is inclusive: the turn itself comes first (newest first), then the turns before it.
          KeyConditionExpression: "#pk = :pk AND #sk BETWEEN :first AND :upTo",
          ExpressionAttributeNames: { "#pk": PK, "#sk": SK, ...CONTEXT_PROJECTION.names },
          ExpressionAttributeValues: { ":pk": `SESSION#${sessionId}`, ":first": "TURN#", ":upTo": `TURN#${turnId}` },
          // Only what the context is built from: the rest of a turn (usage, ids, times) is most of its bytes, and
          // every byte read is parsed by this function before the model call.
          ProjectionExpression: CONTEXT_PROJECTION.expression,
          ScanIndexForward: false,
          // Read-your-writes: the message handler wrote the turn, and maybe the previous answer, just before.
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
          // One more than the turns wanted: the turn itself (on later pages it only bounds the read).
          Limit: Math.min(page, CONTEXT_PAGE_TURNS, limit - seen) + 1,
        }),
        timeout(DYNAMO_TIMEOUT_MS),
      );
      for (const item of Items ?? []) {
        const turn = toContextTurn(item);
        if (turn.turnId === turnId) {
          yield turn;
          continue;
        }
        if (seen++ >= limit) return;
        yield turn;
      }
      startKey = LastEvaluatedKey;
      page = CONTEXT_PAGE_TURNS;
    } while (startKey && seen < limit);
  }

  async requestStop(sessionId: string, turnId: string, at: string): Promise<void> {
    await this.client().send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...stopKey(sessionId, turnId), requestedAt: at, [TTL]: epochSeconds(this.now()) + STOP_TTL_SECONDS },
      }),
      timeout(DYNAMO_TIMEOUT_MS),
    );
  }

  async stopRequested(sessionId: string, turnId: string): Promise<boolean> {
    const { Item } = await this.client().send(
      new GetCommand({ TableName: this.tableName, Key: stopKey(sessionId, turnId), ConsistentRead: true, ProjectionExpression: "#pk", ExpressionAttributeNames: { "#pk": PK } }),
      timeout(DYNAMO_TIMEOUT_MS),
    );
    return Item !== undefined;
  }

  async turnControl(sessionId: string, turnId: string): Promise<TurnControl> {
    const control: TurnControl = { stopRequested: false, watchers: [], acknowledged: [] };
    const prefix = controlPrefix(turnId);
    let startKey: Item | undefined;
    do {
      const { Items, LastEvaluatedKey }: { Items?: Item[]; LastEvaluatedKey?: Item } = await this.client().send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "#pk = :pk AND begins_with(#sk, :prefix)",
          ExpressionAttributeNames: { "#pk": PK, "#sk": SK },
          ExpressionAttributeValues: { ":pk": `SESSION#${sessionId}`, ":prefix": prefix },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
        timeout(DYNAMO_TIMEOUT_MS),
      );
      for (const item of Items ?? []) {
        const kind = String(item[SK]).slice(prefix.length);
        if (kind === "STOP") control.stopRequested = true;
        else if (kind.startsWith("WATCH#")) control.watchers.push(toWatcher(item));
        else if (kind.startsWith("ACK#")) control.acknowledged.push(kind.slice("ACK#".length));
      }
      startKey = LastEvaluatedKey;
    } while (startKey);
    return control;
  }

  async watchTurn(sessionId: string, turnId: string, watcher: TurnWatcher): Promise<void> {
    const expiresAt = epochSeconds(this.now()) + STOP_TTL_SECONDS;
    await this.client().send(
      new PutCommand({ TableName: this.tableName, Item: { ...watchKey(sessionId, turnId, watcher.connectionId), ...watcher, [TTL]: expiresAt } }),
      timeout(DYNAMO_TIMEOUT_MS),
    );
    // After the watcher item: a poll that sees the bell finds the watcher (in this region; across regions the
    // batched poll re-reads until it does).
    await this.client().send(
      new PutCommand({ TableName: this.tableName, Item: { ...bellKey(sessionId, turnId), bell: `${watcher.at}#${watcher.connectionId}`, [TTL]: expiresAt } }),
      timeout(DYNAMO_TIMEOUT_MS),
    );
  }

  async acknowledgeWatcher(sessionId: string, turnId: string, connectionId: string, at: string): Promise<void> {
    await this.client().send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...ackKey(sessionId, turnId, connectionId), at, [TTL]: epochSeconds(this.now()) + STOP_TTL_SECONDS },
      }),
      timeout(DYNAMO_TIMEOUT_MS),
    );
  }

  async startGeneration(sessionId: string, turnId: string, at: string): Promise<Turn | undefined> {
    try {
      const { Attributes } = await this.client().send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: turnKey(sessionId, turnId),
          UpdateExpression: "SET generationStartedAt = :at",
          ConditionExpression: "#status = :streaming AND attribute_not_exists(generationStartedAt)",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: { ":at": at, ":streaming": "streaming" satisfies TurnStatus },
          ReturnValues: "ALL_NEW",
        }),
        timeout(DYNAMO_TIMEOUT_MS),
      );
      return Attributes ? toTurn(Attributes) : undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  async saveProgress(sessionId: string, turnId: string, text: string, at: string): Promise<boolean> {
    return this.conditionalUpdate({
      Key: turnKey(sessionId, turnId),
      UpdateExpression: "SET #text = :text, updatedAt = :at",
      ConditionExpression: "#status = :streaming",
      ExpressionAttributeNames: { "#text": "text", "#status": "status" },
      ExpressionAttributeValues: { ":text": text, ":at": at, ":streaming": "streaming" satisfies TurnStatus },
    });
  }

  async finishTurn(sessionId: string, turnId: string, result: TurnResult): Promise<boolean> {
    const usage: Usage = { inputTokens: result.usage.inputTokens, outputTokens: result.usage.outputTokens };
    const served = result.servedWatchers?.length ? result.servedWatchers : undefined;
    return this.conditionalUpdate({
      Key: turnKey(sessionId, turnId),
      UpdateExpression: `SET #text = :text, #status = :status, stopReason = :reason, #usage = :usage, ttftMs = :ttft, updatedAt = :at${served ? ", servedWatchers = :served" : ""}`,
      ConditionExpression: "#status = :streaming",
      ExpressionAttributeNames: { "#text": "text", "#status": "status", "#usage": "usage" },
      ExpressionAttributeValues: {
        ":text": result.text,
        ":status": result.status,
        ":reason": result.stopReason satisfies StopReason,
        ":usage": usage,
        ":ttft": result.ttftMs,
        ":at": result.updatedAt,
        ":streaming": "streaming" satisfies TurnStatus,
        ...(served ? { ":served": served } : {}),
      },
    });
  }

  async supersede(sessionId: string, turnId: string, newTurnId: string, at: string): Promise<string> {
    const done = await this.conditionalUpdate({
      Key: turnKey(sessionId, turnId),
      UpdateExpression: "SET supersededBy = :next, updatedAt = :at",
      ConditionExpression: "attribute_exists(#pk) AND attribute_not_exists(supersededBy) AND attribute_not_exists(droppedBy) AND #status <> :streaming",
      ExpressionAttributeNames: { "#pk": PK, "#status": "status" },
      ExpressionAttributeValues: { ":next": newTurnId, ":at": at, ":streaming": "streaming" satisfies TurnStatus },
    });
    if (done) return newTurnId;
    const current = await this.getTurn(sessionId, turnId);
    if (current?.supersededBy) return current.supersededBy;
    // No ids: nothing started, and an error naming the old answer would read as its end (runtime/chat/start-turn.ts).
    if (!current || current.droppedBy) throw new ChatError("not_found", "turn not found");
    throw new ChatError("busy", "that answer is still being generated; stop it first");
  }

  async dropTurn(sessionId: string, turnId: string, byTurnId: string, at: string): Promise<boolean> {
    return this.conditionalUpdate({
      Key: turnKey(sessionId, turnId),
      UpdateExpression: "SET droppedBy = :by, updatedAt = :at",
      ConditionExpression: "attribute_exists(#pk) AND attribute_not_exists(droppedBy) AND #status <> :streaming",
      ExpressionAttributeNames: { "#pk": PK, "#status": "status" },
      ExpressionAttributeValues: { ":by": byTurnId, ":at": at, ":streaming": "streaming" satisfies TurnStatus },
    });
  }

  async reopenTurn(sessionId: string, turnId: string, seenUpdatedAt: string, owner: { region: string; connectionId: string; at: string }): Promise<boolean> {
    return this.conditionalUpdate({
      Key: turnKey(sessionId, turnId),
      UpdateExpression: "SET #status = :streaming, continuedAt = :at, updatedAt = :at, #region = :region, connectionId = :conn REMOVE generationStartedAt, servedWatchers",
      ConditionExpression: "#status <> :streaming AND updatedAt = :seen AND attribute_not_exists(droppedBy) AND attribute_not_exists(supersededBy)",
      ExpressionAttributeNames: { "#status": "status", "#region": "region" },
      ExpressionAttributeValues: { ":streaming": "streaming" satisfies TurnStatus, ":at": owner.at, ":region": owner.region, ":conn": owner.connectionId, ":seen": seenUpdatedAt },
    });
  }

  async clearTurnControl(sessionId: string, turnId: string): Promise<void> {
    const { Items } = await this.client().send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "#pk = :pk AND begins_with(#sk, :prefix)",
        ExpressionAttributeNames: { "#pk": PK, "#sk": SK },
        ExpressionAttributeValues: { ":pk": `SESSION#${sessionId}`, ":prefix": controlPrefix(turnId) },
        ConsistentRead: true,
        ProjectionExpression: "#pk, #sk",
      }),
      timeout(DYNAMO_TIMEOUT_MS),
    );
    await Promise.all((Items ?? []).map((item) => this.client().send(new DeleteCommand({ TableName: this.tableName, Key: { [PK]: item[PK], [SK]: item[SK] } }), timeout(DYNAMO_TIMEOUT_MS))));
  }

  private async conditionalUpdate(input: Omit<ConstructorParameters<typeof UpdateCommand>[0], "TableName">): Promise<boolean> {
    try {
      await this.client().send(new UpdateCommand({ TableName: this.tableName, ...input }), timeout(DYNAMO_TIMEOUT_MS));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
