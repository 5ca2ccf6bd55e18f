/**
 * The lean DynamoDB document client (runtime/aws/dynamo-document-client.ts) against lib-dynamodb's own: the same
 * commands must put the same JSON on the wire, give back the same outputs for the same answers, be signed as the SDK
 * signs, and fail and retry as the SDK does. A stand-in server records what each client sent and answers as DynamoDB's
 * JSON API does. (The store contract, test/runtime/store.test.ts, runs the stores through this client on dynalite and
 * DynamoDB Local.)
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { BatchGetCommand, BatchWriteCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { SignatureV4 } from "@smithy/signature-v4";
import { expect } from "chai";
import { timeout } from "../../runtime/aws/timeout";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { dynamoEndpoint, leanDocumentClient } from "../../runtime/aws/dynamo-document-client";
import { configuredEndpoint } from "../../runtime/aws/endpoints";
import { NodeSha256 } from "../sdk-sha256";
import { until } from "./until";

const CREDENTIALS = { accessKeyId: "ASIAEXAMPLEKEY", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", sessionToken: "IQoJb3JpZ2luX2VjEXAMPLE//token+/=" };
const TRANSLATE = { marshallOptions: { removeUndefinedValues: true } };

interface Seen {
  target: string;
  body: Record<string, unknown>;
  raw: Buffer;
  headers: http.IncomingHttpHeaders;
}
type Answer = (res: http.ServerResponse, seen: Seen) => void;

const json = (status: number, body: unknown): Answer => (res) => {
  res.writeHead(status, { "content-type": "application/x-amz-json-1.0" });
  res.end(JSON.stringify(body));
};
const refusal = (status: number, type: string, message: string, members: Record<string, unknown> = {}): Answer =>
  json(status, { __type: `com.amazonaws.dynamodb.v20120810#${type}`, message, ...members });

describe("runtime/aws: the lean DynamoDB document client", function () {
  this.timeout(15_000);
  let server: http.Server;
  let endpoint: string;
  let seen: Seen[] = [];
  let answers: Answer[] = [];
  let fallback: Answer = json(200, {});

  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const raw = Buffer.concat(chunks);
        const s: Seen = { target: String(req.headers["x-amz-target"]), body: raw.length ? (JSON.parse(raw.toString()) as Record<string, unknown>) : {}, raw, headers: req.headers };
        seen.push(s);
        (answers.shift() ?? fallback)(res, s);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    seen = [];
    answers = [];
    fallback = json(200, {});
  });
  after(() => server.close());

  const sdkClient = (maxAttempts?: number) => new DynamoDBClient({ endpoint, region: "eu-west-1", credentials: CREDENTIALS, ...(maxAttempts ? { maxAttempts } : {}) });
  const lean = () => leanDocumentClient(sdkClient(), TRANSLATE);
  const sdk = () => DynamoDBDocumentClient.from(sdkClient(), TRANSLATE);

  const item = { pk: "SESSION#s1", sk: "TURN#01J", text: "héllo", n: 42, f: 1.5, ok: true, none: null, list: [1, "two", { three: 3 }], map: { a: { b: [true] } }, gone: undefined };
  const key = { pk: "SESSION#s1", sk: "TURN#01J" };
  // One command of each kind the stores send, with the shapes they use (expression values, start keys, batches).
  const commands = () => [
    new GetCommand({ TableName: "history", Key: key, ConsistentRead: true, ProjectionExpression: "#t", ExpressionAttributeNames: { "#t": "text" } }),
    new PutCommand({ TableName: "history", Item: item, ConditionExpression: "attribute_not_exists(pk) OR #s = :s", ExpressionAttributeNames: { "#s": "status" }, ExpressionAttributeValues: { ":s": "queued" } }),
    new UpdateCommand({
      TableName: "history",
      Key: key,
      UpdateExpression: "SET #c = if_not_exists(#c, :zero) + :one, #m = :m",
      ConditionExpression: "#c < :limit",
      ExpressionAttributeNames: { "#c": "count", "#m": "meta" },
      ExpressionAttributeValues: { ":zero": 0, ":one": 1, ":limit": 2, ":m": { at: "2026-12-05", gone: undefined } },
      ReturnValues: "ALL_NEW",
    }),
    new DeleteCommand({ TableName: "history", Key: key, ConditionExpression: "#s = :s", ExpressionAttributeNames: { "#s": "status" }, ExpressionAttributeValues: { ":s": "done" } }),
    new QueryCommand({
      TableName: "history",
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :p)",
      ExpressionAttributeValues: { ":pk": "SESSION#s1", ":p": "TURN#" },
      ExclusiveStartKey: key,
      ScanIndexForward: false,
      Limit: 50,
    }),
    new BatchGetCommand({ RequestItems: { history: { Keys: [key, { pk: "CTL#t1", sk: "CTL" }], ProjectionExpression: "pk, sk, stop" } } }),
    new BatchWriteCommand({ RequestItems: { history: [{ PutRequest: { Item: item } }, { DeleteRequest: { Key: key } }] } }),
  ];

  it("puts the same JSON on the wire as lib-dynamodb, for every item command the stores send", async () => {
    for (const [i, command] of commands().entries()) {
      await sdk().send(command as never);
      await lean().send(commands()[i] as never);
    }
    expect(seen).to.have.length(14);
    for (let i = 0; i < seen.length; i += 2) {
      expect(seen[i + 1].target, seen[i].target).to.equal(seen[i].target);
      expect(seen[i + 1].body, seen[i].target).to.deep.equal(seen[i].body);
      expect(seen[i + 1].headers["content-type"]).to.equal("application/x-amz-json-1.0");
    }
    expect(seen.map((s) => s.target.split(".")[1]).filter((_, i) => i % 2 === 0)).to.deep.equal(["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "BatchGetItem", "BatchWriteItem"]);
  });

  it("gives back the same outputs as lib-dynamodb for the same answers", async () => {
    const stored = { pk: { S: "SESSION#s1" }, sk: { S: "TURN#01J" }, n: { N: "42" }, ok: { BOOL: true }, none: { NULL: true }, list: { L: [{ N: "1" }, { S: "two" }] }, map: { M: { a: { SS: ["x", "y"] } } } };
    const replies: Record<string, unknown> = {
      GetItem: { Item: stored },
      PutItem: { Attributes: stored },
      UpdateItem: { Attributes: stored, ConsumedCapacity: { TableName: "history", CapacityUnits: 1 } },
      DeleteItem: {},
      Query: { Items: [stored, stored], Count: 2, ScannedCount: 2, LastEvaluatedKey: { pk: { S: "SESSION#s1" }, sk: { S: "TURN#00" } } },
      BatchGetItem: { Responses: { history: [stored] }, UnprocessedKeys: { history: { Keys: [{ pk: { S: "CTL#t1" }, sk: { S: "CTL" } }], ProjectionExpression: "pk" } } },
      BatchWriteItem: { UnprocessedItems: { history: [{ PutRequest: { Item: stored } }, { DeleteRequest: { Key: { pk: { S: "a" }, sk: { S: "b" } } } }] } },
    };
    fallback = (res, s) => json(200, replies[s.target.split(".")[1]])(res, s);
    for (const [i, command] of commands().entries()) {
      const { $metadata: a, ...fromSdk } = (await sdk().send(command as never)) as Record<string, unknown>;
      const { $metadata: b, ...fromLean } = (await lean().send(commands()[i] as never)) as Record<string, unknown>;
      expect(fromLean, command.constructor.name).to.deep.equal(fromSdk);
      expect((b as { httpStatusCode: number }).httpStatusCode).to.equal((a as { httpStatusCode: number }).httpStatusCode);
    }
  });

  it("signs as the SDK's SigV4 signer does (service dynamodb, the region's scope, the session token)", async () => {
    await lean().send(new GetCommand({ TableName: "history", Key: key }));
    const { headers, raw } = seen[0];
    const signed: Record<string, string> = {};
    for (const name of String(headers.authorization).split("SignedHeaders=")[1].split(",")[0].split(";")) signed[name] = String(headers[name]);
    const date = String(headers["x-amz-date"]);
    const signingDate = new Date(`${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`);
    const url = new URL(endpoint);
    const sdkSigned = await new SignatureV4({ service: "dynamodb", region: "eu-west-1", credentials: CREDENTIALS, sha256: NodeSha256 }).sign(
      { method: "POST", protocol: "http:", hostname: url.hostname, port: Number(url.port), path: "/", query: {}, headers: signed, body: raw },
      { signingDate },
    );
    expect(headers.authorization).to.equal(sdkSigned.headers.authorization);
    expect(String(headers.authorization)).to.match(/Credential=ASIAEXAMPLEKEY\/\d{8}\/eu-west-1\/dynamodb\/aws4_request/);
    expect(headers["x-amz-security-token"]).to.equal(CREDENTIALS.sessionToken);
  });

  it("fails a refused condition at once, named and shaped as the SDK's exception, with the body's members", async () => {
    answers = [refusal(400, "ConditionalCheckFailedException", "The conditional request failed", { Item: { pk: { S: "x" } } })];
    const error = (await lean()
      .send(new UpdateCommand({ TableName: "history", Key: key, UpdateExpression: "SET a = :a", ExpressionAttributeValues: { ":a": 1 } }))
      .then(() => null, (e: unknown) => e)) as Error & { $fault?: string; $metadata?: { httpStatusCode: number; attempts: number }; Item?: unknown };
    expect(error).to.be.instanceOf(Error);
    expect(error.name).to.equal("ConditionalCheckFailedException");
    expect(error.message).to.equal("The conditional request failed");
    expect(error.$fault).to.equal("client");
    expect(error.$metadata).to.deep.equal({ httpStatusCode: 400, attempts: 1 });
    expect(error.Item).to.deep.equal({ pk: { S: "x" } });
    expect(seen).to.have.length(1);
  });

  it("retries throttling and 5xx answers as the SDK's standard strategy, and not a validation error", async () => {
    answers = [refusal(400, "ProvisionedThroughputExceededException", "slow down"), refusal(500, "InternalServerError", "oops")];
    fallback = json(200, { Item: { pk: { S: "a" } } });
    const out = await lean().send(new GetCommand({ TableName: "history", Key: key }));
    expect(out.Item).to.deep.equal({ pk: "a" });
    expect(out.$metadata.attempts).to.equal(3);
    expect(seen).to.have.length(3);

    seen = [];
    answers = [refusal(400, "ValidationException", "bad key")];
    const error = await lean()
      .send(new GetCommand({ TableName: "history", Key: key }))
      .then(() => null, (e: Error) => e);
    expect(error?.name).to.equal("ValidationException");
    expect(seen).to.have.length(1);
  });

  it("stops at the caller's deadline", async () => {
    answers = [() => undefined]; // never answers
    const error = await lean()
      .send(new GetCommand({ TableName: "history", Key: key }), { abortSignal: AbortSignal.timeout(200) })
      .then(() => null, (e: Error) => e);
    expect(error?.name).to.be.oneOf(["AbortError", "TimeoutError"]);
  });

  it("keeps the stores' timeout(ms) as a timer of its own, so no AbortSignal.timeout is made (the SDK path still gets one)", async () => {
    const made: number[] = [];
    const original = AbortSignal.timeout.bind(AbortSignal);
    AbortSignal.timeout = (ms: number) => {
      made.push(ms);
      return original(ms);
    };
    try {
      answers = [() => undefined]; // never answers
      const error = await lean()
        .send(new GetCommand({ TableName: "history", Key: key }), timeout(200))
        .then(() => null, (e: Error) => e);
      expect(error?.name).to.equal("TimeoutError");
      expect(made, "no AbortSignal.timeout on the lean path").to.deep.equal([]);
      // A legacy-parameter call goes through the SDK, which reads the signal: it is made then, with the same deadline.
      answers = [json(200, {})];
      await lean().send(new PutCommand({ TableName: "history", Item: { pk: "a" }, Expected: { pk: { Exists: false } } }), timeout(300));
      expect(made).to.deep.equal([300]);
    } finally {
      AbortSignal.timeout = original;
    }
  });

  it("keeps at most 50 sockets to DynamoDB and queues further calls, as the SDK's handler does", async () => {
    const held: http.ServerResponse[] = [];
    answers = Array.from({ length: 60 }, () => (res: http.ServerResponse) => void held.push(res));
    const client = lean();
    const calls = Array.from({ length: 60 }, () => client.send(new GetCommand({ TableName: "history", Key: key })));
    await until(() => held.length === 50, "50 calls held at the server");
    // 50 calls held on 50 sockets; the other 10 wait in the client for one of them.
    expect(new Set(held.map((res) => res.socket?.remotePort)).size).to.equal(50);
    for (const res of held.splice(0)) json(200, {})(res, seen[0]);
    await until(() => held.length === 10, "the 10 queued calls");
    for (const res of held.splice(0)) json(200, {})(res, seen[0]);
    expect(await Promise.all(calls)).to.have.length(60);
  });

  it("hands a legacy-parameter call to the SDK unchanged (it marshals what this client does not)", async () => {
    await lean().send(new PutCommand({ TableName: "history", Item: { pk: "a" }, Expected: { pk: { Exists: false } } }));
    expect(seen[0].headers["amz-sdk-invocation-id"], "sent by the SDK").to.be.a("string");
    await lean().send(new PutCommand({ TableName: "history", Item: { pk: "a" } }));
    expect(seen[1].headers["amz-sdk-invocation-id"], "sent by the lean client").to.equal(undefined);
  });

  it("finds the endpoint as the SDK does: explicit, then AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL, else the region's", async () => {
    expect((await dynamoEndpoint(sdkClient())).href).to.equal(`${endpoint}/`);
    const regional = new DynamoDBClient({ region: "eu-west-1", credentials: CREDENTIALS });
    expect((await dynamoEndpoint(regional, {})).href).to.equal("https://dynamodb.eu-west-1.amazonaws.com/");
    expect((await dynamoEndpoint(new DynamoDBClient({ region: "cn-north-1", credentials: CREDENTIALS }), {})).href).to.equal("https://dynamodb.cn-north-1.amazonaws.com.cn/");
    expect((await dynamoEndpoint(regional, { AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:8000", AWS_ENDPOINT_URL: "http://other" })).href).to.equal("http://127.0.0.1:8000/");
    expect(configuredEndpoint("DYNAMODB", { AWS_ENDPOINT_URL: "http://other:1" })).to.equal("http://other:1");
    expect(configuredEndpoint("DYNAMODB", { AWS_ENDPOINT_URL_DYNAMODB: "http://x", AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "true" })).to.equal(undefined);
  });
});
