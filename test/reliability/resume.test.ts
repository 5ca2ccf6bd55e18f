/**
 * Resume under drops, on a two-region stack: 100 answers per replication lag (0 and 1 s), each connection dropped
 * at a random point after its turn started, each answer resumed on a new connection in the same region or the other.
 * For every answer: the client's text (what it had + what the resume sent) == the text saved in history == the text
 * the model generated; the resumed deltas continue the client's seq with no gap or repeat; exactly one end.
 */
import { expect } from "chai";
import { ChatClient, type TurnFrames } from "../../bench/client";
import { startLocalStack, type LocalStack } from "../../runtime/local/stack";
import type { HistoryFrameOut } from "../../runtime/protocol";
import { prng } from "../../runtime/local/emulators/bedrock-text";

const REGIONS = ["us-east-1", "eu-west-1"];
const ANSWERS = 100;
const AT_ONCE = 5;

for (const lagMs of [0, 1_000]) {
  describe(`reliability: resume after drops at random points, two regions, lag ${lagMs} ms`, function () {
    this.timeout(300_000);
    let stack: LocalStack;

    before(async () => {
      stack = await startLocalStack({
        regions: REGIONS,
        replicationLagMs: lagMs,
        ports: { web: 0 },
        dataDir: null,
        staticDir: "/nonexistent",
        bedrock: { timing: { timeToFirstTokenMs: 20, tokensPerSecond: 150 } },
        env: { FLUSH_INTERVAL_MS: "20", STOP_POLL_MS: "50", MESSAGES_PER_MINUTE: "10000", LOG_LEVEL: "SILENT", POWERTOOLS_LOG_LEVEL: "SILENT" },
      });
    });
    after(async () => stack?.stop());

    it(`${ANSWERS} answers, resumed half in the same region and half in the other: nothing lost, nothing twice`, async () => {
      const random = prng(lagMs + 7);
      const problems: string[] = [];
      let acrossRegions = 0;
      let resumedLive = 0;
      for (let batch = 0; batch < ANSWERS / AT_ONCE; batch++) {
        await Promise.all(
          Array.from({ length: AT_ONCE }, async (_, j) => {
            const i = batch * AT_ONCE + j;
            const other = i % 2 === 1;
            const outcome = await dropAndResume(stack, i, other ? REGIONS[1]! : REGIONS[0]!, random);
            if (other) acrossRegions++;
            if (outcome.live) resumedLive++;
            problems.push(...outcome.problems.map((p) => `answer ${i} (lag ${lagMs}, resumed in ${other ? "the other" : "the same"} region): ${p}`));
          }),
        );
      }
      expect(problems).to.deep.equal([]);
      expect(acrossRegions).to.equal(ANSWERS / 2);
      // The drops are early enough that many answers are still generating when resumed (the live hand-off path).
      expect(resumedLive, "answers resumed while still generating").to.be.greaterThan(ANSWERS / 4);
    });
  });
}

/** One answer: sent in the first region, its connection dropped after a random number of deltas, resumed in `region`. */
async function dropAndResume(stack: LocalStack, i: number, region: string, random: () => number): Promise<{ problems: string[]; live: boolean }> {
  const problems: string[] = [];
  const user = `resumer-${i}`;
  const mark = `resume-${i}-${Math.floor(random() * 1e9)}`;
  const first = await connect(stack, stack.regions[0]!.wsUrl, user);
  const text = `Tell me about ${mark} [[tokens:${40 + Math.floor(random() * 80)}]]`;
  let { clientMessageId, sentAt } = first.startTurn(text);
  // A send refused as `internal` (a store call timed out on an overloaded machine) is sent again, as the page does:
  // the same clientMessageId never makes a second turn.
  for (let attempt = 1; attempt < 5; attempt++) {
    const refused = await first.until(() => {
      const frames = first.turnFrames(clientMessageId, sentAt);
      return frames.started ? false : frames.error ? true : undefined;
    }, 30_000, "the turn to start");
    if (!refused) break;
    ({ clientMessageId, sentAt } = first.startTurn(text, undefined, clientMessageId));
  }
  const dropAfter = Math.floor(random() * 4); // deltas seen before the drop: 0 (right after turn.started) to 3
  await first.until(() => {
    const frames = first.turnFrames(clientMessageId, sentAt);
    return frames.started && (frames.deltas.length >= dropAfter || frames.endCount > 0) ? true : undefined;
  }, 30_000, "the drop point");
  first.terminate();
  const cut: TurnFrames = first.turnFrames(clientMessageId, sentAt);
  const turnId = cut.started!.turnId;
  const afterSeq = cut.deltas.length > 0 ? cut.deltas[cut.deltas.length - 1]!.seq : -1;

  const second = await connect(stack, stack.regions.find((r) => r.region === region)!.wsUrl, user);
  try {
    const from = second.frames.length;
    const resumedAt = Date.now();
    second.send({ action: "resume", turnId, afterSeq, offset: cut.text.length });
    await second.until(() => (second.framesOfTurn(turnId, from).endCount > 0 ? true : undefined), 60_000, `the end of ${turnId}`);
    await second.settle();
    const resumed = second.framesOfTurn(turnId, from);
    const model = stack.bedrock.requests.find((r) => r.prompt.includes(mark));
    const live = model?.closedAt === undefined || model.closedAt > resumedAt;

    if (resumed.endCount + cut.endCount === 0 || resumed.endCount > 1) problems.push(`${resumed.endCount} ends after the resume`);
    if (resumed.done?.stopReason !== "end_turn" && cut.done?.stopReason !== "end_turn") problems.push(`ended ${resumed.done?.stopReason ?? resumed.error?.code}`);
    const seqs = resumed.deltas.map((d) => d.seq);
    if (seqs.some((s, k) => s !== afterSeq + 1 + k)) problems.push(`seq ${JSON.stringify(seqs)} after ${afterSeq}`);
    const clientText = cut.text + resumed.text;
    await stack.replication!.settled();
    const saved = await savedText(second, cut.started!.sessionId, turnId);
    if (clientText !== saved) problems.push(`client text (${clientText.length}) != history text (${saved?.length})`);
    if (model?.text !== saved) problems.push(`model text (${model?.text.length}) != history text (${saved?.length})`);
    if (model?.outcome !== "complete") problems.push(`the model stream ended ${model?.outcome}`);
    return { problems, live };
  } finally {
    if (second.open) await second.close();
  }
}

/** Connects as a client does: a handshake the server could not take (5xx on an overloaded machine) is tried again. */
async function connect(stack: LocalStack, url: string, user: string): Promise<ChatClient> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ChatClient.connect(url, await stack.token(user));
    } catch (error) {
      if (attempt >= 5 || !/HTTP 5\d\d/.test(String(error))) throw error;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

async function savedText(client: ChatClient, sessionId: string, turnId: string): Promise<string | undefined> {
  const from = client.frames.length;
  client.send({ action: "history", sessionId });
  const answer = await client.nextFrame((f) => f.type === "history" || f.type === "error", from, 15_000);
  return (answer.json as HistoryFrameOut | undefined)?.turns?.find((t) => t.turnId === turnId)?.text;
}
