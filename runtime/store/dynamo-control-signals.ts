/**
 * The batched control read of the worker service (runtime/chat/control-batch.ts): one BatchGetItem for the stop
 * request (an erase request too) and the doorbell of every turn the process generates or has just ended. BatchGetItem takes at most 100 keys per request
 * (DynamoDB API Reference, BatchGetItem), two per turn: up to 50 turns are one request; more are split into
 * requests of 50 turns sent at once. Keys DynamoDB leaves unprocessed (throttling) are asked again.
 */
import { BatchGetCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { ControlSignals, ControlSignalStore } from "../chat/control-batch";
import type { HistoryStore, TurnControl, TurnRef } from "../chat/ports";
import { bellKey, stopKey } from "./history-items";
import { DYNAMO_TIMEOUT_MS, timeout } from "./dynamo";
import { historyTable } from "./schema";

const PK = historyTable.hashKey.name;
const SK = historyTable.rangeKey!.name;
export const TURNS_PER_BATCH = 50;
const UNPROCESSED_ATTEMPTS = 5;

type Item = Record<string, unknown>;

export class DynamoControlSignals implements ControlSignalStore {
  constructor(
    private readonly client: () => DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly history: Pick<HistoryStore, "turnControl" | "eraseRequested">,
  ) {}

  turnControl(sessionId: string, turnId: string): Promise<TurnControl> {
    return this.history.turnControl(sessionId, turnId);
  }

  eraseRequested(sessionId: string, turnId: string): Promise<boolean> {
    return this.history.eraseRequested(sessionId, turnId);
  }

  async controlSignals(turns: TurnRef[]): Promise<Map<string, ControlSignals>> {
    const signals = new Map<string, ControlSignals>();
    const chunks: TurnRef[][] = [];
    for (let i = 0; i < turns.length; i += TURNS_PER_BATCH) chunks.push(turns.slice(i, i + TURNS_PER_BATCH));
    const items = (await Promise.all(chunks.map((chunk) => this.read(chunk.flatMap((t) => [stopKey(t.sessionId, t.turnId), bellKey(t.sessionId, t.turnId)]))))).flat();
    for (const item of items) {
      // sk is CTL#<turnId>#STOP or CTL#<turnId>#BELL
      const sk = String(item[SK]);
      const turnId = sk.slice("CTL#".length, sk.lastIndexOf("#"));
      const signal = signals.get(turnId) ?? { stopRequested: false };
      if (sk.endsWith("#STOP")) {
        signal.stopRequested = true;
        if (item.erase === true) signal.erase = true;
      }
      else if (typeof item.bell === "string") signal.bell = item.bell;
      signals.set(turnId, signal);
    }
    return signals;
  }

  private async read(keys: Item[]): Promise<Item[]> {
    const items: Item[] = [];
    let pending = keys;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > UNPROCESSED_ATTEMPTS) throw new Error(`${pending.length} control keys left unprocessed`);
      const { Responses, UnprocessedKeys } = await this.client().send(
        new BatchGetCommand({
          RequestItems: {
            [this.tableName]: { Keys: pending, ConsistentRead: true, ProjectionExpression: "#pk, #sk, bell, erase", ExpressionAttributeNames: { "#pk": PK, "#sk": SK } },
          },
        }),
        timeout(DYNAMO_TIMEOUT_MS),
      );
      items.push(...((Responses?.[this.tableName] as Item[] | undefined) ?? []));
      pending = (UnprocessedKeys?.[this.tableName]?.Keys as Item[] | undefined) ?? [];
    }
    return items;
  }
}
