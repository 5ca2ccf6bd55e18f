/**
 * Budgets through the local stack with the real handlers and SDK clients: the per-user counters go to the home
 * region's DynamoDB (HOME_DYNAMODB_ENDPOINT: a second DynamoDB stands for the primary region), the daily budget is
 * counted from the model's reported usage and refuses with quota_exceeded, `usage` answers, the operator's
 * put-item pauses new answers, a message over the context budget is too_large, and a ping flood is closed.
 */
import { expect } from "chai";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { randomUUID } from "node:crypto";
import { startDynamo, type LocalDynamo } from "../../../runtime/local/emulators/dynamodb";
import { startLocalStack, type LocalStack } from "../../../runtime/local/stack";
import type { ErrorFrame, ServerFrame, TurnDoneFrame, TurnStartedFrame, UsageFrame } from "../../../runtime/protocol";
import { OPERATOR_SWITCH_KEY } from "../../../runtime/store/dynamo-operator-switch";
import { ChatClient } from "./client";

const isStarted = (f: ServerFrame): f is TurnStartedFrame => f.type === "turn.started";
const isError = (f: ServerFrame): f is ErrorFrame => f.type === "error";

function send(text: string) {
  return { action: "send", clientMessageId: randomUUID(), text };
}

function documentClient(endpoint: string): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } }));
}

describe("runtime integration: budgets, usage, kill switch and frame budget on the local stack", function () {
  this.timeout(120_000);
  let stack: LocalStack;
  let homeDb: LocalDynamo;
  let home: DynamoDBDocumentClient;
  let local: DynamoDBDocumentClient;
  const clients: ChatClient[] = [];
  const BUDGET = 2_000;

  before(async () => {
    // The stack's own DynamoDB is "this region"; the home region's table has the same name in another DynamoDB.
    homeDb = await startDynamo({ kind: "dynalite", region: "us-east-1" });
    stack = await startLocalStack({
      ports: { web: 0 },
      staticDir: "/nonexistent",
      bedrock: { timing: { timeToFirstTokenMs: 20, tokensPerSecond: 400 } },
      env: {
        FLUSH_INTERVAL_MS: "20",
        STOP_POLL_MS: "50",
        LOG_LEVEL: "SILENT",
        POWERTOOLS_LOG_LEVEL: "SILENT",
        HOME_REGION: "us-east-1",
        HOME_DYNAMODB_ENDPOINT: homeDb.endpoint,
        DAILY_TOKEN_BUDGET: String(BUDGET),
        CONTEXT_BUDGET_TOKENS: "1000",
        OPERATOR_SWITCH_CACHE_MS: "0",
        FRAME_BURST: "100",
        FRAMES_PER_SECOND: "5",
        FRAME_STRIKES_BEFORE_CLOSE: "10",
      },
    });
    home = documentClient(homeDb.endpoint);
    local = documentClient(stack.dynamo.endpoint);
  });
  after(async () => {
    for (const c of clients) c.close();
    home?.destroy();
    local?.destroy();
    await stack?.stop();
    await homeDb?.stop();
  });

  async function connect(user: string): Promise<ChatClient> {
    const client = await ChatClient.open(stack.wsUrl, await stack.token(user));
    clients.push(client);
    return client;
  }

  /** The kinds of per-user items in a table (the test reads by Scan; the runtime never does). */
  async function userItemKinds(client: DynamoDBDocumentClient): Promise<string[]> {
    const { Items } = await client.send(
      new ScanCommand({ TableName: stack.tables.history, FilterExpression: "begins_with(pk, :user)", ExpressionAttributeValues: { ":user": "USER#" } }),
    );
    return [...new Set(Items!.map((i) => String(i.sk).replace(/#.*/, "#")))].sort();
  }

  async function usage(client: ChatClient): Promise<UsageFrame> {
    const before = client.of("usage").length;
    client.send({ action: "usage" });
    await client.waitFor((f) => f.type === "usage" && client.of("usage").length > before);
    return client.of("usage").at(-1)!;
  }

  it("counts the model's usage in the home region, answers usage, and refuses over the daily budget with quota_exceeded", async () => {
    const user = `budget-${randomUUID().slice(0, 8)}`;
    const client = await connect(user);
    expect(await usage(client)).to.deep.include({ used: 0, limit: BUDGET });

    let used = 0;
    let turns = 0;
    // Answer until the budget is used up (the emulator's answers are a few hundred tokens each).
    while (used < BUDGET) {
      const frame = send(`question ${turns}`);
      client.send(frame);
      const started = await client.waitFor((f): f is TurnStartedFrame => isStarted(f) && f.clientMessageId === frame.clientMessageId);
      const done = (await client.ending(started.turnId)) as TurnDoneFrame;
      expect(done.type).to.equal("turn.done");
      used += done.usage.inputTokens + done.usage.outputTokens;
      turns++;
      // The worker counts after it sends turn.done: wait for the count, not for time.
      for (;;) {
        const u = await usage(client);
        if (u.used === used) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    const refused = send("one more");
    client.send(refused);
    const error = await client.waitFor((f): f is ErrorFrame => isError(f) && f.clientMessageId === refused.clientMessageId);
    expect(error.code).to.equal("quota_exceeded");
    expect(error.retryAfterMs).to.be.above(0).and.at.most(86_400_000);
    const now = await usage(client);
    expect(now.used).to.equal(used);
    expect(Date.parse(now.resetAt) % 86_400_000).to.equal(0);

    // Every counter went to the home region; this region holds only the idempotency claims.
    expect(await userItemKinds(home)).to.deep.equal(["ACTIVE", "RATE#", "TOKENS#"]);
    expect(await userItemKinds(local)).to.deep.equal(["MSG#"]);
    expect(turns).to.be.above(1);

    // Another user is not affected.
    const other = await connect(`other-${randomUUID().slice(0, 8)}`);
    const frame = send("hello");
    other.send(frame);
    const started = await other.waitFor(isStarted);
    expect((await other.ending(started.turnId)).type).to.equal("turn.done");
  });

  it("the operator's put-item pauses new answers (busy) and deleting it resumes them", async () => {
    const client = await connect(`paused-${randomUUID().slice(0, 8)}`);
    await local.send(new PutCommand({ TableName: stack.tables.history, Item: { ...OPERATOR_SWITCH_KEY, paused: true } }));
    try {
      const frame = send("are you there?");
      client.send(frame);
      const error = await client.waitFor((f): f is ErrorFrame => isError(f) && f.clientMessageId === frame.clientMessageId);
      expect(error).to.include({ code: "busy", message: "answers are paused by the operator; try again later" });
      expect(client.of("turn.started")).to.have.length(0);
    } finally {
      await local.send(new DeleteCommand({ TableName: stack.tables.history, Key: OPERATOR_SWITCH_KEY }));
    }
    const frame = send("and now?");
    client.send(frame);
    const started = await client.waitFor(isStarted);
    expect((await client.ending(started.turnId)).type).to.equal("turn.done");
  });

  it("refuses a message that alone exceeds the context budget (CJK counted by bytes) with too_large", async () => {
    const client = await connect(`large-${randomUUID().slice(0, 8)}`);
    const frame = send("語".repeat(400)); // 400 characters, 1,200 bytes: over a 1,000-token budget
    client.send(frame);
    const error = await client.waitFor((f): f is ErrorFrame => isError(f) && f.clientMessageId === frame.clientMessageId);
    expect(error.code).to.equal("too_large");
    expect(client.of("turn.started")).to.have.length(0);
  });

  it("a ping flood is refused with rate_limited and the server closes that connection; a neighbour is answered", async () => {
    const flood = await connect(`flood-${randomUUID().slice(0, 8)}`);
    const neighbour = await connect(`calm-${randomUUID().slice(0, 8)}`);
    const closed = new Promise<number>((resolve) => flood.socket.once("close", (code) => resolve(code)));
    for (let i = 0; i < 200; i++) flood.send({ action: "ping" });
    await closed;
    const limited = flood.of("error").filter((e) => e.code === "rate_limited");
    expect(limited.length).to.be.at.least(1);
    for (const e of limited) expect(e.retryAfterMs).to.be.above(0);
    expect(flood.of("pong").length).to.be.below(200);
    neighbour.send({ action: "ping" });
    await neighbour.waitFor((f) => f.type === "pong");
  });
});
