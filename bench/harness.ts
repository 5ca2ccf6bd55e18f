/**
 * The benchmarks' local stack: `startLocalStack` in this process, with an observer on the Bedrock emulator that
 * timestamps (performance.now()) each request's arrival, every chunk the emulator writes, and the moment its
 * stream closed. The emulator records text and closedAt on its request records; the observer turns those fields
 * into accessors, so it sees each write as it happens without changing the emulator.
 */
import { performance } from "node:perf_hooks";
import type { BedrockEmulator, BedrockRequestRecord } from "../runtime/local/emulators/bedrock";
import { freePort, type DynamoKind } from "../runtime/local/emulators/dynamodb";
import { DynamoProxy } from "./dynamo-proxy";
import { startLocalStack, type LocalStack, type LocalStackOptions } from "../runtime/local/stack";

export interface Chunk {
  at: number;
  text: string;
}

export interface ObservedRequest {
  record: BedrockRequestRecord;
  /** performance.now() when the emulator recorded the request (body read and parsed). */
  arrivedAt: number;
  chunks: Chunk[];
  /** performance.now() when the emulator saw its stream end (completed, aborted by the client, or failed). */
  closedAt?: number;
}

export class EmulatorObserver {
  readonly requests: ObservedRequest[] = [];
  /** The first request carrying each marker (a whitespace-delimited `zq…` word of the prompt, as `prompt()` puts it). */
  private readonly byMarker = new Map<string, ObservedRequest>();
  private readonly waiters = new Set<() => void>();

  constructor(bedrock: BedrockEmulator) {
    const list = bedrock.requests;
    const push = list.push.bind(list);
    list.push = (...records: BedrockRequestRecord[]) => {
      for (const record of records) this.watch(record);
      return push(...records);
    };
  }

  /** The request whose prompt contains `marker` (each benchmark turn carries a unique one). */
  find(marker: string): ObservedRequest | undefined {
    // Indexed as requests arrive: a scan per answer over every request of a run costs the load generator's one thread
    // more the longer the run. A marker placed otherwise is still found by the scan.
    return this.byMarker.get(marker) ?? this.requests.find((r) => r.record.prompt.includes(marker));
  }

  /** Resolves when `probe` returns a value; re-checked on every observed event and every 20 ms. */
  async until<T>(probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value !== undefined) return value;
      if (performance.now() > deadline) throw new Error("emulator observation timed out");
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, 20);
        this.waiters.add(done);
      });
    }
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private watch(record: BedrockRequestRecord): void {
    const observed: ObservedRequest = { record, arrivedAt: performance.now(), chunks: [] };
    this.requests.push(observed);
    for (const word of record.prompt.match(MARKER_WORD) ?? []) if (!this.byMarker.has(word)) this.byMarker.set(word, observed);
    let text = record.text;
    let closedAt = record.closedAt;
    Object.defineProperty(record, "text", {
      enumerable: true,
      get: () => text,
      set: (value: string) => {
        // The emulator only appends to the text: its last character before the write is still there (an O(1) check,
        // where comparing the whole prefix made every answer quadratic in its length).
        if (value.length > text.length && (text.length === 0 || value.charCodeAt(text.length - 1) === text.charCodeAt(text.length - 1))) {
          observed.chunks.push({ at: performance.now(), text: value.slice(text.length) });
        }
        text = value;
      },
    });
    Object.defineProperty(record, "closedAt", {
      enumerable: true,
      get: () => closedAt,
      set: (value: number | undefined) => {
        if (closedAt === undefined && value !== undefined) {
          observed.closedAt = performance.now();
          this.wake();
        }
        closedAt = value;
      },
    });
    this.wake();
  }
}

const MARKER_WORD = /(?<=^|\s)zq\S+/g;

export interface BenchStackOptions {
  flushIntervalMs?: number;
  stopPollMs?: number;
  tokensPerSecond?: number;
  timeToFirstTokenMs?: number;
  dynamo?: DynamoKind;
  /** dynalite in a process of its own, off the load generator's event loop (see LocalStackOptions.dynamoProcess). */
  dynamoProcess?: boolean;
  /** Put a recording proxy between the handlers and DynamoDB (see dynamo-proxy.ts). */
  dynamoProxy?: boolean;
  /** Passed through to startLocalStack. */
  extra?: LocalStackOptions;
}

export interface BenchStack {
  stack: LocalStack;
  observer: EmulatorObserver;
  dynamo?: DynamoProxy;
  stop(): Promise<void>;
}

/** Settings every benchmark shares unless it says otherwise: Lambda defaults, quotas out of the way. */
export async function startBenchStack(options: BenchStackOptions = {}): Promise<BenchStack> {
  const dynamoPort = options.dynamoProxy ? await freePort() : undefined;
  const proxy = dynamoPort ? await new DynamoProxy(`http://127.0.0.1:${dynamoPort}`).start() : undefined;
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      ...options.extra,
      ports: { web: 0, ...(dynamoPort ? { dynamo: dynamoPort } : {}) },
      dataDir: null,
      dynamo: options.dynamo ?? benchDynamo(),
      dynamoProcess: options.dynamoProcess,
      bedrock: {
        passthrough: null,
        ...options.extra?.bedrock,
        timing: { timeToFirstTokenMs: options.timeToFirstTokenMs ?? 300, tokensPerSecond: options.tokensPerSecond ?? 80 },
      },
      env: {
        FLUSH_INTERVAL_MS: String(options.flushIntervalMs ?? 50),
        STOP_POLL_MS: String(options.stopPollMs ?? 100),
        // Benchmarks send far more than a person would: quotas are not what is measured.
        MESSAGES_PER_MINUTE: "100000",
        // Nor the per-connection frame budget (the latency benchmark's pings come back to back).
        FRAME_BURST: "10000",
        FRAMES_PER_SECOND: "10000",
        MAX_CONCURRENT_PER_CONNECTION: "4",
        MAX_OUTPUT_TOKENS: "4096",
        CONTEXT_BUDGET_TOKENS: "200000",
        LOG_LEVEL: "ERROR",
        POWERTOOLS_LOG_LEVEL: "ERROR",
        ...(proxy ? { AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint } : {}),
        ...options.extra?.env,
      },
    });
  } catch (error) {
    await proxy?.stop();
    throw error;
  }
  const observer = new EmulatorObserver(stack.bedrock);
  return {
    stack,
    observer,
    dynamo: proxy,
    stop: async () => {
      await stack.stop();
      await proxy?.stop();
    },
  };
}

/** The store the benchmarks run on: `--dynamo` (run.ts sets BENCH_DYNAMO), dynalite by default. */
export function benchDynamo(): DynamoKind {
  return process.env.BENCH_DYNAMO === "dynamodb-local" ? "dynamodb-local" : "dynalite";
}

/** A marker no answer template contains, to match a client turn with the emulator's request. */
export function marker(prefix: string, i: number): string {
  return `zq${prefix}${i}x${Math.random().toString(36).slice(2, 8)}`;
}

/** A prompt that asks the emulator for about `tokens` tokens and carries `mark`. */
export function prompt(mark: string, tokens: number): string {
  return `Explain streaming ${mark} in detail [[tokens:${tokens}]]`;
}
