/**
 * The one source of truth for the two DynamoDB tables' keys, indexes and TTL attributes.
 * The Pulumi program (infra/) declares the global tables from it and the local stack creates its tables from it,
 * so the runtime, the cloud and the emulators cannot drift apart. Plain data: no AWS SDK or Pulumi imports.
 */

export type KeyType = "S" | "N" | "B";

export interface KeyAttribute {
  name: string;
  type: KeyType;
}

export interface IndexSchema {
  name: string;
  hashKey: KeyAttribute;
  rangeKey?: KeyAttribute;
  /** Every index projects ALL attributes. */
}

export interface TableSchema {
  /** Logical name; the physical name is chosen by the program (stack-scoped) and reaches handlers by env. */
  logicalName: "connections" | "history";
  hashKey: KeyAttribute;
  rangeKey?: KeyAttribute;
  globalIndexes: IndexSchema[];
  /** Epoch-seconds attribute that DynamoDB TTL expires items by. */
  ttlAttribute: string;
}

/** Connection id → user, region, callback endpoint, expiry. */
export const connectionsTable: TableSchema = {
  logicalName: "connections",
  hashKey: { name: "connectionId", type: "S" },
  globalIndexes: [],
  ttlAttribute: "expiresAt",
};

/**
 * Sessions, turns and per-user bookkeeping in one table, read by Query only.
 * - session:  pk `SESSION#<sessionId>`, sk `META`; carries `sessionOwner` + `lastActiveAt` for the index below
 * - turn:     pk `SESSION#<sessionId>`, sk `TURN#<turnId>` (turn ids sort by creation time)
 * - control:  pk `SESSION#<sessionId>`, sk `CTL#<turnId>#STOP` (a stop request), `CTL#<turnId>#WATCH#<connectionId>`
 *             (a connection resuming the turn) and `CTL#<turnId>#ACK#<connectionId>` (the worker took it on): polled
 *             by the generating worker with one Query, and kept apart from the turn so that a turn is only ever
 *             written by the region that generates it. A session `delete` writes the STOP item with `erase: true`:
 *             the worker then erases the turn and its control items itself (runtime/chat/conversations.ts)
 * - per-user: pk `USER#<userId>`, sk `MSG#<clientMessageId>` (idempotency), and the budget counters, written only
 *             in the home region: `RATE#<minute>` (messages), `ACTIVE` (answers generating), `TOKENS#<day>` (tokens)
 * - operator: pk `OPERATOR`, sk `ANSWERS` (the kill switch for new answers: `paused`)
 */
export const historyTable: TableSchema = {
  logicalName: "history",
  hashKey: { name: "pk", type: "S" },
  rangeKey: { name: "sk", type: "S" },
  globalIndexes: [
    {
      // A user's sessions, newest first (ScanIndexForward: false).
      name: "sessionsByUser",
      hashKey: { name: "sessionOwner", type: "S" },
      rangeKey: { name: "lastActiveAt", type: "S" },
    },
  ],
  ttlAttribute: "expiresAt",
};

export const tables: readonly TableSchema[] = [connectionsTable, historyTable];
