/**
 * The lean SQS client (runtime/aws/sqs-lean-client.ts) against the SDK's: the job-queue commands put the same JSON on
 * the wire and give back the same outputs, go to the queue URL's origin, are signed for `sqs`, and fail on an MD5
 * mismatch as the SDK's SQS middleware does. (test/runtime/worker-service-adapters.test.ts runs the queue adapters
 * through it on fauxqs.)
 */
import { ChangeMessageVisibilityCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { expect } from "chai";
import { createHash } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { leanSqsClient } from "../../runtime/aws/sqs-lean-client";
import { waitFor } from "../local/helpers";

const credentials = { accessKeyId: "AKIAEXAMPLE", secretAccessKey: "secret" };
const md5 = (text: string) => createHash("md5").update(text).digest("hex");

interface Seen {
  target: string;
  body: Record<string, unknown>;
  headers: http.IncomingHttpHeaders;
}

/** An answer that the stand-in server holds until the test releases it. */
const HOLD = Symbol("hold");

describe("runtime/aws: the lean SQS client", function () {
  this.timeout(15_000);
  let server: http.Server;
  let origin: string;
  let seen: Seen[] = [];
  let answer: (target: string, body: Record<string, unknown>) => unknown = () => ({});
  let held: http.ServerResponse[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = JSON.parse(Buffer.concat(chunks).toString() || "{}") as Record<string, unknown>;
        const target = String(req.headers["x-amz-target"]);
        seen.push({ target, body, headers: req.headers });
        const reply = answer(target, body);
        if (reply === HOLD) return void held.push(res);
        res.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
        res.end(JSON.stringify(reply));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    seen = [];
    held = [];
    answer = () => ({});
  });
  after(() => server.close());

  // No endpoint on the clients: both must find the queue URL's origin themselves.
  const queueUrl = () => `${origin}/123456789012/chat-jobs`;
  // (The SDK warns that the queue URL's origin differs from the region's endpoint, which is the point here.)
  const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
  const sdk = () => new SQSClient({ region: "eu-west-1", credentials, logger: quiet });
  const lean = () => leanSqsClient({ region: "eu-west-1", credentials });
  const job = JSON.stringify({ kind: "generate", turnId: "t1", text: "héllo" });
  const commands = () => [
    new SendMessageCommand({ QueueUrl: queueUrl(), MessageBody: job }),
    new ReceiveMessageCommand({ QueueUrl: queueUrl(), MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageSystemAttributeNames: ["ApproximateReceiveCount"] }),
    new DeleteMessageBatchCommand({ QueueUrl: queueUrl(), Entries: [{ Id: "0", ReceiptHandle: "r0" }, { Id: "1", ReceiptHandle: "r1" }] }),
    new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl(), ReceiptHandle: "r0", VisibilityTimeout: 0 }),
  ];
  const replies: Record<string, unknown> = {
    "AmazonSQS.SendMessage": { MessageId: "m1", MD5OfMessageBody: md5(job) },
    "AmazonSQS.ReceiveMessage": { Messages: [{ MessageId: "m1", ReceiptHandle: "r0", Body: job, MD5OfBody: md5(job), Attributes: { ApproximateReceiveCount: "2" } }] },
    "AmazonSQS.DeleteMessageBatch": { Successful: [{ Id: "0" }], Failed: [{ Id: "1", Code: "ReceiptHandleIsInvalid", SenderFault: true, Message: "bad" }] },
    "AmazonSQS.ChangeMessageVisibility": {},
  };

  it("sends the same JSON to the queue URL's origin and gives back the same outputs as the SDK", async () => {
    answer = (target) => replies[target];
    for (const [i, command] of commands().entries()) {
      const { $metadata: a, ...fromSdk } = (await sdk().send(command as never)) as unknown as Record<string, unknown>;
      const { $metadata: b, ...fromLean } = (await lean().send(commands()[i] as never)) as unknown as Record<string, unknown>;
      expect(fromLean, command.constructor.name).to.deep.equal(fromSdk);
      expect(b).to.include({ httpStatusCode: (a as { httpStatusCode: number }).httpStatusCode });
    }
    expect(seen).to.have.length(8);
    for (let i = 0; i < seen.length; i += 2) {
      expect(seen[i + 1].target).to.equal(seen[i].target);
      expect(seen[i + 1].body, seen[i].target).to.deep.equal(seen[i].body);
      expect(String(seen[i + 1].headers.authorization)).to.match(/\/eu-west-1\/sqs\/aws4_request/);
      expect(seen[i + 1].headers["amz-sdk-invocation-id"], `${seen[i].target}: sent by the lean client`).to.equal(undefined);
      expect(seen[i].headers["amz-sdk-invocation-id"], `${seen[i].target}: sent by the SDK`).to.be.a("string");
    }
    expect(seen.filter((_, i) => i % 2 === 0).map((s) => s.target)).to.deep.equal(Object.keys(replies));
  });

  it("fails a send or a receive whose MD5 does not match the body, as the SDK's SQS middleware does", async () => {
    answer = () => ({ MessageId: "m1", MD5OfMessageBody: md5("something else") });
    const sent = await lean().send(commands()[0] as SendMessageCommand).then(() => null, (e: Error) => e);
    expect(sent?.message).to.equal("Invalid MD5 checksum on messages: m1");
    answer = () => ({ Messages: [{ MessageId: "m2", ReceiptHandle: "r", Body: job, MD5OfBody: md5("tampered") }] });
    const received = await lean().send(commands()[1] as ReceiveMessageCommand).then(() => null, (e: Error) => e);
    expect(received?.message).to.equal("Invalid MD5 checksum on messages: m2");
  });

  it("names a refusal as the SDK does, from the body's __type", async () => {
    const refusing = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(400, { "content-type": "application/x-amz-json-1.0" });
        res.end(JSON.stringify({ __type: "com.amazonaws.sqs#QueueDoesNotExist", message: "The specified queue does not exist." }));
      });
    });
    await new Promise<void>((resolve) => refusing.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}/1/none`;
      const error = await lean()
        .send(new SendMessageCommand({ QueueUrl: url, MessageBody: "{}" }))
        .then(() => null, (e: Error & { $metadata?: { httpStatusCode: number } }) => e);
      expect(error?.name).to.equal("QueueDoesNotExist");
      expect(error?.message).to.equal("The specified queue does not exist.");
      expect(error?.$metadata?.httpStatusCode).to.equal(400);
    } finally {
      refusing.close();
    }
  });

  it("keeps at most 50 sockets to the queue's endpoint and queues further calls, as the SDK's handler does", async () => {
    answer = () => HOLD;
    const client = lean();
    const receive = () => client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl(), WaitTimeSeconds: 0 }));
    const calls = Array.from({ length: 60 }, receive);
    const release = (res: http.ServerResponse) => res.writeHead(200, { "content-type": "application/x-amz-json-1.0" }).end("{}");
    await waitFor(() => held.length >= 50, 5_000, "50 calls held at the server");
    // 50 calls held on 50 sockets; the other 10 wait in the client for one of them.
    expect(held).to.have.length(50);
    expect(new Set(held.map((res) => res.socket?.remotePort)).size).to.equal(50);
    for (const res of held.splice(0)) release(res);
    await waitFor(() => held.length === 10, 5_000, "the 10 queued calls");
    for (const res of held.splice(0)) release(res);
    expect(await Promise.all(calls)).to.have.length(60);
    client.destroy();
  });
});
