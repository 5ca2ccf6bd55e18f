/**
 * The worker service's AWS adapters against the local emulators: the job queue (SqsGenerationQueue, SqsJobSource)
 * on fauxqs with a redrive to a dead-letter queue, the batched control read (DynamoControlSignals) on dynalite, and
 * the in-flight metric's EMF line with exactly the dimensions the program's scaling policy names.
 */
import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { parseJobText } from "../../runtime/chat/job";
import type { GenerationJob } from "../../runtime/chat/ports";
import { leanSqsClient } from "../../runtime/aws/sqs-lean-client";
import { SqsGenerationQueue } from "../../runtime/aws/sqs-queue";
import { WORKER_IN_FLIGHT_METRIC } from "../../runtime/env";
import { startDynamo, type LocalDynamo } from "../../runtime/local/emulators/dynamodb";
import { SqsEmulator } from "../../runtime/local/emulators/sqs";
import { DynamoControlSignals, TURNS_PER_BATCH } from "../../runtime/store/dynamo-control-signals";
import { DynamoHistoryStore } from "../../runtime/store/dynamo-history";
import { publishInFlightEmf, publishInFlightEvery } from "../../runtime/worker-service/in-flight-metric";
import { SqsJobSource } from "../../runtime/worker-service/sqs-jobs";
import { ManualClock } from "./fakes";

const credentials = { accessKeyId: "local", secretAccessKey: "local" };
const job = (turnId: string): GenerationJob => ({ kind: "generate", sessionId: "s1", turnId, userTurnId: "u1", connectionId: "c1", userId: "alice", receivedAt: 1 });

describe("runtime/worker-service adapters", () => {
  describe("the job queue on the SQS emulator (fauxqs)", () => {
    let sqs: SqsEmulator;
    let client: SQSClient;
    before(async () => {
      sqs = await new SqsEmulator().start();
      // The client the runtime uses (runtime/aws/sqs-client.ts).
      client = leanSqsClient({ region: "eu-west-1", endpoint: sqs.endpoint, credentials });
    });
    after(async () => {
      client.destroy();
      await sqs.stop();
    });

    it("sends a job, receives it with its receive count, hands it back at once, and deletes it", async () => {
      const queues = sqs.queues("eu-west-1", 5);
      await new SqsGenerationQueue(() => client, queues.queueUrl).enqueue(job("t1"));
      const source = new SqsJobSource(() => client, queues.queueUrl);
      const [first] = await source.receive(10, new AbortController().signal);
      expect(parseJobText(first!.body)).to.deep.equal(job("t1"));
      expect(first!.receiveCount).to.equal(1);
      await source.setVisibility(first!, 0);
      const [again] = await source.receive(10, new AbortController().signal);
      expect(again).to.include({ messageId: first!.messageId, receiveCount: 2 });
      await source.delete(again!);
      expect(sqs.inspect(queues.queueName)!.messages.ready).to.deep.equal([]);
    });

    it("deletes the jobs claimed within a short window in one DeleteMessageBatch (at most ten entries a call)", async () => {
      const queues = sqs.queues("eu-central-1", 5);
      const central = leanSqsClient({ region: "eu-central-1", endpoint: sqs.endpoint, credentials });
      const calls: string[] = [];
      const send = central.send.bind(central) as (command: object) => Promise<unknown>;
      central.send = ((command: object) => (calls.push(command.constructor.name), send(command))) as typeof central.send;
      const queue = new SqsGenerationQueue(() => central, queues.queueUrl);
      for (let i = 0; i < 12; i++) await queue.enqueue(job(`t${i}`));
      const source = new SqsJobSource(() => central, queues.queueUrl);
      const received = [...(await source.receive(10, new AbortController().signal)), ...(await source.receive(10, new AbortController().signal))];
      expect(received).to.have.length(12);
      calls.length = 0;
      await Promise.all(received.map((m) => source.delete(m)));
      expect(calls).to.deep.equal(["DeleteMessageBatchCommand", "DeleteMessageBatchCommand"]);
      const { ready, inflight } = sqs.inspect(queues.queueName)!.messages;
      expect([...ready, ...inflight]).to.deep.equal([]);
      central.destroy();
    });

    it("a batch entry SQS refuses fails only its own delete; a failed call fails all of its deletes", async () => {
      let answer: () => Promise<unknown> = async () => ({ Successful: [{ Id: "0" }], Failed: [{ Id: "1", Code: "ReceiptHandleIsInvalid", SenderFault: true, Message: "bad receipt" }] });
      const fake = { send: () => answer() } as unknown as SQSClient;
      const source = new SqsJobSource(() => fake, "https://sqs.local/q");
      const message = (receipt: string) => ({ messageId: receipt, receipt, body: "{}", receiveCount: 1 });
      const [ok, refused] = await Promise.allSettled([source.delete(message("a")), source.delete(message("b"))]);
      expect(ok).to.deep.equal({ status: "fulfilled", value: undefined });
      expect((refused as PromiseRejectedResult).reason).to.include({ name: "ReceiptHandleIsInvalid" });
      answer = async () => {
        throw Object.assign(new Error("down"), { name: "ServiceUnavailable" });
      };
      const outcomes = await Promise.allSettled([source.delete(message("c")), source.delete(message("d"))]);
      expect(outcomes.map((o) => (o as PromiseRejectedResult).reason?.name)).to.deep.equal(["ServiceUnavailable", "ServiceUnavailable"]);
    });

    it("a job received maxReceives times goes to the dead-letter queue, and an aborted poll answers none", async () => {
      const queues = sqs.queues("us-west-2", 2);
      const west = leanSqsClient({ region: "us-west-2", endpoint: sqs.endpoint, credentials });
      const source = new SqsJobSource(() => west, queues.queueUrl);
      await new SqsGenerationQueue(() => west, queues.queueUrl).enqueue(job("t2"));
      for (let i = 1; i <= 2; i++) {
        const [m] = await source.receive(1, new AbortController().signal);
        expect(m!.receiveCount).to.equal(i);
        await source.setVisibility(m!, 0);
      }
      const aborted = new AbortController();
      const poll = source.receive(1, aborted.signal);
      aborted.abort();
      expect(await poll).to.deep.equal([]);
      // The next receive redrives it (SQS moves a message past maxReceiveCount when it would hand it out again).
      const next = await west.send(new ReceiveMessageCommand({ QueueUrl: queues.queueUrl, WaitTimeSeconds: 0 }));
      expect(next.Messages ?? []).to.deep.equal([]);
      const dlq = await west.send(new ReceiveMessageCommand({ QueueUrl: queues.dlqUrl, WaitTimeSeconds: 0 }));
      expect((dlq.Messages ?? []).map((m) => parseJobText(m.Body)?.turnId)).to.deep.equal(["t2"]);
      west.destroy();
    });
  });

  describe("the batched control read on dynalite", () => {
    let db: LocalDynamo;
    let doc: DynamoDBDocumentClient;
    before(async () => {
      db = await startDynamo({ kind: "dynalite", region: "us-east-1", tablePrefix: `t${randomUUID().slice(0, 8)}` });
      doc = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: db.endpoint, region: "us-east-1", credentials }));
    });
    after(async () => {
      doc.destroy();
      await db.stop();
    });

    it("answers stops, erase requests and doorbells for every turn with one BatchGetItem per 50 turns", async () => {
      let sends = 0;
      const counting = { send: (...args: Parameters<DynamoDBDocumentClient["send"]>) => (sends++, doc.send(...args)) } as unknown as DynamoDBDocumentClient;
      const history = new DynamoHistoryStore(() => doc, db.tables.history, 1);
      const turns = Array.from({ length: TURNS_PER_BATCH }, (_, i) => ({ sessionId: `s${i % 7}`, turnId: `turn-${String(i).padStart(3, "0")}` }));
      await history.requestStop("s5", "turn-005", "2026-01-01T00:00:00.000Z");
      await history.requestErase("s2", "turn-002", "2026-01-01T00:00:00.000Z");
      await history.watchTurn("s0", "turn-007", { connectionId: "conn-9", callbackEndpoint: "https://x.example/prod", region: "us-east-1", afterSeq: 3, offset: 10, at: "2026-01-01T00:00:01.000Z" });
      const signals = new DynamoControlSignals(() => counting, db.tables.history, history);
      const answer = await signals.controlSignals(turns);
      expect(sends, "one read for 50 turns").to.equal(1);
      expect(answer.get("turn-005")).to.deep.equal({ stopRequested: true });
      expect(answer.get("turn-002")).to.deep.equal({ stopRequested: true, erase: true });
      expect(answer.get("turn-007")).to.deep.equal({ stopRequested: false, bell: "2026-01-01T00:00:01.000Z#conn-9" });
      expect([...answer.keys()].sort()).to.deep.equal(["turn-002", "turn-005", "turn-007"]);
      expect((await signals.turnControl("s0", "turn-007")).watchers.map((w) => w.connectionId)).to.deep.equal(["conn-9"]);

      sends = 0;
      await signals.controlSignals([...turns, { sessionId: "s1", turnId: "turn-999" }]);
      expect(sends, "51 turns: two requests (100 keys each at most)").to.equal(2);
    });
  });

  describe("the in-flight metric", () => {
    it("publishes one EMF line with exactly the metric's name and dimensions", () => {
      const lines: string[] = [];
      const write = process.stdout.write.bind(process.stdout);
      const saved = process.env.POWERTOOLS_METRICS_DISABLED;
      delete process.env.POWERTOOLS_METRICS_DISABLED;
      process.stdout.write = ((chunk: string | Uint8Array) => (lines.push(String(chunk)), true)) as typeof process.stdout.write;
      try {
        publishInFlightEmf(7);
      } finally {
        process.stdout.write = write;
        if (saved !== undefined) process.env.POWERTOOLS_METRICS_DISABLED = saved;
      }
      const emf = lines.map((l) => JSON.parse(l) as Record<string, unknown> & { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] } }).find((l) => l._aws);
      expect(emf, "an EMF line").to.not.equal(undefined);
      const [directive] = emf!._aws.CloudWatchMetrics;
      expect(directive!.Dimensions).to.deep.equal([Object.keys(WORKER_IN_FLIGHT_METRIC.dimensions)]);
      expect(directive!.Metrics).to.deep.equal([{ Name: WORKER_IN_FLIGHT_METRIC.name, Unit: "Count" }]);
      expect(directive!.Namespace).to.equal("StreamingChat");
      expect(emf![WORKER_IN_FLIGHT_METRIC.name]).to.equal(7);
      expect(emf!.service).to.equal(WORKER_IN_FLIGHT_METRIC.dimensions.service);
    });

    it("publishes the in-flight count at once and every interval until cancelled", async () => {
      const clock = new ManualClock();
      const published: number[] = [];
      let inFlight = 3;
      const handle = publishInFlightEvery(() => inFlight, clock, (n) => published.push(n), 10_000);
      await clock.advance(10_000);
      inFlight = 5;
      await clock.advance(10_000);
      handle.cancel();
      await clock.advance(30_000);
      expect(published).to.deep.equal([3, 3, 5]);
    });
  });
});
