/**
 * The budget counters and the kill switch over DynamoDB, on both local engines: the counters are written only in
 * the home region's table (a second DynamoDB stands for the local region, which keeps the idempotency claims),
 * concurrent acquisitions never exceed the limit, and a repeated release frees nothing twice.
 */
import { expect } from "chai";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { randomUUID } from "node:crypto";
import { leanDocumentClient } from "../../runtime/aws/dynamo-document-client";
import { startDynamo, type DynamoKind, type LocalDynamo } from "../../runtime/local/emulators/dynamodb";
import { DynamoUserLedger } from "../../runtime/store/dynamo-ledger";
import { DynamoOperatorSwitch, OPERATOR_SWITCH_KEY } from "../../runtime/store/dynamo-operator-switch";

function documentClient(endpoint: string): DynamoDBDocumentClient {
  return leanDocumentClient(
    new DynamoDBClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
}

for (const kind of ["dynalite", "dynamodb-local"] as DynamoKind[]) {
  describe(`runtime/store: budget counters in the home region (home on ${kind})`, function () {
    this.timeout(60_000);
    let homeDb: LocalDynamo;
    let localDb: LocalDynamo;
    let home: DynamoDBDocumentClient;
    let local: DynamoDBDocumentClient;
    let ledger: DynamoUserLedger;
    const prefix = `b${randomUUID().slice(0, 8)}`;

    before(async () => {
      // The same table name in both, as a global table has in every region.
      [homeDb, localDb] = await Promise.all([
        startDynamo({ kind, region: "us-east-1", tablePrefix: prefix }),
        startDynamo({ kind: "dynalite", region: "eu-west-1", tablePrefix: prefix }),
      ]);
      home = documentClient(homeDb.endpoint);
      local = documentClient(localDb.endpoint);
      ledger = new DynamoUserLedger(() => local, homeDb.tables.history, Date.now, () => home);
    });
    after(async () => {
      home?.destroy();
      local?.destroy();
      await Promise.all([homeDb?.stop(), localDb?.stop()]);
    });

    const userItems = async (client: DynamoDBDocumentClient, userId: string) =>
      (
        await client.send(new QueryCommand({ TableName: homeDb.tables.history, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": `USER#${userId}` } }))
      ).Items!.map((i) => String(i.sk)).sort();

    it("answers at once: concurrent acquisitions never exceed the limit; re-acquiring and repeated releases are harmless", async () => {
      const user = `u-${randomUUID()}`;
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => ledger.acquireGeneration(user, `t${i}`, 2)));
      expect(results.filter(Boolean)).to.have.length(2);
      const holders = (await ledger.generationHolders(user)).sort();
      expect(holders).to.have.length(2);
      expect(await ledger.acquireGeneration(user, holders[0]!, 2)).to.equal(true, "the holder itself re-acquires");
      expect(await ledger.generationHolders(user)).to.have.length(2);
      await ledger.releaseGeneration(user, holders[0]!);
      await ledger.releaseGeneration(user, holders[0]!);
      await ledger.releaseGeneration(user, "never-held");
      expect(await ledger.acquireGeneration(user, "t-new", 2)).to.equal(true);
      expect(await ledger.acquireGeneration(user, "t-newer", 2)).to.equal(false);
      expect(await ledger.generationHolders(`u-${randomUUID()}`)).to.deep.equal([]);
    });

    it("tokens a day: concurrent additions all count, per user and day, with a TTL after the day", async () => {
      const user = `u-${randomUUID()}`;
      expect(await ledger.tokensUsed(user, "2026-12-04")).to.equal(0);
      await Promise.all(Array.from({ length: 8 }, () => ledger.addTokens(user, "2026-12-04", 125)));
      await ledger.addTokens(user, "2026-12-05", 7);
      await ledger.addTokens(user, "2026-12-05", 0);
      expect(await ledger.tokensUsed(user, "2026-12-04")).to.equal(1000);
      expect(await ledger.tokensUsed(user, "2026-12-05")).to.equal(7);
      const { Item } = await home.send(new GetCommand({ TableName: homeDb.tables.history, Key: { pk: `USER#${user}`, sk: "TOKENS#2026-12-04" } }));
      expect(Item!.expiresAt).to.equal(Date.parse("2026-12-04T00:00:00Z") / 1000 + 3 * 86_400);
    });

    it("every counter is written in the home region only; the idempotency claim stays in the local region", async () => {
      const user = `u-${randomUUID()}`;
      expect(await ledger.countMessage(user, "2026-12-04T10:00", 5)).to.equal(true);
      await ledger.acquireGeneration(user, "t1", 2);
      await ledger.addTokens(user, "2026-12-04", 10);
      await ledger.claim({ userId: user, clientMessageId: "m1", sessionId: "s", userTurnId: "u", assistantTurnId: "a", createdAt: new Date().toISOString() });
      expect(await userItems(home, user)).to.deep.equal(["ACTIVE", "RATE#2026-12-04T10:00", "TOKENS#2026-12-04"]);
      expect(await userItems(local, user)).to.deep.equal(["MSG#m1"]);
    });

    it("the kill switch: off when there is no item, on when the operator's put-item says paused", async () => {
      const stored = new DynamoOperatorSwitch(() => home, homeDb.tables.history);
      expect(await stored.answersPaused()).to.equal(false);
      // The item runtime/README.md tells the operator to write.
      await home.send(new PutCommand({ TableName: homeDb.tables.history, Item: { ...OPERATOR_SWITCH_KEY, paused: true } }));
      expect(await stored.answersPaused()).to.equal(true);
      await home.send(new PutCommand({ TableName: homeDb.tables.history, Item: { ...OPERATOR_SWITCH_KEY, paused: false } }));
      expect(await stored.answersPaused()).to.equal(false);
    });
  });
}
