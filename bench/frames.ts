/**
 * Frames per answer and the gap between frames: coalesced sending (FLUSH_INTERVAL_MS=50, the default) against
 * one @connections post per model chunk (FLUSH_INTERVAL_MS=0: the coalescer then posts each chunk as soon as the
 * previous post has settled — the approach of the best-known public sample, which awaits one post per chunk), and
 * the cost per 1,000 answers that follows at published prices.
 */
import { performance } from "node:perf_hooks";
import { runAnswers, type AnswerSample } from "./answers";
import { startBenchStack } from "./harness";
import { describeLoad, measureLoop, type LoopLoad } from "./loop";
import { answerCost, PRICES, type AnswerCost } from "./pricing";
import { verdict, type BenchOptions, type Row, type Section } from "./report";
import { fmt, median, summarize } from "./stats";

const TOKENS_PER_SECOND = 80;
const CONCURRENCY = 4;

interface ModeResult {
  bySize: Map<number, AnswerSample[]>;
  /** How busy the process was while each size ran. */
  loads: Map<number, LoopLoad>;
  costs: Map<number, AnswerCost>;
  /** Coalesced only: 500-token answers at other model speeds (tokens/s → samples). */
  byRate: Map<number, AnswerSample[]>;
}

/** Model speeds for the sweep: the ends of the realistic range, and a fast small model. */
const SWEEP_RATES = [50, 100, 200];

async function runMode(flushIntervalMs: number, sizes: Array<[number, number]>, options: BenchOptions, sweep: boolean): Promise<ModeResult> {
  const bench = await startBenchStack({ flushIntervalMs, tokensPerSecond: TOKENS_PER_SECOND });
  try {
    await runAnswers(bench, { tokens: 40, count: 2, concurrency: 2, tag: "warm" });
    const bySize = new Map<number, AnswerSample[]>();
    const loads = new Map<number, LoopLoad>();
    const costs = new Map<number, AnswerCost>();
    for (const [tokens, count] of sizes) {
      const invocationsBefore = bench.stack.functions.invocations.length;
      const t0 = performance.now();
      const { result: samples, load } = await measureLoop(() =>
        runAnswers(bench, { tokens, count, concurrency: CONCURRENCY, tag: `f${flushIntervalMs}t${tokens}` }),
      );
      loads.set(tokens, load);
      options.log(`  flush ${flushIntervalMs} ms, ${tokens} tokens: ${samples.length} answers in ${fmt((performance.now() - t0) / 1000, "s")}`);
      bySize.set(tokens, samples);
      // Workers finish (release the slot, log) just after turn.done: wait for them before reading their wall time.
      await bench.stack.functions.drain(10_000);
      // Lambda wall time per answer: this batch's invocations of each function, averaged over its answers.
      const batch = bench.stack.functions.invocations.slice(invocationsBefore);
      const wall = (name: string) =>
        batch.filter((i) => i.functionName === name && i.endedAt !== undefined).reduce((s, i) => s + (i.endedAt! - i.startedAt), 0) / samples.length;
      // The public sample posts every model chunk: its messages are the send, turn.started, one delta per chunk and
      // turn.done. The coalesced run's messages are the frames it actually sent.
      const perAnswer = samples.map((s) =>
        answerCost({
          messageBytes: flushIntervalMs === 0 ? perChunkMessages(s) : s.messageBytes,
          connectionMs: (s.turn.done?.at ?? s.turn.sentAt) - s.turn.sentAt,
          lambdaMs: { message: wall("message"), worker: wall("worker") },
        }),
      );
      costs.set(tokens, {
        messages: median(perAnswer.map((c) => c.messages)),
        messagesUsd: avg(perAnswer.map((c) => c.messagesUsd)),
        connectionUsd: avg(perAnswer.map((c) => c.connectionUsd)),
        lambdaUsd: avg(perAnswer.map((c) => c.lambdaUsd)),
        totalUsd: avg(perAnswer.map((c) => c.totalUsd)),
      });
    }
    const byRate = new Map<number, AnswerSample[]>();
    for (const rate of sweep ? SWEEP_RATES : []) {
      bench.stack.bedrock.timing = { ...bench.stack.bedrock.timing, tokensPerSecond: rate };
      byRate.set(rate, await runAnswers(bench, { tokens: 500, count: 4, concurrency: CONCURRENCY, tag: `rate${rate}` }));
      options.log(`  flush ${flushIntervalMs} ms, 500 tokens at ${rate} tokens/s: 4 answers`);
    }
    return { bySize, loads, costs, byRate };
  } finally {
    await bench.stop();
  }
}

function perChunkMessages(sample: AnswerSample): number[] {
  const turnId = sample.turn.started?.turnId ?? "";
  const deltas = sample.request.chunks.map((c, seq) => Buffer.byteLength(JSON.stringify({ type: "delta", turnId, seq, text: c.text })));
  const others = sample.messageBytes.length - sample.turn.deltas.length;
  return [...sample.messageBytes.slice(0, others), ...deltas];
}

function avg(xs: number[]): number {
  return xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
}

/** Dollars with three significant digits (connection minutes per 1,000 short answers are fractions of a cent). */
const usd = (x: number) => (x === 0 ? "$0" : x >= 0.01 ? `$${x.toFixed(4)}` : `$${x.toPrecision(3)}`);

export async function framesBenchmark(options: BenchOptions): Promise<Section> {
  const sizes: Array<[number, number]> = options.quick
    ? [
        [100, 2],
        [500, 1],
      ]
    : [
        [100, 12],
        [500, 8],
        [2000, 4],
      ];
  options.log("frames: coalesced (FLUSH_INTERVAL_MS=50)");
  const coalesced = await runMode(50, sizes, options, !options.quick);
  options.log("frames: one post per chunk (FLUSH_INTERVAL_MS=0)");
  const perChunk = await runMode(0, sizes, options, false);

  const rows: Row[] = [];
  const notes: string[] = [];
  for (const [tokens] of sizes) {
    const c = coalesced.bySize.get(tokens)!;
    const p = perChunk.bySize.get(tokens)!;
    const framesC = median(c.map((s) => s.turn.deltas.length));
    const framesP = median(p.map((s) => s.turn.deltas.length));
    const chunksC = median(c.map((s) => s.request.chunks.length));
    const chunksP = median(p.map((s) => s.request.chunks.length));
    const gapC = summarize(c.flatMap((s) => s.gapsMs));
    const gapP = summarize(p.flatMap((s) => s.gapsMs));
    const chunkGap = summarize(c.flatMap((s) => s.request.chunks.slice(1).map((ch, i) => ch.at - s.request.chunks[i].at)));
    const costC = coalesced.costs.get(tokens)!;
    const costP = perChunk.costs.get(tokens)!;
    rows.push(
      {
        metric: `${tokens}-token answer: delta frames (median)`,
        value: `${framesC} (${(framesC / chunksC).toFixed(2)} of baseline)`,
        baseline: `${chunksC} model chunks = posts (FLUSH_INTERVAL_MS=0 sent ${framesP} frames for ${chunksP} chunks)`,
        target: "≤ 1/5 of baseline",
        verdict: verdict(framesC <= chunksC / 5),
      },
      {
        metric: `${tokens}-token answer: inter-frame gap p50 / p99`,
        value: `${fmt(gapC.p50)} / ${fmt(gapC.p99)}`,
        baseline: `${fmt(gapP.p50)} / ${fmt(gapP.p99)}`,
        target: "p99 ≤ 100 ms",
        verdict: verdict(gapC.p99 <= 100),
      },
      {
        metric: `${tokens}-token answer: WebSocket messages (metered, median)`,
        value: String(costC.messages),
        baseline: String(costP.messages),
      },
      {
        metric: `${tokens}-token answers: cost per 1,000 (msgs + conn-min + Lambda)`,
        value: `${usd(costC.totalUsd * 1000)} (${usd(costC.messagesUsd * 1000)} + ${usd(costC.connectionUsd * 1000)} + ${usd(costC.lambdaUsd * 1000)})`,
        baseline: `${usd(costP.totalUsd * 1000)} (${usd(costP.messagesUsd * 1000)} + ${usd(costP.connectionUsd * 1000)} + ${usd(costP.lambdaUsd * 1000)})`,
      },
      {
        metric: `${tokens}-token answer: output tokens (as the model reported, median) / duration`,
        value: `${median(c.map((s) => s.turn.done?.usage.outputTokens ?? 0))} / ${fmt(median(c.map((s) => (s.turn.done?.at ?? s.turn.sentAt) - s.turn.sentAt)) / 1000, "s")}`,
        baseline: `${median(p.map((s) => s.turn.done?.usage.outputTokens ?? 0))} / ${fmt(median(p.map((s) => (s.turn.done?.at ?? s.turn.sentAt) - s.turn.sentAt)) / 1000, "s")}`,
      },
      {
        metric: `${tokens}-token answers intact (turn.done end_turn, text = model text)`,
        value: `${c.filter((s) => s.intact).length}/${c.length}`,
        baseline: `${p.filter((s) => s.intact).length}/${p.length}`,
      },
    );
    if (gapC.p99 > 100) {
      notes.push(
        `${tokens} tokens: inter-frame gap p99 ${fmt(gapC.p99)} (max ${fmt(gapC.max)}). The coalescer posts at most ${50} ms after ` +
          `the previous post whenever text is waiting, so a longer gap needs a model pause or a stalled process: the emulator's own ` +
          `chunk gaps reached ${fmt(chunkGap.p99)} p99 / ${fmt(chunkGap.max)} max (it paces chunks at most 3/${TOKENS_PER_SECOND} s = ` +
          `${fmt(3000 / TOKENS_PER_SECOND)} apart), and while these answers ran: ${describeLoad(coalesced.loads.get(tokens)!)}.`,
      );
    }
    if (framesC > chunksC / 5) {
      notes.push(
        `${tokens} tokens: the model emitted a chunk every ${fmt(chunkGap.p50)} (median; ${fmt(chunkGap.p99)} p99), so a ` +
          `${50} ms interval can merge only about ${(50 / chunkGap.p50).toFixed(1)} chunks per frame: frames ≈ answer time / 50 ms ` +
          `(${framesC}) against one per chunk (${chunksC}). A ratio of 1/5 needs the model to emit a chunk at least every 10 ms ` +
          `(≥ 100 chunks/s), or a longer FLUSH_INTERVAL_MS.`,
      );
    }
  }
  const ratios: string[] = [];
  const framesPerSecond: number[] = [];
  const tokensPerChunk: number[] = [];
  for (const [rate, samples] of coalesced.byRate) {
    const frames = median(samples.map((s) => s.turn.deltas.length));
    const chunks = median(samples.map((s) => s.request.chunks.length));
    const gap = summarize(samples.flatMap((s) => s.gapsMs));
    ratios.push(`${(frames / chunks).toFixed(2)} at ${rate} tokens/s`);
    // Frames a second over the stream (first delta to last), and the model's tokens per chunk: the note's arithmetic.
    framesPerSecond.push(median(samples.map((s) => (s.turn.deltas.length - 1) / Math.max(0.001, ((s.turn.deltas.at(-1)?.at ?? 0) - (s.turn.deltas[0]?.at ?? 0)) / 1000))));
    tokensPerChunk.push(...samples.map((s) => (s.turn.done?.usage.outputTokens ?? 0) / Math.max(1, s.request.chunks.length)));
    rows.push({
      metric: `500-token answer at ${rate} tokens/s: delta frames (median), gap p99`,
      value: `${frames} (${(frames / chunks).toFixed(2)} of baseline), ${fmt(gap.p99)}`,
      baseline: `${chunks} model chunks = posts`,
    });
  }
  if (ratios.length) {
    const fps = median(framesPerSecond);
    const chunksForFifth = 5 * fps;
    notes.push(
      `The ratio follows the model's speed, as the 500-token sweep shows: ${ratios.join(", ")} (frames per emitted chunk, ` +
        `FLUSH_INTERVAL_MS=50). Coalescing sent ${fmt(Math.min(...framesPerSecond), "")}–${fmt(Math.max(...framesPerSecond), "")} frames ` +
        `a second across these speeds (a 50 ms interval allows at most 20), so at the median ${fmt(fps, "")} it reaches 1/5 once the ` +
        `model emits about ${Math.round(chunksForFifth)} chunks a second (≈ ${Math.round(chunksForFifth * median(tokensPerChunk))} ` +
        `tokens/s at the ${fmt(median(tokensPerChunk), "")} tokens per chunk measured).`,
    );
  }
  return {
    name: "frames",
    title: "Frames per answer and inter-frame gap",
    baselineLabel: "one post per model chunk",
    method:
      `Answers of about ${sizes.map(([t]) => t).join(", ")} tokens (the length the emulator is asked for, estimated at 4 characters a ` +
      `token) from the Bedrock emulator at ${TOKENS_PER_SECOND} output tokens/s (the emulator counts a word piece as a token) in chunks ` +
      `of 1–3 tokens (its realistic pacing), ${CONCURRENCY} chats at once; the same prompts run once with FLUSH_INTERVAL_MS=50 (the default) and ` +
      `once with FLUSH_INTERVAL_MS=0, each on a fresh local stack after two warm-up answers. Frames and gaps are counted at the ` +
      `client. ${options.quick ? "" : `The 500-token answers also run coalesced at ${SWEEP_RATES.join(", ")} tokens/s (4 each), to show how the ratio follows the model's speed. `}The baseline's frame count is the number of chunks the emulator emitted (the public sample posts each one, awaiting ` +
      `each post); FLUSH_INTERVAL_MS=0 is this runtime's closest setting (it posts a chunk as soon as the previous post settled, so ` +
      `chunks arriving during a post merge) and gives the baseline's measured gaps, connection time and Lambda time. Cost per 1,000 answers at published us-east-1 prices (checked ${PRICES.checkedOn}: ${PRICES.sources.join(", ")}): ` +
      `WebSocket messages both ways (send, turn.started, deltas, turn.done; metered per started 32 KB) at $1.00 per million, the ` +
      `answer's connection time at $0.25 per million connection minutes, and the message + worker Lambda invocations (measured ` +
      `wall time × 512 MB / 1024 MB, arm64 $0.0000133334 per GB-s, $0.20 per million requests).`,
    rows,
    notes,
  };
}
