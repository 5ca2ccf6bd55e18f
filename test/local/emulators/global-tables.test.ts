import { expect } from "chai";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { BatchWriteCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { startDynamo, type LocalDynamo } from "../../../runtime/local/emulators/dynamodb";
import { GlobalTables, tableSchemasByName } from "../../../runtime/local/emulators/global-tables";

const REGIONS = ["us-east-1", "eu-west-1"] as const;

describe("runtime/local/global-tables: writes replicate between regions as global tables do", function () {
  this.timeout(30_000);
  const stores: LocalDynamo[] = [];
  let table: string;

  before(async () => {
    for (const region of REGIONS) stores.push(await startDynamo({ kind: "dynalite", region }));
    table = stores[0]!.tables.history;
  });
  after(async () => {
    for (const store of stores) await store.stop();
  });

  async function replicated(lagMs: number) {
    const global = await new GlobalTables({
      stores: REGIONS.map((region, i) => ({ region, endpoint: stores[i]!.endpoint })),
      tables: tableSchemasByName(stores[0]!.tables),
      lagMs,
    }).start();
    const client = (region: string) =>
      DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: global.endpoint(region), region, credentials: { accessKeyId: "local", secretAccessKey: "local" } }));
    return { global, us: client("us-east-1"), eu: client("eu-west-1") };
  }

  const key = (sk: string) => ({ pk: "SESSION#replication-test", sk });
  const read = async (c: DynamoDBDocumentClient, sk: string) => (await c.send(new GetCommand({ TableName: table, Key: key(sk), ConsistentRead: true }))).Item;

  it("with lag 0 a write is in every region when it is answered (puts, updates, deletes)", async () => {
    const { global, us, eu } = await replicated(0);
    try {
      await us.send(new PutCommand({ TableName: table, Item: { ...key("a"), text: "one" } }));
      expect(await read(eu, "a")).to.deep.include({ text: "one" });
      await eu.send(new UpdateCommand({ TableName: table, Key: key("a"), UpdateExpression: "SET #t = :t", ExpressionAttributeNames: { "#t": "text" }, ExpressionAttributeValues: { ":t": "two" } }));
      expect(await read(us, "a")).to.deep.include({ text: "two" });
      await us.send(new DeleteCommand({ TableName: table, Key: key("a") }));
      expect(await read(eu, "a")).to.equal(undefined);
      expect(global.failures).to.deep.equal([]);
    } finally {
      await global.stop();
    }
  });

  it("with a lag, the other region sees the write only later; then both agree", async () => {
    const { global, us, eu } = await replicated(300);
    try {
      await us.send(new PutCommand({ TableName: table, Item: { ...key("b"), text: "late" } }));
      expect(await read(eu, "b"), "not replicated yet").to.equal(undefined);
      await global.settled();
      expect(await read(eu, "b")).to.deep.include({ text: "late" });
      expect(global.failures).to.deep.equal([]);
    } finally {
      await global.stop();
    }
  });

  it("deletes replicate too (BatchWriteItem, as a session delete sends them), and a write older than a delete does not bring the item back", async () => {
    const { global, us, eu } = await replicated(300);
    try {
      for (const sk of ["d1", "d2", "d3"]) await us.send(new PutCommand({ TableName: table, Item: { ...key(sk), text: sk } }));
      await global.settled();
      // eu-west-1 writes d3 first; us-east-1 deletes all three after it, within the lag: the delete is the last write.
      await eu.send(new UpdateCommand({ TableName: table, Key: key("d3"), UpdateExpression: "SET #t = :t", ExpressionAttributeNames: { "#t": "text" }, ExpressionAttributeValues: { ":t": "older" } }));
      await us.send(new BatchWriteCommand({ RequestItems: { [table]: ["d1", "d2", "d3"].map((sk) => ({ DeleteRequest: { Key: key(sk) } })) } }));
      expect(await read(eu, "d1"), "not replicated yet").to.deep.include({ text: "d1" });
      await global.settled();
      for (const sk of ["d1", "d2", "d3"]) {
        expect(await read(us, sk), `${sk} in us-east-1`).to.equal(undefined);
        expect(await read(eu, sk), `${sk} in eu-west-1`).to.equal(undefined);
      }
      expect(global.failures).to.deep.equal([]);
    } finally {
      await global.stop();
    }
  });

  it("conditions hold only in the writing region, and the last writer wins everywhere", async () => {
    const { global, us, eu } = await replicated(300);
    try {
      const claim = (c: DynamoDBDocumentClient, by: string) =>
        c.send(new PutCommand({ TableName: table, Item: { ...key("c"), by }, ConditionExpression: "attribute_not_exists(pk)" }));
      await claim(us, "us");
      await claim(eu, "eu"); // within the lag: eu-west-1 has not seen us-east-1's item, so its condition passes too
      await global.settled();
      const [inUs, inEu] = [await read(us, "c"), await read(eu, "c")];
      expect(inUs).to.deep.equal(inEu);
      expect(inUs).to.deep.include({ by: "eu" });
      expect(global.failures).to.deep.equal([]);
    } finally {
      await global.stop();
    }
  });
});
