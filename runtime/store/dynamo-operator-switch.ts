/**
 * The operator's kill switch for new answers: the item `pk = OPERATOR`, `sk = ANSWERS` in the history table, with
 * `paused` (BOOL). Operators flip it with one `aws dynamodb put-item` (runtime/README.md, "Kill switch").
 *
 * Why an item in the history table and not an SSM parameter: the history table is a global table, so one write in
 * any region reaches every region's handlers (an SSM parameter is regional: one per region, or cross-region reads);
 * the message handler already reads this table (GetItem), so it needs no new SDK client in its bundle and no new
 * permission; and it is read like every other item, from this region's replica, eventually consistent.
 */
import { GetCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { OperatorSwitch } from "../chat/ports";
import { DYNAMO_TIMEOUT_MS, timeout } from "./dynamo";
import { historyTable } from "./schema";

export const OPERATOR_SWITCH_KEY = { [historyTable.hashKey.name]: "OPERATOR", [historyTable.rangeKey!.name]: "ANSWERS" } as const;

export class DynamoOperatorSwitch implements OperatorSwitch {
  constructor(
    private readonly client: () => DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async answersPaused(): Promise<boolean> {
    const { Item } = await this.client().send(
      new GetCommand({ TableName: this.tableName, Key: OPERATOR_SWITCH_KEY, ProjectionExpression: "paused" }),
      timeout(DYNAMO_TIMEOUT_MS),
    );
    return Item?.paused === true;
  }
}
