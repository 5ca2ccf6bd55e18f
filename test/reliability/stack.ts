/**
 * The reliability suite's local stack: the real handlers and SDK clients on DynamoDB Local (Java 17, the closest
 * emulator to the service), with a proxy in front of DynamoDB that can make it unavailable, the Bedrock
 * emulator observed (bench/harness.ts), quick timings (answers in about a second), and a record of anything that
 * crashed: handler invocations that threw and unhandled promise rejections in this process.
 */
import { ChatClient } from "../../bench/client";
import { startBenchStack, type BenchStack } from "../../bench/harness";
import { HistoryReader } from "../../bench/store";
import { handler as workerHandler } from "../../runtime/handlers/worker";
import type { LambdaHandler } from "../../runtime/local/emulators/functions";
import { workerModeFromEnv, type LocalStackOptions, type LocalWorkerMode } from "../../runtime/local/stack";
import { KillableWorker } from "./killable-worker";

export interface ReliabilityStack extends BenchStack {
  reader: HistoryReader;
  /** Unhandled rejections seen while the stack ran. */
  unhandled: unknown[];
  /** Handler invocations (from index `from` of the stack's invocation record) that threw or timed out, as "function: message". */
  crashes(from?: number): string[];
  /** Where the invocation record ends now (pass to `crashes`). */
  mark(): number;
  connect(user: string): Promise<ChatClient>;
  /** Resolves when no route invocation and no function invocation is running. */
  quiet(): Promise<void>;
}

/** The daily token budget per user in the shared stack. */
export const DAILY_TOKEN_BUDGET = 10_000_000;

export interface ReliabilityOptions {
  worker?: (real: () => Promise<LambdaHandler>) => () => Promise<LambdaHandler>;
  gateway?: LocalStackOptions["gateway"];
  env?: Record<string, string>;
  /** Where turns are generated (default: LOCAL_WORKER, else lambda). */
  workerMode?: LocalWorkerMode;
}

export async function startReliabilityStack(options: ReliabilityOptions = {}): Promise<ReliabilityStack> {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  const realWorker = async (): Promise<LambdaHandler> => workerHandler as LambdaHandler;
  const bench = await startBenchStack({
    dynamo: "dynamodb-local",
    dynamoProxy: true,
    flushIntervalMs: 20,
    stopPollMs: 50,
    tokensPerSecond: 400,
    timeToFirstTokenMs: 30,
    extra: {
      worker: options.workerMode ?? workerModeFromEnv(),
      gateway: options.gateway,
      handlers: options.worker ? { worker: options.worker(realWorker) } : undefined,
      env: {
        MESSAGES_PER_MINUTE: "10000",
        // The fuzz sends 150 frames at once on one connection; budgets.test.ts floods well past this. The refill is
        // the runtime's default, said outright: the bench harness under this stack lifts it for its own pings.
        FRAME_BURST: "200",
        FRAMES_PER_SECOND: "5",
        // Far above what any other test spends; budgets.test.ts starts a user one token short of it.
        DAILY_TOKEN_BUDGET: String(DAILY_TOKEN_BUDGET),
        // Faults are the point here; their log lines would bury mocha's report.
        LOG_LEVEL: "SILENT",
        POWERTOOLS_LOG_LEVEL: "SILENT",
        // A model failure before the first token is retried; short backoffs keep the suite quick.
        ...options.env,
      },
    },
  });
  const reader = new HistoryReader(bench.stack);
  return {
    ...bench,
    reader,
    unhandled,
    crashes: (from = 0) =>
      bench.stack.functions.invocations
        .slice(from)
        .filter((i) => i.error !== undefined)
        .map((i) => `${i.functionName}: ${i.error}`),
    mark: () => bench.stack.functions.invocations.length,
    connect: async (user: string) => ChatClient.connect(bench.stack.wsUrl, await bench.stack.token(user)),
    quiet: async () => {
      // A route may start a function (send → worker) and a function may post through the gateway: until both are still.
      const deadline = Date.now() + 30_000;
      const running = () => bench.stack.functions.invocations.some((i) => i.endedAt === undefined);
      do {
        await bench.stack.gateway.idle();
        await bench.stack.functions.drain(5_000);
        // LOCAL_WORKER=ecs: the turns run in the worker service process, fed by the job queue.
        await bench.stack.workersIdle();
      } while (running() && Date.now() < deadline);
      await bench.stack.gateway.idle();
      if (running()) throw new Error("invocations still running after 30 s");
    },
    stop: async () => {
      reader.close();
      await bench.stop();
      process.off("unhandledRejection", onUnhandled);
    },
  };
}

/**
 * One stack for the reliability files a mocha process runs (DynamoDB Local's JVM takes seconds to start on a busy
 * machine): each file calls `sharedStack()` inside its `describe`; the first `before` starts it, and the `after` of
 * the last file that registered stops it, so it never outlives these tests (other folders start stacks of their own,
 * and a stack sets process-wide environment). A serial run loads every file before running any, so the count is
 * complete and the folder shares one stack; in parallel mode (.mocharc.yml) a worker loads one file at a time, and
 * each file gets a stack of its own.
 */
export interface SharedStack {
  get(): ReliabilityStack;
  killable: KillableWorker;
}

/** Per worker mode: files registered, files done, and the stack they share. */
const sharedByMode = new Map<LocalWorkerMode, { users: number; released: number; stack?: Promise<ReliabilityStack> }>();
const killable = new KillableWorker();

export function sharedStack(workerMode: LocalWorkerMode = workerModeFromEnv()): SharedStack {
  const entry = sharedByMode.get(workerMode) ?? { users: 0, released: 0 };
  sharedByMode.set(workerMode, entry);
  entry.users++;
  let current: ReliabilityStack | undefined;
  before(async function () {
    this.timeout(120_000);
    entry.stack ??= startReliabilityStack({ workerMode, worker: (real) => killable.wrap(real) });
    current = await entry.stack;
  });
  after(async function () {
    this.timeout(30_000);
    entry.released++;
    if (entry.released >= entry.users && entry.stack) {
      const stack = await entry.stack;
      entry.stack = undefined;
      if ([...sharedByMode.values()].every((e) => e.stack === undefined)) killable.dispose();
      await stack.stop();
    }
  });
  return {
    get: () => {
      if (!current) throw new Error("the reliability stack is not started");
      return current;
    },
    killable,
  };
}
