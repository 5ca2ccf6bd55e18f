/**
 * LOCAL_WORKER=ecs on the local stack: the worker service as its own long-running process polling the SQS emulator
 * (fauxqs), with the real handlers on dynalite. A turn is generated there and not by the worker function; a burst
 * above WORKER_TURNS_PER_TASK waits in the queue and is served in order; SIGTERM ends a turn in flight cleanly with
 * turn.done and the process exits 0. (SIGKILL mid-turn: test/reliability/faults.test.ts in ecs mode.)
 */
import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { startLocalStack, workerModeFromEnv, type LocalStack } from "../../runtime/local/stack";
import { chatProtocols, openSocket, type TestSocket } from "./helpers";

interface Frame {
  type: string;
  turnId?: string;
  sessionId?: string;
  text?: string;
  stopReason?: string;
}

const TURNS_PER_TASK = 2;

async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("local/stack: LOCAL_WORKER=ecs, the worker service in its own process", function () {
  this.timeout(90_000);
  let stack: LocalStack;
  let socket: TestSocket;

  async function send(text: string): Promise<Frame> {
    socket.send({ action: "send", clientMessageId: randomUUID(), text });
    const started = await socket.next<Frame>((f) => (f.type === "turn.started" || f.type === "error") && !seen.has(f.turnId!), 15_000);
    expect(started.type, JSON.stringify(started)).to.equal("turn.started");
    seen.add(started.turnId!);
    return started;
  }
  const seen = new Set<string>();
  const ending = (turnId: string) => socket.next<Frame>((f) => (f.type === "turn.done" || f.type === "error") && f.turnId === turnId, 30_000);

  before(async () => {
    stack = await startLocalStack({
      worker: "ecs",
      ports: { web: 0 },
      dataDir: null,
      staticDir: "/nonexistent",
      bedrock: { timing: { timeToFirstTokenMs: 20, tokensPerSecond: 400 } },
      env: {
        FLUSH_INTERVAL_MS: "20",
        STOP_POLL_MS: "50",
        MESSAGES_PER_MINUTE: "1000",
        MAX_CONCURRENT_PER_CONNECTION: "10",
        MAX_CONCURRENT_PER_USER: "10",
        WORKER_TURNS_PER_TASK: String(TURNS_PER_TASK),
        WORKER_DRAIN_MS: "300",
        LOG_LEVEL: "SILENT",
        POWERTOOLS_LOG_LEVEL: "SILENT",
      },
    });
    socket = await openSocket(stack.wsUrl, chatProtocols(await stack.token("ecs-tester")));
  });
  after(async () => {
    socket?.ws.close();
    await stack?.stop();
  });

  it("LOCAL_WORKER accepts lambda and ecs (default lambda) and refuses anything else", () => {
    expect(workerModeFromEnv(undefined)).to.equal("lambda");
    expect(workerModeFromEnv(" ECS ")).to.equal("ecs");
    expect(() => workerModeFromEnv("fargate")).to.throw(/LOCAL_WORKER="fargate" is not valid: expected lambda or ecs/);
  });

  it("generates the turn in the worker service (not the worker function) and leaves nothing in the queue", async () => {
    const started = await send("Hello from the worker service");
    const done = await ending(started.turnId!);
    expect(done).to.include({ type: "turn.done", stopReason: "end_turn" });
    await stack.workersIdle();
    expect(stack.functions.invocations.filter((i) => i.functionName === "worker")).to.deep.equal([]);
    expect(stack.env).to.include({ WORKER_MODE: "ecs", WORKER_QUEUE_URL: stack.sqs!.queues.get(stack.region)!.queueUrl });
    expect(stack.sqs!.emulator.depth(stack.sqs!.queues.get(stack.region)!.queueName)).to.equal(0);
  });

  it("a burst above WORKER_TURNS_PER_TASK waits in the queue and is served in order", async () => {
    stack.bedrock.script(...Array.from({ length: 5 }, () => ({ fault: "slow" as const, tokensPerSecond: 40 })));
    const from = stack.bedrock.requests.length;
    const turns: Frame[] = [];
    for (let i = 0; i < 5; i++) turns.push(await send(`Burst ${i} [[tokens:60]]`));
    const queueName = stack.sqs!.queues.get(stack.region)!.queueName;
    await until(async () => (await stack.workerService!.inFlight()) === TURNS_PER_TASK && stack.sqs!.emulator.depth(queueName) === 3, "two turns running, three waiting");
    const open = () => stack.bedrock.requests.slice(from).filter((r) => r.closedAt === undefined).length;
    expect(open()).to.be.at.most(TURNS_PER_TASK);
    for (const t of turns) expect(await ending(t.turnId!)).to.include({ type: "turn.done", stopReason: "end_turn" });
    const order = stack.bedrock.requests.slice(from).map((r) => /Burst (\d)/.exec(r.prompt)?.[1]);
    expect(order, "model requests in the order sent").to.deep.equal(["0", "1", "2", "3", "4"]);
    await stack.workersIdle();
  });

  it("SIGTERM mid-turn: the turn ends cleanly with turn.done (stopped, partial text saved) and the process exits 0", async () => {
    stack.bedrock.script({ fault: "slow", tokensPerSecond: 20 });
    const started = await send("A long answer [[tokens:2000]]");
    await socket.next<Frame>((f) => f.type === "delta" && f.turnId === started.turnId, 15_000);
    const code = await stack.workerService!.stop();
    expect(code).to.equal(0);
    const done = await ending(started.turnId!);
    expect(done).to.include({ type: "turn.done", stopReason: "stopped" });
    const streamed = (socket.frames as Frame[]).filter((f) => f.type === "delta" && f.turnId === started.turnId).map((f) => f.text).join("");
    expect(streamed.length).to.be.greaterThan(0);
    socket.send({ action: "history", sessionId: started.sessionId });
    const history = await socket.next<{ type: string; turns?: Array<{ turnId: string; status: string; text: string }> }>((f) => f.type === "history", 15_000);
    expect(history.turns!.find((t) => t.turnId === started.turnId)).to.include({ status: "stopped", text: streamed });
  });
});
