/**
 * What one AWS call costs the caller's CPU: the runtime's lean clients (runtime/aws/dynamo-document-client.ts,
 * sqs-lean-client.ts, signed-http.ts) against the AWS SDK's clients sending the same commands, for the calls the
 * message handler and the worker make on every answer. The emulators run in a process of their own
 * (./call-servers.ts), so this process's CPU (process.cpuUsage) is the client's: building, signing and sending the
 * request and reading the answer. Calls go one at a time; each figure is the median of three rounds of `count` calls,
 * the two clients' rounds alternating.
 */
import { fork } from "node:child_process";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { leanDocumentClient } from "../runtime/aws/dynamo-document-client";
import { leanSqsClient } from "../runtime/aws/sqs-lean-client";
import type { CallServers } from "./call-servers";
import type { BenchOptions, Row, Section } from "./report";
import { fmt, median } from "./stats";

const CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };
const TRANSLATE = { marshallOptions: { removeUndefinedValues: true } };
const ROUNDS = 3;

interface Measured {
  cpuUs: number;
  wallUs: number;
}

async function round(call: () => Promise<unknown>, count: number): Promise<Measured> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await call();
  const c = process.cpuUsage(c0);
  return { cpuUs: (c.user + c.system) / count, wallUs: ((performance.now() - t0) * 1000) / count };
}

export async function clientCallsBenchmark(options: BenchOptions): Promise<Section> {
  const count = options.quick ? 200 : 1500;
  const child = fork(join(__dirname, "call-servers.ts"), [], { execArgv: ["--import", "tsx", "--disable-warning=ExperimentalWarning"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  try {
    const servers = await new Promise<CallServers>((resolve, reject) => {
      child.once("message", (m) => resolve(m as CallServers));
      child.once("exit", (code) => reject(new Error(`the emulators' process exited (${code})`)));
    });
    const dynamoConfig = { endpoint: servers.dynamoEndpoint, region: "us-east-1", credentials: CREDENTIALS };
    const sqsConfig = { endpoint: servers.sqsEndpoint, region: "us-east-1", credentials: CREDENTIALS };
    const lean = { dynamo: leanDocumentClient(new DynamoDBClient(dynamoConfig), TRANSLATE), sqs: leanSqsClient(sqsConfig) };
    const sdk = { dynamo: DynamoDBDocumentClient.from(new DynamoDBClient(dynamoConfig), TRANSLATE), sqs: new SQSClient(sqsConfig) };
    const table = servers.historyTable;
    const key = { pk: "SESSION#bench", sk: "TURN#01JBENCH" };
    // A turn item as the history holds one, and a session of 50 of them for the Query.
    const turn = { ...key, role: "assistant", status: "complete", text: "x".repeat(600), usage: { inputTokens: 900, outputTokens: 150 }, createdAt: new Date().toISOString() };
    for (let i = 0; i < 50; i++) await sdk.dynamo.send(new PutCommand({ TableName: table, Item: { ...turn, sk: `TURN#${String(i).padStart(4, "0")}` } }));
    const job = JSON.stringify({ kind: "generate", sessionId: "s", turnId: "01JBENCHTURN", userTurnId: "01JBENCHUSER", connectionId: "c=", userId: "u", receivedAt: 1 });
    const calls: Array<{ name: string; run: (c: typeof lean) => Promise<unknown> }> = [
      { name: "DynamoDB GetItem (a turn)", run: (c) => c.dynamo.send(new GetCommand({ TableName: table, Key: key })) },
      {
        name: "DynamoDB UpdateItem (a claim: conditional, ALL_NEW)",
        run: (c) =>
          c.dynamo.send(
            new UpdateCommand({ TableName: table, Key: key, UpdateExpression: "SET #s = :s, #u = :u", ExpressionAttributeNames: { "#s": "status", "#u": "updatedAt" }, ExpressionAttributeValues: { ":s": "complete", ":u": new Date().toISOString() }, ReturnValues: "ALL_NEW" }),
          ),
      },
      { name: "DynamoDB PutItem (a turn)", run: (c) => c.dynamo.send(new PutCommand({ TableName: table, Item: turn })) },
      { name: "DynamoDB Query (50 turns of history)", run: (c) => c.dynamo.send(new QueryCommand({ TableName: table, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": key.pk }, Limit: 50 })) },
      {
        name: "SQS SendMessage + ReceiveMessage of a job (two calls)",
        run: async (c) => {
          await c.sqs.send(new SendMessageCommand({ QueueUrl: servers.queueUrl, MessageBody: job }));
          await c.sqs.send(new ReceiveMessageCommand({ QueueUrl: servers.queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 0, VisibilityTimeout: 0 }));
        },
      },
    ];
    const rows: Row[] = [];
    const ratios: number[] = [];
    for (const call of calls) {
      options.log(`client calls: ${call.name}`);
      await round(() => call.run(sdk), 100);
      await round(() => call.run(lean), 100);
      const a: Measured[] = [];
      const b: Measured[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        b.push(await round(() => call.run(sdk), count));
        a.push(await round(() => call.run(lean), count));
      }
      const leanCpu = median(a.map((m) => m.cpuUs));
      const sdkCpu = median(b.map((m) => m.cpuUs));
      ratios.push(leanCpu / sdkCpu);
      rows.push({
        metric: `${call.name}: client CPU per call / wall time per call`,
        value: `${fmt(leanCpu / 1000)} / ${fmt(median(a.map((m) => m.wallUs)) / 1000)}`,
        baseline: `${fmt(sdkCpu / 1000)} / ${fmt(median(b.map((m) => m.wallUs)) / 1000)}`,
      });
    }
    rows.push({ metric: "client CPU per call, lean ÷ SDK (median over the calls above)", value: median(ratios).toFixed(2), baseline: "1" });
    lean.dynamo.destroy();
    lean.sqs.destroy();
    sdk.sqs.destroy();
    return {
      name: "calls",
      title: "AWS calls: the runtime's lean clients vs the SDK's",
      baselineLabel: "the AWS SDK's clients (lib-dynamodb, client-sqs), same commands",
      method:
        `The commands the handlers and the worker send on every answer, one call at a time, ${ROUNDS} rounds of ${count} calls per client, the two clients' rounds alternating, ` +
        "after 100 warm-up calls each; CPU is this process's (process.cpuUsage: building, signing, sending and reading), the emulators (dynalite, fauxqs) run in a process " +
        "of their own (bench/call-servers.ts); wall time includes the emulator's answer. Medians of the rounds. Command: `npm run bench -- --only calls`.",
      rows,
      notes: [
        "The SDK's per-call cost is its middleware stack (endpoint rules, schema serde, user agent, retry tokens, its generic signer); the lean clients keep what the runtime relies on " +
          "(SigV4, the standard retries, errors named as the SDK names them, the SQS MD5 checks) and send the same JSON (test/runtime/dynamo-document-client.test.ts, sqs-lean-client.test.ts).",
      ],
    };
  } finally {
    child.kill();
  }
}
