/**
 * Latency on one chat:
 * - pre-model: the send frame leaves the client → the model request arrives at the Bedrock emulator, in a new
 *   session (0 turns of history) and in a session holding 100 turns; a ping → pong round trip is the floor
 *   (one gateway → Lambda → @connections trip, no DynamoDB).
 * - relay: a model chunk is written by the emulator → the client holds its text; for the first chunk of each turn
 *   and for every chunk (which includes the coalescing wait), coalesced (50 ms) against one post per chunk.
 */
import { runAnswer, type AnswerSample } from "./answers";
import type { LocalWorkerMode } from "../runtime/local/stack";
import { ChatClient } from "./client";
import { startBenchStack, type BenchStack } from "./harness";
import { verdict, type BenchOptions, type Section } from "./report";
import { performance } from "node:perf_hooks";
import { fmt, median, summarize } from "./stats";

/** Where a pre-model interval went: Lambda invocations (Date.now-stamped by the local stack) and DynamoDB calls. */
interface Breakdown {
  text: string;
  /** Medians over the sends: DynamoDB calls in the window, their summed duration, and the wall time they cover. */
  dynamoCalls: number;
  /** Median of each send's calls in sequence (callsInSequence). */
  sequence: number;
  dynamoMs: number;
  coveredMs: number;
  /** Median of each send's summed call time divided by the wall time its calls cover (1: one after another). */
  overlap: number;
  /** Median duration of one call, over every call of every send. */
  perCallMs: number;
}

/** The wall time covered by at least one of the intervals. */
export function coveredTime(intervals: Array<{ startedAt: number; endedAt: number }>): number {
  let covered = 0;
  let reach = Number.NEGATIVE_INFINITY;
  for (const { startedAt, endedAt } of [...intervals].sort((a, b) => a.startedAt - b.startedAt)) {
    const from = Math.max(startedAt, reach);
    if (endedAt > from) covered += endedAt - from;
    reach = Math.max(reach, endedAt);
  }
  return covered;
}

/**
 * How many of the calls stand one after another: the longest chain of calls in which each starts after the one before
 * it ended (calls that overlap are one step of such a chain). This is the number of round trips the interval waits
 * for, whatever each one costs on this machine.
 */
export function callsInSequence(intervals: Array<{ startedAt: number; endedAt: number }>): number {
  const sorted = [...intervals].sort((a, b) => a.endedAt - b.endedAt);
  const chain: number[] = [];
  sorted.forEach((call, i) => {
    let longest = 0;
    for (let j = 0; j < i; j++) if (sorted[j]!.endedAt <= call.startedAt) longest = Math.max(longest, chain[j]!);
    chain.push(longest + 1);
  });
  return Math.max(0, ...chain);
}

/** DynamoDB on AWS, in-region: single-digit milliseconds per call; this figure is the assumption the note states. */
export const AWS_DYNAMO_CALL_MS = 3;

/**
 * The finding about store time before the model request, worded from the figures: whether the calls ran one after
 * another or overlapped is read from their summed time against the wall time they covered, never assumed.
 */
export function storeTimeNote(f: { turns: number; preModelP50: number; freshP50: number; pingP50: number; targetMs: number; where: Breakdown }): string {
  const { where } = f;
  const sequential = where.overlap <= 1.15;
  const order = sequential
    ? `their summed time equals the wall time they cover (${fmt(where.coveredMs)}), so they ran one after another`
    : `they cover ${fmt(where.coveredMs)} of wall time, so they overlapped (about ${where.overlap.toFixed(1)} at once on average)`;
  const depth = where.perCallMs > 0 ? where.coveredMs / where.perCallMs : 0;
  const onAws = depth * AWS_DYNAMO_CALL_MS;
  return (
    `Pre-model p50 with ${f.turns} turns is ${fmt(f.preModelP50)} (new session ${fmt(f.freshP50)}; a ping round trip, which crosses the ` +
    `same gateway and a Lambda but no store, ${fmt(f.pingP50)}). A recording proxy in front of DynamoDB counted, per send (medians), ` +
    `${where.dynamoCalls} DynamoDB calls between the send and the model request, ${fmt(where.dynamoMs)} of call time in all; ${order}. ` +
    `The calls cover ${Math.round((where.coveredMs / f.preModelP50) * 100)}% of the pre-model interval. A call's median is ` +
    `${fmt(where.perCallMs)} over loopback here, so the calls stand about ${depth.toFixed(1)} deep; at ${AWS_DYNAMO_CALL_MS} ms a call ` +
    `(in-region DynamoDB answers in single-digit milliseconds) that depth alone is about ${fmt(onAws)} on AWS, ` +
    `${onAws > f.targetMs ? "more" : "less"} than the ${fmt(f.targetMs)} target. ` +
    (onAws > f.targetMs
      ? `Meeting it needs fewer calls in sequence before the model request.`
      : `The rest of the interval is Lambda and gateway time on this machine.`)
  );
}

function breakdown(bench: BenchStack, samples: AnswerSample[]): Breakdown {
  const toPerf = (epochMs: number) => epochMs - performance.timeOrigin;
  const parts = samples.map((s) => {
    const inWindow = (at: number) => at >= s.turn.sentAt - 1 && at <= s.request.arrivedAt;
    const invocations = bench.stack.functions.invocations.filter((i) => inWindow(toPerf(i.startedAt)));
    const message = invocations.find((i) => i.functionName === "message");
    const worker = invocations.find((i) => i.functionName === "worker");
    // The proxy stamps on this process's clock: a call that started before the send (the previous turn's) is not this send's.
    const calls = (bench.dynamo?.calls ?? []).filter((c) => c.startedAt >= s.turn.sentAt && c.endedAt <= s.request.arrivedAt + 1);
    return {
      // Date.now() stamps (1 ms steps) against performance.now(): a sub-millisecond hop can read slightly negative.
      toMessage: message ? Math.max(0, toPerf(message.startedAt) - s.turn.sentAt) : NaN,
      messageRun: message?.endedAt ? message.endedAt - message.startedAt : NaN,
      toWorker: worker && message ? worker.startedAt - message.startedAt : NaN,
      workerToModel: worker ? s.request.arrivedAt - toPerf(worker.startedAt) : NaN,
      // The worker service (ecs) is no Lambda: from the message handler's end (its enqueue) to the model request.
      messageEndToModel: message?.endedAt ? s.request.arrivedAt - toPerf(message.endedAt) : NaN,
      dynamoCalls: calls.length,
      sequence: callsInSequence(calls),
      dynamoMs: calls.reduce((sum, c) => sum + (c.endedAt - c.startedAt), 0),
      coveredMs: coveredTime(calls),
      durations: calls.map((c) => c.endedAt - c.startedAt),
      ops: [...calls]
        .sort((a, b) => a.startedAt - b.startedAt)
        .map((c) => `${c.operation} ${c.target} ${(c.startedAt - s.turn.sentAt).toFixed(1)}–${(c.endedAt - s.turn.sentAt).toFixed(1)}`)
        .join("; "),
      preModelMs: s.preModelMs,
    };
  });
  // The calls of the send whose pre-model time is the median, in the order they started (ms after the send).
  const typical = [...parts].sort((a, b) => a.preModelMs - b.preModelMs)[Math.floor(parts.length / 2)];
  const med = (pick: (p: (typeof parts)[number]) => number) => median(parts.map(pick).filter(Number.isFinite));
  const m = (pick: (p: (typeof parts)[number]) => number) => fmt(med(pick));
  const worker = Number.isFinite(med((p) => p.toWorker))
    ? `message start → worker start ${m((p) => p.toWorker)}, worker start → model request ${m((p) => p.workerToModel)}`
    : `message Lambda end (the job enqueued) → model request ${m((p) => p.messageEndToModel)}`;
  return {
    text:
      `send → message Lambda start ${m((p) => p.toMessage)}, message Lambda run ${m((p) => p.messageRun)}, ${worker}; ${med((p) => p.dynamoCalls)} DynamoDB ` +
      `calls in the window, ${med((p) => p.sequence)} of them in sequence, taking ${m((p) => p.dynamoMs)} in total and covering ${m((p) => p.coveredMs)} of wall time ` +
      `(medians per send; Lambda start/end are recorded at 1 ms resolution); the calls of the median send (${fmt(typical?.preModelMs ?? NaN)}), ` +
      `in the order they started, ms after the send: ${typical?.ops ?? ""}`,
    dynamoCalls: med((p) => p.dynamoCalls),
    sequence: med((p) => p.sequence),
    dynamoMs: med((p) => p.dynamoMs),
    coveredMs: med((p) => p.coveredMs),
    overlap: med((p) => (p.coveredMs > 0 ? p.dynamoMs / p.coveredMs : NaN)),
    perCallMs: median(parts.flatMap((p) => p.durations)),
  };
}

const FLUSH_MS = 50;
const HISTORY_TURNS = 100;
const PRE_MODEL_TARGET_MS = 15;

async function seedHistory(bench: BenchStack, client: ChatClient, turns: number): Promise<string> {
  const saved = { ...bench.stack.bedrock.timing };
  bench.stack.bedrock.timing = { timeToFirstTokenMs: 0, tokensPerSecond: 5000 };
  try {
    let sessionId: string | undefined;
    for (let i = 0; i < turns / 2; i++) {
      const t = await client.turn(`Question ${i} about caching and queues [[tokens:60]]`, sessionId);
      sessionId ??= t.started?.sessionId;
      if (!t.done) throw new Error(`seeding turn ${i} failed: ${JSON.stringify(t.error)}`);
    }
    return sessionId!;
  } finally {
    bench.stack.bedrock.timing = saved;
  }
}

async function preModel(bench: BenchStack, client: ChatClient, count: number, sessionId: string | undefined): Promise<AnswerSample[]> {
  const samples: AnswerSample[] = [];
  for (let i = 0; i < count; i++) {
    // The previous worker's last writes (slot release) must not fall into this send's window.
    await bench.stack.functions.drain(5_000);
    await bench.stack.workersIdle(5_000);
    samples.push(await runAnswer(bench, client, 10, "pm", sessionId));
  }
  return samples;
}

async function relay(flushIntervalMs: number, count: number): Promise<AnswerSample[]> {
  const bench = await startBenchStack({ flushIntervalMs, tokensPerSecond: 80, timeToFirstTokenMs: 300 });
  try {
    const client = await ChatClient.connect(bench.stack.wsUrl, await bench.stack.token("relay"));
    await runAnswer(bench, client, 30, "warm");
    const samples: AnswerSample[] = [];
    for (let i = 0; i < count; i++) samples.push(await runAnswer(bench, client, 200, `r${flushIntervalMs}`));
    await client.close();
    return samples;
  } finally {
    await bench.stop();
  }
}

/** One round of the pre-model measurement on a fresh stack: the ping floor, new sessions, then a 100-turn session. */
interface PreModelRound {
  ping: number[];
  fresh: AnswerSample[];
  deep: AnswerSample[];
  freshWhere: Breakdown;
  deepWhere: Breakdown;
  historyMessages: number;
}

/**
 * One round on a fresh stack in a worker mode. `record`: DynamoDB behind the recording proxy, for the breakdown of
 * calls; its own hop (an HTTP request in and one out per call, on this process's thread) adds to every call, so the
 * timed rounds run without it.
 */
async function preModelRound(n: number, worker: LocalWorkerMode, record: boolean): Promise<PreModelRound> {
  const bench = await startBenchStack({
    flushIntervalMs: FLUSH_MS,
    timeToFirstTokenMs: 20,
    tokensPerSecond: 2000,
    dynamoProxy: record,
    extra: { worker, env: { CONTEXT_BUDGET_TOKENS: "8000" } },
  });
  try {
    const client = await ChatClient.connect(bench.stack.wsUrl, await bench.stack.token("latency"));
    await runAnswer(bench, client, 10, "warm");
    await runAnswer(bench, client, 10, "warm");
    const ping: number[] = [];
    for (let i = 0; i < n; i++) ping.push(await client.ping());
    const fresh = await preModel(bench, client, n, undefined);
    const sessionId = await seedHistory(bench, client, HISTORY_TURNS);
    const deep = await preModel(bench, client, n, sessionId);
    await client.close();
    return {
      ping,
      fresh,
      deep,
      freshWhere: breakdown(bench, fresh),
      deepWhere: breakdown(bench, deep),
      historyMessages: Math.min(...deep.map((s) => (s.request.record.body.messages as unknown[] | undefined)?.length ?? 0)),
    };
  } finally {
    await bench.stop();
  }
}

const WORKER_MODES: LocalWorkerMode[] = ["lambda", "ecs"];

/** The timed rounds and the recorded round of one worker mode. */
interface ModeRounds {
  worker: LocalWorkerMode;
  timed: PreModelRound[];
  recorded: PreModelRound;
}

export async function latencyBenchmark(options: BenchOptions): Promise<Section> {
  const n = options.quick ? 5 : 40;
  // Each round is a fresh stack; the figures are medians over the rounds (this machine is shared, so one round can
  // land on a busy minute). One more round per mode runs behind the recording proxy, for the breakdown of calls.
  const roundCount = options.quick ? 1 : 3;
  const notes: string[] = [];
  const modes: ModeRounds[] = [];
  for (const worker of WORKER_MODES) {
    const timed: PreModelRound[] = [];
    for (let r = 1; r <= roundCount; r++) {
      options.log(`latency: pre-model (0 and ${HISTORY_TURNS} turns of history), worker ${worker}, round ${r} of ${roundCount}`);
      timed.push(await preModelRound(n, worker, false));
    }
    options.log(`latency: pre-model, worker ${worker}, the round behind the recording proxy`);
    modes.push({ worker, timed, recorded: await preModelRound(n, worker, true) });
  }
  const p50s = (rounds: PreModelRound[], pick: (r: PreModelRound) => number[]) => rounds.map((r) => summarize(pick(r)).p50);
  const pooled = (rounds: PreModelRound[], pick: (r: PreModelRound) => number[]) => summarize(rounds.flatMap(pick));
  const deepMs = (r: PreModelRound) => r.deep.map((s) => s.preModelMs);
  const freshMs = (r: PreModelRound) => r.fresh.map((s) => s.preModelMs);
  const figures = modes.map(({ worker, timed, recorded }) => ({
    worker,
    recorded,
    deepP50s: p50s(timed, deepMs),
    freshP50s: p50s(timed, freshMs),
    deep: { p50: median(p50s(timed, deepMs)), p99: pooled(timed, deepMs).p99 },
    fresh: { p50: median(p50s(timed, freshMs)), p99: pooled(timed, freshMs).p99 },
    recordedDeepP50: summarize(deepMs(recorded)).p50,
  }));
  const lambdaRounds = modes[0]!.timed;
  const pingS = { p50: median(p50s(lambdaRounds, (r) => r.ping)), p99: pooled(lambdaRounds, (r) => r.ping).p99 };
  const historyMessages = Math.min(...modes.flatMap((m) => [...m.timed, m.recorded].map((r) => r.historyMessages)));
  options.log("latency: relay, coalesced and per chunk");
  const relayC = await relay(FLUSH_MS, options.quick ? 3 : 15);
  const relayP = await relay(0, options.quick ? 3 : 15);

  const firstC = summarize(relayC.map((s) => s.relayMs[0]).filter((x) => x !== undefined));
  const firstP = summarize(relayP.map((s) => s.relayMs[0]).filter((x) => x !== undefined));
  const everyC = summarize(relayC.flatMap((s) => s.relayMs));
  const everyP = summarize(relayP.flatMap((s) => s.relayMs));
  for (const f of figures) {
    if (f.deep.p50 > PRE_MODEL_TARGET_MS) {
      notes.push(`Worker ${f.worker}: ${storeTimeNote({ turns: HISTORY_TURNS, preModelP50: f.recordedDeepP50, freshP50: summarize(freshMs(f.recorded)).p50, pingP50: pingS.p50, targetMs: PRE_MODEL_TARGET_MS, where: f.recorded.deepWhere })}`);
    }
    notes.push(
      `Worker ${f.worker}, pre-model p50 in each timed round (fresh stack): ${HISTORY_TURNS} turns ${f.deepP50s.map((v) => fmt(v)).join(", ")}; new session ` +
        `${f.freshP50s.map((v) => fmt(v)).join(", ")}. The table quotes their medians, and p99 over all ${f.deepP50s.length * n} sends of a row. ` +
        `Behind the recording proxy the same sends took ${fmt(f.recordedDeepP50)} (${HISTORY_TURNS} turns, p50): the proxy's own hop costs about ` +
        `${fmt(Math.max(0, f.recordedDeepP50 - f.deep.p50))} of this process's time per send, so it is kept out of the timed rounds.`,
      `Worker ${f.worker}, ${HISTORY_TURNS} turns (the recorded round): ${f.recorded.deepWhere.text}.`,
      `Worker ${f.worker}, new session (the recorded round): ${f.recorded.freshWhere.text}.`,
    );
  }
  if (everyC.p99 > FLUSH_MS + 10) {
    notes.push(
      `Every-chunk relay p99 ${fmt(everyC.p99)} exceeds the flush interval + 10 ms (p50 ${fmt(everyC.p50)}; one post per chunk: p99 ` +
        `${fmt(everyP.p99)}). The coalescer's own wait is bounded by the interval; the excess is time the chunk or its post waited on ` +
        `this process's event loop — compare the event-loop delay in "While it ran" below, measured over the same period.`,
    );
  }
  const calls = (where: Breakdown) => `${where.dynamoCalls}, ${where.sequence} in sequence`;
  return {
    name: "latency",
    title: "Pre-model and relay latency (1 chat)",
    baselineLabel: "0 turns of history / one post per chunk",
    method:
      `One chat on a fresh local stack (FLUSH_INTERVAL_MS=${FLUSH_MS}, STOP_POLL_MS=100, default CONTEXT_BUDGET_TOKENS=8000), two warm-up ` +
      `answers first. Pre-model, per worker mode (lambda: the worker function; ecs: the worker service polling the SQS emulator in its own ` +
      `process), in ${roundCount} timed round${roundCount > 1 ? "s, each on a fresh stack" : ""} and one more behind a recording proxy for ` +
      `the breakdown of DynamoDB calls: ${n} sends in new sessions and ${n} sends in a session seeded through the protocol with ` +
      `${HISTORY_TURNS} turns (${HISTORY_TURNS / 2} questions and answers of ~60 tokens; the model request carried at least ${historyMessages} messages), ` +
      `timed from the client's send to the emulator's arrival of the request (one clock: performance.now() in one process). ` +
      `Relay: ${relayC.length} answers of 200 tokens at 80 tokens/s; a chunk's time is when the emulator wrote it, the client's is the ` +
      `arrival of the delta frame that completed its text.`,
    rows: [
      { metric: "ping → pong round trip p50 / p99 (floor)", value: `${fmt(pingS.p50)} / ${fmt(pingS.p99)}`, baseline: "" },
      ...figures.flatMap((f) => [
        {
          metric: `worker ${f.worker}: pre-model latency p50 / p99, ${HISTORY_TURNS} turns of history`,
          value: `${fmt(f.deep.p50)} / ${fmt(f.deep.p99)}`,
          baseline: `${fmt(f.fresh.p50)} / ${fmt(f.fresh.p99)} (0 turns)`,
          target: `p50 ≤ ${PRE_MODEL_TARGET_MS} ms`,
          verdict: verdict(f.deep.p50 <= PRE_MODEL_TARGET_MS),
        },
        {
          metric: `worker ${f.worker}: DynamoDB calls between the send and the model request (median per send), ${HISTORY_TURNS} turns of history`,
          value: calls(f.recorded.deepWhere),
          baseline: `${calls(f.recorded.freshWhere)} (0 turns)`,
        },
      ]),
      {
        metric: "first-chunk relay p50 / p99",
        value: `${fmt(firstC.p50)} / ${fmt(firstC.p99)}`,
        baseline: `${fmt(firstP.p50)} / ${fmt(firstP.p99)}`,
        target: "p99 ≤ 10 ms",
        verdict: verdict(firstC.p99 <= 10),
      },
      {
        metric: "every-chunk relay p50 / p99",
        value: `${fmt(everyC.p50)} / ${fmt(everyC.p99)}`,
        baseline: `${fmt(everyP.p50)} / ${fmt(everyP.p99)}`,
        target: `p99 ≤ ${FLUSH_MS + 10} ms`,
        verdict: verdict(everyC.p99 <= FLUSH_MS + 10),
      },
    ],
    notes,
  };
}
