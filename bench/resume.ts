/**
 * Resume: a client whose connection dropped mid-answer reconnects and sends `resume`. Measured: reconnect (the new
 * socket's handshake starts) → the first missed text arrives, and `resume` sent → that text, with the new connection in
 * the same region or in the other one of a two-region stack (replication lag 0). Beside it, the floor: a ping → pong
 * round trip on the new connection. And what not stopping on a drop costs: the answer is generated to its end, so the
 * output tokens after the drop are paid for (model list prices) where an abort would have saved them.
 */
import { ChatClient } from "./client";
import { marker, prompt, startBenchStack } from "./harness";
import { MODEL_PRICES, modelCostUsd } from "./model-prices";
import { verdict, type BenchOptions, type Section } from "./report";
import { fmt, summarize } from "./stats";

const REGIONS = ["us-east-1", "eu-west-1"];
const ANSWER_TOKENS = 400;

export async function resumeBenchmark(options: BenchOptions): Promise<Section> {
  const n = options.quick ? 6 : 40;
  const bench = await startBenchStack({
    flushIntervalMs: 50,
    stopPollMs: 100,
    tokensPerSecond: 80,
    timeToFirstTokenMs: 100,
    extra: { regions: REGIONS, replicationLagMs: 0 },
  });
  const reconnectToText: Record<string, number[]> = { same: [], other: [] };
  const resumeToText: Record<string, number[]> = { same: [], other: [] };
  const ping: number[] = [];
  let whole = 0;
  let tokensAfterDrop = 0;
  let tokensInAll = 0;
  try {
    for (let i = 0; i < n; i++) {
      const where = i % 2 === 0 ? "same" : "other";
      const user = `resumer-${i}`;
      const token = await bench.stack.token(user);
      const first = await ChatClient.connect(bench.stack.regions[0]!.wsUrl, token);
      const mark = marker("resume", i);
      const { clientMessageId, sentAt } = first.startTurn(prompt(mark, ANSWER_TOKENS));
      // Drop after 3–8 frames, while the answer is still generating.
      const after = 3 + (i % 6);
      await first.until(() => (first.turnFrames(clientMessageId, sentAt).deltas.length >= after ? true : undefined), 20_000, "frames before the drop");
      first.terminate();
      const cut = first.turnFrames(clientMessageId, sentAt);
      const request = bench.observer.find(mark)!;
      const generatedAtDrop = request.chunks.length;

      const reconnectAt = performance.now();
      const second = await ChatClient.connect(bench.stack.regions[where === "same" ? 0 : 1]!.wsUrl, token);
      const turnId = cut.started!.turnId;
      const from = second.frames.length;
      const resumeAt = second.send({ action: "resume", turnId, afterSeq: cut.deltas[cut.deltas.length - 1]!.seq, offset: cut.text.length });
      await second.until(() => (second.framesOfTurn(turnId, from).deltas.length > 0 ? true : undefined), 20_000, "the first missed text");
      const firstMissed = second.framesOfTurn(turnId, from).deltas[0]!.at;
      reconnectToText[where]!.push(firstMissed - reconnectAt);
      resumeToText[where]!.push(firstMissed - resumeAt);
      await second.until(() => (second.framesOfTurn(turnId, from).endCount > 0 ? true : undefined), 60_000, "the end");
      ping.push(await second.ping());
      const resumed = second.framesOfTurn(turnId, from);
      await bench.observer.until(() => (request.closedAt !== undefined ? true : undefined), 10_000);
      if (resumed.done?.stopReason === "end_turn" && cut.text + resumed.text === request.record.text) whole++;
      tokensAfterDrop += Math.max(0, request.record.outputTokens - generatedAtDrop);
      tokensInAll += request.record.outputTokens;
      await second.close();
    }
  } finally {
    await bench.stop();
  }
  const same = summarize(reconnectToText.same!);
  const other = summarize(reconnectToText.other!);
  const sameResume = summarize(resumeToText.same!);
  const otherResume = summarize(resumeToText.other!);
  const pingS = summarize(ping);
  const extraPerAnswer = modelCostUsd(0, tokensAfterDrop) / n;
  const share = tokensInAll > 0 ? tokensAfterDrop / tokensInAll : 0;
  return {
    name: "resume",
    title: "Resume after a dropped connection",
    baselineLabel: "ping → pong round trip on the new connection (floor of any frame)",
    method:
      `${n} answers of ~${ANSWER_TOKENS} tokens at 80 tokens/s, started in ${REGIONS[0]} of a two-region stack (replication lag 0); ` +
      `each connection is dropped after 3–8 delta frames, and the same user reconnects — every other time to the other region — ` +
      `and sends \`resume\` with its last seq and text length. Reconnect = the new WebSocket handshake starts (a fresh token in hand).`,
    rows: [
      {
        metric: "same region: reconnect → first missed text p50 / p99",
        value: `${fmt(same.p50)} / ${fmt(same.p99)}`,
        baseline: `${fmt(pingS.p50)} / ${fmt(pingS.p99)}`,
        target: "p99 ≤ 250 ms",
        verdict: verdict(same.p99 <= 250),
      },
      {
        metric: "other region: reconnect → first missed text p50 / p99",
        value: `${fmt(other.p50)} / ${fmt(other.p99)}`,
        baseline: `${fmt(pingS.p50)} / ${fmt(pingS.p99)}`,
        target: "p99 ≤ 250 ms",
        verdict: verdict(other.p99 <= 250),
      },
      { metric: "same / other region: resume sent → first missed text p50", value: `${fmt(sameResume.p50)} / ${fmt(otherResume.p50)}`, baseline: "" },
      { metric: "answers completed with client text = model text", value: `${whole}/${n}`, baseline: "", target: "all", verdict: verdict(whole === n) },
      {
        metric: "not stopping on a drop: output tokens generated after the drop",
        value: `${tokensAfterDrop} of ${tokensInAll} (${(share * 100).toFixed(0)}%)`,
        baseline: "0 when a drop stopped the answer (before)",
      },
      {
        metric: "its model cost per dropped answer (output tokens only)",
        value: `$${extraPerAnswer.toFixed(5)}`,
        baseline: `$${(extraPerAnswer * 1000).toFixed(2)} per 1,000 dropped answers`,
      },
    ],
    notes: [
      `Prices: ${MODEL_PRICES.label}, $${MODEL_PRICES.outputPerMillion} per million output tokens (${MODEL_PRICES.source}). ` +
        `The extra cost is paid only for answers whose client drops and does not come back; an answer that is resumed was wanted.`,
      `The hand-off to another region waits for one worker poll (STOP_POLL_MS=100) plus the replication of the watcher item and its ` +
        `acknowledgement (0 here; typically under a second with global tables, so add about twice the lag in AWS).`,
    ],
  };
}
