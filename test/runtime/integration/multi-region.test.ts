/**
 * Two regions at run time: one gateway and one set of handlers per region (the second in a process of its own),
 * tables replicated between them as global tables are. A turn generating in one region reaches a client connected
 * to the other (resume), is stopped from there, and a region's loss leaves the answer shown for what it is.
 */
import { expect } from "chai";
import { ageLastWrite } from "./age-turn";
import { randomUUID } from "node:crypto";
import { SILENT_WORKER_MS } from "../../../runtime/chat/liveness";
import type { DeltaFrame, HistoryFrameOut, ServerFrame, TurnDoneFrame, TurnStartedFrame, WebConfig } from "../../../runtime/protocol";
import type { ChatClient } from "./client";
import { suiteStack } from "./suite-stack";

const REGIONS = ["us-east-1", "eu-west-1"];
const isStarted = (f: ServerFrame): f is TurnStartedFrame => f.type === "turn.started";
const send = (text: string, extra: Record<string, unknown> = {}) => ({ action: "send", clientMessageId: randomUUID(), text, ...extra });

/** Probes until a value; `everyMs`: a probe that sends a frame waits longer, as a client would (the frame budget). */
async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 20_000, everyMs = 25): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The two-region stack every suite here starts (each with its own replication lag). */
const TWO_REGIONS = {
  regions: REGIONS,
  ports: { web: 0 },
  staticDir: "/nonexistent",
  bedrock: { timing: { timeToFirstTokenMs: 30, tokensPerSecond: 200 } },
  env: { FLUSH_INTERVAL_MS: "20", STOP_POLL_MS: "50", MESSAGES_PER_MINUTE: "500", LOG_LEVEL: "SILENT", POWERTOOLS_LOG_LEVEL: "SILENT" },
} as const;

/** How often a test asks for history while it waits for replication: within the per-connection frame budget. */
const HISTORY_POLL_MS = 250;

const deltasOf = (client: ChatClient, turnId: string) => client.of("delta").filter((d: DeltaFrame) => d.turnId === turnId);
const textOf = (client: ChatClient, turnId: string) => deltasOf(client, turnId).map((d) => d.text).join("");

/** The session's first history page, or an empty one while the session has not reached this region (not_found). */
async function historyOf(client: ChatClient, sessionId: string): Promise<HistoryFrameOut> {
  const from = client.frames.length;
  client.send({ action: "history", sessionId });
  const answer = await until(() => client.frames.slice(from).find((f) => f.type === "history" || f.type === "error"), "the history answer");
  // not_found: the session has not replicated here yet. Any other error is the test's own failure, said so.
  if (answer.type === "error" && (answer as { code?: string }).code !== "not_found") throw new Error(`history refused: ${JSON.stringify(answer)}`);
  return answer.type === "history" ? answer : { type: "history", sessionId, turns: [] };
}

for (const lagMs of [0, 1_000]) {
  describe(`runtime integration: two regions, replication lag ${lagMs} ms`, function () {
    this.timeout(120_000);
    const suite = suiteStack({ ...TWO_REGIONS, replicationLagMs: lagMs });
    const connect = (user: string, region: string) => suite.connect(user, region);

    it("runs a gateway per region behind the page's origin, and the page's config lists every region", async () => {
      const config = (await (await fetch(`${suite.stack.webUrl}config.json`)).json()) as WebConfig;
      expect(config.regions).to.deep.equal(REGIONS.map((region) => ({ region, url: `${suite.stack.webUrl.replace("http", "ws")}ws/${region}` })));
      for (const region of REGIONS) {
        const client = await connect("greeter", region);
        client.send(send(`Hello from ${region} [[tokens:5]]`));
        const started = await client.waitFor(isStarted);
        expect(started.region, "generated where the client is connected").to.equal(region);
        expect(((await client.ending(started.turnId)) as TurnDoneFrame).stopReason).to.equal("end_turn");
      }
    });

    it("a turn generating in one region streams to a client that resumed it in the other: the missed text, the tail, one end", async () => {
      const us = await connect("traveller", "us-east-1");
      suite.stack.bedrock.script({ fault: "slow", tokensPerSecond: 40 });
      us.send(send("A long story to follow abroad [[tokens:120]]"));
      const started = await us.waitFor(isStarted);
      await until(() => deltasOf(us, started.turnId).length >= 2, "two deltas");
      us.socket.terminate(); // the connection drops mid-answer; the answer goes on
      const had = textOf(us, started.turnId);
      const lastSeq = deltasOf(us, started.turnId).at(-1)!.seq;

      const eu = await connect("traveller", "eu-west-1");
      eu.send({ action: "resume", turnId: started.turnId, afterSeq: lastSeq, offset: had.length });
      const done = (await eu.ending(started.turnId, 60_000)) as TurnDoneFrame;
      expect(done.type).to.equal("turn.done");
      expect(done.stopReason).to.equal("end_turn");
      const deltas = deltasOf(eu, started.turnId);
      expect(deltas.map((d) => d.seq), "seq continues the client's, no gap, no repeat").to.deep.equal(deltas.map((_, i) => lastSeq + 1 + i));
      expect(eu.of("turn.done").filter((d) => d.turnId === started.turnId)).to.have.length(1);
      await suite.stack.replication!.settled();
      const saved = (await historyOf(eu, started.sessionId)).turns.find((t) => t.turnId === started.turnId)!;
      expect(saved.status).to.equal("complete");
      expect(had + textOf(eu, started.turnId), "client text == history text").to.equal(saved.text);
      const model = suite.stack.bedrock.requests.find((r) => r.prompt.includes("A long story to follow abroad"))!;
      expect(model.outcome, "the model was not stopped by the drop").to.equal("complete");
    });

    it("stop from the other region ends the generation there", async () => {
      const us = await connect("stopper", "us-east-1");
      suite.stack.bedrock.script({ fault: "slow", tokensPerSecond: 20 });
      us.send(send("Something long to stop from afar [[tokens:400]]"));
      const started = await us.waitFor(isStarted);
      await until(() => deltasOf(us, started.turnId).length >= 1, "a delta");
      const eu = await connect("stopper", "eu-west-1");
      // Within the replication lag the turn may not be in eu-west-1 yet (stop would answer not_found): wait for it.
      await until(async () => (await historyOf(eu, started.sessionId)).turns.some((t) => t.turnId === started.turnId), "the turn in eu-west-1", 20_000, HISTORY_POLL_MS);
      eu.send({ action: "stop", turnId: started.turnId });
      const done = (await us.ending(started.turnId, 30_000)) as TurnDoneFrame;
      expect(done.stopReason).to.equal("stopped");
      expect(suite.stack.bedrock.requests.find((r) => r.prompt.includes("Something long to stop from afar"))!.outcome).to.equal("aborted");
    });
  });
}

describe("runtime integration: a region lost mid-answer", function () {
  this.timeout(120_000);
  const suite = suiteStack({ ...TWO_REGIONS, replicationLagMs: 200 });

  it("the session is in the surviving region, and the cut answer shows as interrupted, never complete, and can be regenerated", async () => {
    const eu = await suite.connect("survivor", "eu-west-1");
    suite.stack.bedrock.script({ fault: "slow", tokensPerSecond: 20 });
    eu.send(send("An answer that will be cut [[tokens:400]]"));
    const started = await eu.waitFor(isStarted);
    expect(started.region).to.equal("eu-west-1");
    await until(() => deltasOf(eu, started.turnId).length >= 2, "deltas");
    const us = await suite.connect("survivor", "us-east-1");
    // A checkpoint has reached us-east-1; then eu-west-1 is lost (its gateway, functions and worker, all at once).
    await until(async () => ((await historyOf(us, started.sessionId)).turns.find((t) => t.turnId === started.turnId)?.text.length ?? 0) > 0, "a checkpoint in us-east-1", 20_000, HISTORY_POLL_MS);
    suite.stack.killRegion("eu-west-1");
    await until(() => eu.socket.readyState === eu.socket.CLOSED, "the socket to drop");
    await suite.stack.replication!.settled();

    const history = await historyOf(us, started.sessionId);
    const cut = history.turns.find((t) => t.turnId === started.turnId)!;
    expect(cut.status, "the worker may still be alive as far as us-east-1 knows").to.equal("streaming");
    expect(cut.text.length).to.be.greaterThan(0);

    // Once the worker has been silent past the rule, the turn reads as interrupted (its updatedAt is moved back
    // instead of waiting SILENT_WORKER_MS).
    await ageLastWrite(suite.stack, started.sessionId, started.turnId, SILENT_WORKER_MS + 1_000);
    us.send({ action: "resume", turnId: started.turnId, afterSeq: -1, offset: cut.text.length });
    const done = (await us.ending(started.turnId)) as TurnDoneFrame;
    expect(done.stopReason, "ended, not complete").to.equal("error");
    const after = (await historyOf(us, started.sessionId)).turns.find((t) => t.turnId === started.turnId)!;
    expect(after).to.include({ status: "error", text: cut.text });

    us.send({ action: "regenerate", turnId: started.turnId });
    const again = await us.waitFor((f): f is TurnStartedFrame => isStarted(f) && f.turnId !== started.turnId);
    expect(again.region).to.equal("us-east-1");
    expect(((await us.ending(again.turnId, 60_000)) as TurnDoneFrame).stopReason).to.equal("end_turn");
  });
});
