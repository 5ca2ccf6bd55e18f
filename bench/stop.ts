/**
 * Stop latency: `stop` sent → the model stream closed at the Bedrock emulator (no more tokens generated), and
 * stop sent → `turn.done` (stopped) at the client. The floor beside it is a ping → pong round trip on the same
 * connection (any control frame pays it); the worker's stop poll (STOP_POLL_MS=100) adds up to one interval.
 */
import { ChatClient } from "./client";
import { marker, prompt, startBenchStack } from "./harness";
import { verdict, type BenchOptions, type Section } from "./report";
import { fmt, summarize } from "./stats";
import { HistoryReader } from "./store";

const STOP_POLL_MS = 100;

export async function stopBenchmark(options: BenchOptions): Promise<Section> {
  const n = options.quick ? 5 : 40;
  const bench = await startBenchStack({ flushIntervalMs: 50, stopPollMs: STOP_POLL_MS, tokensPerSecond: 80, timeToFirstTokenMs: 100 });
  const reader = new HistoryReader(bench.stack);
  const toClosed: number[] = [];
  const toDone: number[] = [];
  const ping: number[] = [];
  let savedAsStreamed = 0;
  let stoppedTurns = 0;
  try {
    const client = await ChatClient.connect(bench.stack.wsUrl, await bench.stack.token("stopper"));
    await client.turn("warm up [[tokens:10]]");
    for (let i = 0; i < n; i++) {
      ping.push(await client.ping());
      const mark = marker("stop", i);
      const { clientMessageId, sentAt } = client.startTurn(prompt(mark, 600));
      // Stop at a varying point of the stream, after 3–8 frames.
      const after = 3 + (i % 6);
      await client.until(() => (client.turnFrames(clientMessageId, sentAt).deltas.length >= after ? true : undefined), 20_000, "frames before stop");
      const turnId = client.turnFrames(clientMessageId, sentAt).started!.turnId;
      const request = bench.observer.find(mark)!;
      const stopAt = client.send({ action: "stop", turnId });
      const turn = await client.awaitTurnEnd(clientMessageId, sentAt, 20_000);
      await bench.observer.until(() => (request.closedAt !== undefined ? true : undefined), 10_000);
      toClosed.push(request.closedAt! - stopAt);
      if (turn.done) toDone.push(turn.done.at - stopAt);
      if (turn.done?.stopReason === "stopped") stoppedTurns++;
      const stored = await reader.turn(turn.started!.sessionId, turnId);
      if (stored?.status === "stopped" && stored.text === turn.text) savedAsStreamed++;
    }
    await client.close();
  } finally {
    reader.close();
    await bench.stop();
  }
  const closed = summarize(toClosed);
  const done = summarize(toDone);
  const pingS = summarize(ping);
  const notes: string[] = [];
  if (closed.p99 > 300) {
    notes.push(`stop p99 ${fmt(closed.p99)}: above the 300 ms target; p50 ${fmt(closed.p50)} with a ${STOP_POLL_MS} ms poll.`);
  }
  return {
    name: "stop",
    title: "Stop latency",
    baselineLabel: "ping → pong round trip (floor of any control frame)",
    method:
      `${n} answers of ~600 tokens at 80 tokens/s on one chat (STOP_POLL_MS=${STOP_POLL_MS}); \`stop\` is sent after 3–8 delta frames. ` +
      `Stream closed = the emulator saw its HTTP/2 response stream end (the worker's AbortController). Each stopped turn is read back ` +
      `from the history table.`,
    rows: [
      {
        metric: "stop sent → model stream closed p50 / p99",
        value: `${fmt(closed.p50)} / ${fmt(closed.p99)}`,
        baseline: `${fmt(pingS.p50)} / ${fmt(pingS.p99)}`,
        target: "p99 ≤ 300 ms",
        verdict: verdict(closed.p99 <= 300),
      },
      { metric: "stop sent → turn.done at the client p50 / p99", value: `${fmt(done.p50)} / ${fmt(done.p99)}`, baseline: "" },
      {
        metric: "turns ended `stopped`, saved text = streamed text",
        value: `${stoppedTurns}/${n}, ${savedAsStreamed}/${n}`,
        baseline: "",
        target: "all",
        verdict: verdict(stoppedTurns === n && savedAsStreamed === n),
      },
    ],
    notes,
  };
}
