import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { expect } from "chai";
import { fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDynamo, type DynamoKind, type LocalDynamo } from "../../../runtime/local/emulators/dynamodb";
import { historyTable } from "../../../runtime/store/schema";
import { waitFor } from "../helpers";

function clients(store: LocalDynamo) {
  const raw = new DynamoDBClient({ endpoint: store.endpoint, region: "us-east-1", credentials: { accessKeyId: "l", secretAccessKey: "l" } });
  return { raw, doc: DynamoDBDocumentClient.from(raw) };
}

/** Whether a process is alive (signal 0 checks without signalling). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

for (const [kind, ownProcess] of [["dynamodb-local", false], ["dynalite", false], ["dynalite", true]] as Array<[DynamoKind, boolean]>) {
  describe(`local/dynamodb: ${kind}${ownProcess ? " in a process of its own" : ""} with tables from runtime/store/schema.ts`, function () {
    this.timeout(40_000);
    let store: LocalDynamo;
    let c: ReturnType<typeof clients>;
    before(async () => {
      store = await startDynamo({ kind, region: "us-east-1", ownProcess });
      c = clients(store);
    });
    after(async () => {
      c?.raw.destroy();
      await store?.stop();
    });

    it("creates both tables with the schema's keys and indexes", async () => {
      const history = (await c.raw.send(new DescribeTableCommand({ TableName: store.tables.history }))).Table!;
      expect(history.KeySchema).to.deep.equal([
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ]);
      const gsi = history.GlobalSecondaryIndexes!.map((i) => ({ name: i.IndexName, keys: i.KeySchema, projection: i.Projection?.ProjectionType }));
      expect(gsi).to.deep.equal(
        historyTable.globalIndexes.map((i) => ({
          name: i.name,
          keys: [
            { AttributeName: i.hashKey.name, KeyType: "HASH" },
            { AttributeName: i.rangeKey!.name, KeyType: "RANGE" },
          ],
          projection: "ALL",
        })),
      );
      const connections = (await c.raw.send(new DescribeTableCommand({ TableName: store.tables.connections }))).Table!;
      expect(connections.KeySchema).to.deep.equal([{ AttributeName: "connectionId", KeyType: "HASH" }]);
    });

    it("serves the document client: conditional put, consistent get, update, query on the index newest first", async () => {
      const TableName = store.tables.history;
      for (const [id, at] of [["s1", "2026-01-01T00:00:00Z"], ["s2", "2026-01-02T00:00:00Z"]]) {
        await c.doc.send(
          new PutCommand({
            TableName,
            Item: { pk: `SESSION#${id}`, sk: "META", sessionOwner: "u1", lastActiveAt: at },
            ConditionExpression: "attribute_not_exists(pk)",
          }),
        );
      }
      const duplicate = await c.doc
        .send(new PutCommand({ TableName, Item: { pk: "SESSION#s1", sk: "META" }, ConditionExpression: "attribute_not_exists(pk)" }))
        .then(() => null, (e: Error) => e.name);
      expect(duplicate).to.equal("ConditionalCheckFailedException");
      await c.doc.send(
        new UpdateCommand({ TableName, Key: { pk: "SESSION#s1", sk: "META" }, UpdateExpression: "SET title = :t", ExpressionAttributeValues: { ":t": "hello" } }),
      );
      const got = await c.doc.send(new GetCommand({ TableName, Key: { pk: "SESSION#s1", sk: "META" }, ConsistentRead: true }));
      expect(got.Item).to.include({ title: "hello" });
      const sessions = await c.doc.send(
        new QueryCommand({
          TableName,
          IndexName: "sessionsByUser",
          KeyConditionExpression: "sessionOwner = :u",
          ExpressionAttributeValues: { ":u": "u1" },
          ScanIndexForward: false,
        }),
      );
      expect(sessions.Items!.map((i) => i.pk)).to.deep.equal(["SESSION#s2", "SESSION#s1"]);
    });
  });
}

describe("local/dynamodb: dynalite keeps data in its data directory across restarts", function () {
  this.timeout(20_000);
  for (const ownProcess of [false, true]) {
    it(`reads back an item written before a restart${ownProcess ? " (in a process of its own, which is gone after stop)" : ""}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "dynalite-"));
      try {
        const first = await startDynamo({ kind: "dynalite", region: "us-east-1", dataPath: dir, ownProcess });
        expect(first.pid !== undefined && first.pid !== process.pid).to.equal(ownProcess);
        let c = clients(first);
        await c.doc.send(new PutCommand({ TableName: first.tables.connections, Item: { connectionId: "abc=", userId: "u1" } }));
        c.raw.destroy();
        await first.stop();
        if (first.pid) expect(alive(first.pid)).to.equal(false);
        const second = await startDynamo({ kind: "dynalite", region: "us-east-1", dataPath: dir, ownProcess });
        c = clients(second);
        const got = await c.doc.send(new GetCommand({ TableName: second.tables.connections, Key: { connectionId: "abc=" } }));
        expect(got.Item).to.deep.equal({ connectionId: "abc=", userId: "u1" });
        c.raw.destroy();
        await second.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe("local/dynamodb: dynalite in a process of its own does not outlive its parent", function () {
  this.timeout(20_000);
  it("exits when the process that started it is killed (SIGKILL: no chance to stop it)", async () => {
    const parent = fork(join(__dirname, "..", "fixtures", "own-process-dynalite.ts"), [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const pid = await new Promise<number>((resolve) => parent.once("message", (m: { pid: number }) => resolve(m.pid)));
    expect(alive(pid)).to.equal(true);
    parent.kill("SIGKILL");
    await waitFor(() => !alive(pid), 10_000, "the dynalite process to exit");
  });
});
