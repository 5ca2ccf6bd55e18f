/**
 * Load: 1, 50 and 200 concurrent chats for a fixed time, each sending its next message as soon as the previous
 * answer ended. Measured: relay latency (first chunk, every chunk), frames lost or out of order (seq must run
 * 0, 1, 2, … in arrival order and the text must equal the model's), and turns saved = turns finished, read back
 * from the history table.
 */
import { performance } from "node:perf_hooks";
import { runAnswer, type AnswerSample } from "./answers";
import { ChatClient } from "./client";
import { startBenchStack } from "./harness";
import { describeLoad, measureLoop, type LoopLoad } from "./loop";
import { verdict, type BenchOptions, type Row, type Section } from "./report";
import { fmt, summarize } from "./stats";
import { HistoryReader } from "./store";

const TOKENS = 150;
const TOKENS_PER_SECOND = 80;

interface LevelResult {
  chats: number;
  samples: AnswerSample[];
  /** Turns that ended with turn.done at a client. */
  finished: number;
  /** Finished turns found in the store as `complete` with the text the client received. */
  saved: number;
  /** Frames missing, duplicated or out of seq order, summed over turns. */
  badFrames: number;
  /** Turns whose client text differs from the model's. */
  corrupted: number;
  /** Sends that failed outright (error frame or exception). */
  failures: number;
  load: LoopLoad;
  seconds: number;
}

/** CPU time of the whole process (stack, emulators, clients) per delta frame delivered during the level. */
function cpuPerFrame(r: LevelResult): number {
  const frames = r.samples.reduce((n, s) => n + s.turn.deltas.length, 0);
  return (r.load.cpuCores * r.seconds * 1000) / Math.max(1, frames);
}

function chatsLabel(n: number): string {
  return n === 1 ? "1 chat" : `${n} chats`;
}

function frameDefects(sample: AnswerSample): number {
  let bad = 0;
  sample.turn.deltas.forEach((d, i) => {
    if (d.seq !== i) bad++;
  });
  return bad;
}

async function runLevel(chats: number, seconds: number, options: BenchOptions): Promise<LevelResult> {
  const bench = await startBenchStack({ flushIntervalMs: 50, tokensPerSecond: TOKENS_PER_SECOND, timeToFirstTokenMs: 300 });
  const reader = new HistoryReader(bench.stack);
  try {
    const clients: ChatClient[] = [];
    for (let i = 0; i < chats; i += 25) {
      clients.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(25, chats - i) }, async (_, j) =>
            ChatClient.connect(bench.stack.wsUrl, await bench.stack.token(`load${chats}-${i + j}`)),
          ),
        )),
      );
    }
    await runAnswer(bench, clients[0], 20, "warm");
    const samples: AnswerSample[] = [];
    let failures = 0;
    const end = performance.now() + seconds * 1000;
    const loadStart = performance.now();
    const { load } = await measureLoop(() => Promise.all(
      clients.map(async (client, i) => {
        // Spread the starts over the first second so the chats do not move in lockstep.
        await new Promise((r) => setTimeout(r, (i / chats) * 1000));
        let sessionId: string | undefined;
        while (performance.now() < end) {
          try {
            const sample = await runAnswer(bench, client, TOKENS, `l${chats}c${i}`, sessionId);
            sessionId ??= sample.turn.started?.sessionId;
            samples.push(sample);
            if (!sample.turn.done) failures++;
          } catch {
            failures++;
          }
        }
      }),
    ));
    const loadSeconds = (performance.now() - loadStart) / 1000;
    let saved = 0;
    const bySession = new Map<string, AnswerSample[]>();
    for (const s of samples) {
      const id = s.turn.started?.sessionId;
      if (id) bySession.set(id, [...(bySession.get(id) ?? []), s]);
    }
    for (const [sessionId, list] of bySession) {
      const stored = await reader.turns(sessionId);
      for (const s of list) {
        const turn = stored.find((t) => t.turnId === s.turn.started?.turnId);
        if (s.turn.done && turn?.status === "complete" && turn.text === s.turn.text) saved++;
      }
    }
    await Promise.all(clients.map((c) => c.close()));
    const result: LevelResult = {
      chats,
      samples,
      finished: samples.filter((s) => s.turn.done).length,
      saved,
      badFrames: samples.reduce((n, s) => n + frameDefects(s), 0),
      corrupted: samples.filter((s) => s.turn.text !== s.request.record.text).length,
      failures,
      load,
      seconds: loadSeconds,
    };
    options.log(`  ${chats} chats: ${result.finished} turns finished, ${result.saved} saved, ${result.failures} failed`);
    return result;
  } finally {
    reader.close();
    await bench.stop();
  }
}

export async function loadBenchmark(options: BenchOptions): Promise<Section> {
  const seconds = options.quick ? 4 : 20;
  const levels = options.quick ? [1, 50] : [1, 50, 200];
  const results: LevelResult[] = [];
  for (const chats of levels) {
    options.log(`load: ${chats} chats for ${seconds} s`);
    results.push(await runLevel(chats, seconds, options));
  }
  const base = results[0];
  const rows: Row[] = [];
  const notes: string[] = [];
  const baseFirst = summarize(base.samples.map((s) => s.relayMs[0]).filter((x) => x !== undefined));
  const baseEvery = summarize(base.samples.flatMap((s) => s.relayMs));
  for (const r of results) {
    const first = summarize(r.samples.map((s) => s.relayMs[0]).filter((x) => x !== undefined));
    const every = summarize(r.samples.flatMap((s) => s.relayMs));
    const firstTarget = r.chats === 1 ? 10 : r.chats === 200 ? 50 : undefined;
    rows.push(
      {
        metric: `${chatsLabel(r.chats)}: first-chunk relay p50 / p99`,
        value: `${fmt(first.p50)} / ${fmt(first.p99)}`,
        baseline: `${fmt(baseFirst.p50)} / ${fmt(baseFirst.p99)}`,
        ...(firstTarget !== undefined ? { target: `p99 ≤ ${firstTarget} ms`, verdict: verdict(first.p99 <= firstTarget) } : {}),
      },
      {
        metric: `${chatsLabel(r.chats)}: every-chunk relay p50 / p99`,
        value: `${fmt(every.p50)} / ${fmt(every.p99)}`,
        baseline: `${fmt(baseEvery.p50)} / ${fmt(baseEvery.p99)}`,
      },
      {
        metric: `${chatsLabel(r.chats)}: event-loop delay p99 / process CPU / CPU per delta frame`,
        value: `${fmt(r.load.delayP99Ms)} / ${r.load.cpuCores.toFixed(2)} cores / ${fmt(cpuPerFrame(r))}`,
        baseline: `${fmt(base.load.delayP99Ms)} / ${base.load.cpuCores.toFixed(2)} cores / ${fmt(cpuPerFrame(base))}`,
      },
      {
        metric: `${chatsLabel(r.chats)}: frames lost or out of order / answers corrupted`,
        value: `${r.badFrames} / ${r.corrupted}`,
        baseline: `${base.badFrames} / ${base.corrupted}`,
        target: "0 / 0",
        verdict: verdict(r.badFrames === 0 && r.corrupted === 0),
      },
      {
        metric: `${chatsLabel(r.chats)}: turns saved / finished (failed sends)`,
        value: `${r.saved} / ${r.finished} (${r.failures})`,
        baseline: `${base.saved} / ${base.finished} (${base.failures})`,
        target: "saved = finished",
        verdict: verdict(r.saved === r.finished && r.failures === 0),
      },
    );
    if (firstTarget !== undefined && first.p99 > firstTarget) {
      notes.push(
        `${chatsLabel(r.chats)}: first-chunk relay p99 ${fmt(first.p99)} (p50 ${fmt(first.p50)}). The relay path is emulator → HTTP/2 → worker ` +
          `→ @connections POST (SigV4-signed, HTTP/1.1) → gateway emulator → WebSocket → client, all on one event loop with ` +
          `the chats' chunks, posts and 100 ms stop polls (${fmt((r.chats * 1000) / 100, "")} GetItem/s) queued on it; ` +
          `the tail is queueing on this shared loop, which grows with the number of chats: ${describeLoad(r.load)}; ` +
          `${fmt(cpuPerFrame(r))} of this process's CPU per delta frame delivered, for all components together.` +
          (r.load.cpuCores > 0.9
            ? ` At ${r.load.cpuCores.toFixed(2)} cores the process's one event loop was saturated: this level measures the capacity ` +
              `of the single-process local stack (gateway, handlers, Bedrock emulator, DynamoDB, ${r.chats} clients on one thread), ` +
              `not the runtime's relay, which on AWS runs in one Lambda environment per generating turn.`
            : ""),
      );
    }
  }
  return {
    name: "load",
    title: "Load: concurrent chats",
    baselineLabel: "1 chat",
    method:
      `${levels.join(", ")} chats (one user and connection each) on a fresh stack per level, each sending its next message as soon ` +
      `as the previous answer ended, for ${seconds} s; answers of ${TOKENS} tokens at ${TOKENS_PER_SECOND} tokens/s, ` +
      `FLUSH_INTERVAL_MS=50, STOP_POLL_MS=100. Turns saved are read back from the history table (consistent Query per ` +
      `session) and count only when \`complete\` with exactly the text the client received.`,
    rows,
    notes,
  };
}
