/**
 * Abuse cases for the spend limits (issue: "one user with 12 connections had 19 answers at once", "1,000 frames in
 * 2.5 s, all answered"): many connections of one user, a user at the end of the daily token budget, and a frame
 * flood. Each ends with nothing lost (the protocol's invariants hold for every answer that started) and another
 * user chatting at the same time unaffected.
 */
import { expect } from "chai";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { ChatClient, type TurnFrames } from "../../bench/client";
import { dayKey } from "../../runtime/chat/windows";
import { checkInvariants, observed } from "./invariants";
import { DAILY_TOKEN_BUDGET, sharedStack, type ReliabilityStack } from "./stack";

/** The token's subject: the runtime's userId. */
function subjectOf(token: string): string {
  return (JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8")) as { sub: string }).sub;
}

describe("reliability: spend limits hold under abuse", function () {
  this.timeout(90_000);
  const shared = sharedStack();
  let rs: ReliabilityStack;
  before(() => {
    rs = shared.get();
  });

  it("8 connections of one user sending at once: 2 answers generate, 6 are refused with rate_limited; nothing lost", async () => {
    const mark = rs.mark();
    const user = `many-conns-${Date.now()}`;
    const conns: ChatClient[] = [];
    for (let i = 0; i < 8; i++) conns.push(await rs.connect(user));
    const bystander = await rs.connect(`bystander-many-${Date.now()}`);
    const [results, other] = await Promise.all([Promise.all(conns.map((c, i) => c.turn(`question ${i}`))), bystander.turn("a neighbour's question")]);

    const answered = results.filter((r) => r.started !== undefined);
    const refused = results.filter((r) => r.started === undefined);
    expect(answered).to.have.length(2);
    expect(refused).to.have.length(6);
    for (const r of refused) {
      expect(r.error).to.include({ code: "rate_limited" });
      expect(r.error!.retryAfterMs).to.be.above(0);
    }
    expect(other.done?.stopReason).to.equal("end_turn");
    const observedTurns = [...answered.map((frames) => observed(conns[results.indexOf(frames)]!, frames)), observed(bystander, other)];
    expect(await checkInvariants(rs, observedTurns)).to.deep.equal([]);

    // The slots come back when the answers end (the worker frees them just after turn.done): retry until admitted.
    let again: TurnFrames | undefined;
    while (again?.started === undefined) {
      again = await conns[7]!.turn("my turn now?");
      if (again.started === undefined) {
        expect(again.error?.code).to.equal("rate_limited");
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    expect(again.done?.stopReason).to.equal("end_turn");
    await Promise.all([...conns, bystander].map((c) => c.close()));
    expect(rs.crashes(mark)).to.deep.equal([]);
  });

  it("a user at the end of the daily budget finishes the answer in flight, then gets quota_exceeded; others chat on", async () => {
    const mark = rs.mark();
    const token = await rs.stack.token(`spender-${Date.now()}`);
    const userId = subjectOf(token);
    // A day of use already counted, one token short of the budget (as the worker counts it: the home region's item).
    const doc = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: rs.stack.dynamo.endpoint, region: rs.stack.region, credentials: { accessKeyId: "local", secretAccessKey: "local" } }),
    );
    await doc.send(
      new PutCommand({ TableName: rs.stack.tables.history, Item: { pk: `USER#${userId}`, sk: `TOKENS#${dayKey(Date.now())}`, tokens: DAILY_TOKEN_BUDGET - 1 } }),
    );
    doc.destroy();
    const spender = await ChatClient.connect(rs.stack.wsUrl, token);
    const bystander = await rs.connect(`bystander-budget-${Date.now()}`);

    const [last, other] = await Promise.all([spender.turn("one last question"), bystander.turn("a neighbour's question")]);
    expect(last.done?.stopReason).to.equal("end_turn");
    const counted = DAILY_TOKEN_BUDGET - 1 + last.done!.usage.inputTokens + last.done!.usage.outputTokens;

    // The worker counts the tokens just after turn.done: ask `usage` until it shows them (state, not time).
    for (;;) {
      const from = spender.frames.length;
      spender.send({ action: "usage" });
      const usage = (await spender.nextFrame((f) => f.type === "usage", from)).json!;
      if (usage.used === counted) {
        expect(usage.limit).to.equal(DAILY_TOKEN_BUDGET);
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const refused = await spender.turn("and another?");
    expect(refused.started).to.equal(undefined);
    expect(refused.error).to.include({ code: "quota_exceeded" });
    expect(refused.error!.retryAfterMs).to.be.above(0).and.at.most(86_400_000);

    expect(other.done?.stopReason).to.equal("end_turn");
    expect((await bystander.turn("still fine?")).done?.stopReason).to.equal("end_turn");
    expect(await checkInvariants(rs, [observed(spender, last), observed(bystander, other)])).to.deep.equal([]);
    await Promise.all([spender.close(), bystander.close()]);
    expect(rs.crashes(mark)).to.deep.equal([]);
  });

  it("a stopped answer counts what it used, though the model reports its output tokens only at the end of the stream", async () => {
    const mark = rs.mark();
    const stopper = await rs.connect(`stopper-${Date.now()}`);
    const { clientMessageId, sentAt } = stopper.startTurn("Write at length about tides [[tokens:3000]]");
    await stopper.until(() => (stopper.turnFrames(clientMessageId, sentAt).deltas.length >= 3 ? true : undefined), 20_000, "the first deltas");
    stopper.send({ action: "stop", turnId: stopper.turnFrames(clientMessageId, sentAt).started!.turnId });
    const turn = await stopper.awaitTurnEnd(clientMessageId, sentAt);
    expect(turn.done?.stopReason).to.equal("stopped");
    const { inputTokens, outputTokens } = turn.done!.usage;
    // Claude's input tokens come first (message_start) and are reported; its output tokens, never reported for a stopped
    // stream, are estimated as the bytes generated (at least those delivered).
    expect(inputTokens).to.be.above(0);
    expect(outputTokens).to.be.at.least(Buffer.byteLength(turn.text, "utf8")).and.above(0);
    for (;;) {
      const from = stopper.frames.length;
      stopper.send({ action: "usage" });
      const usage = (await stopper.nextFrame((f) => f.type === "usage", from)).json!;
      if (usage.used === inputTokens + outputTokens) break;
      expect(usage.used).to.be.below(inputTokens + outputTokens);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await checkInvariants(rs, [observed(stopper, turn)])).to.deep.equal([]);
    await stopper.close();
    expect(rs.crashes(mark)).to.deep.equal([]);
  });

  it("a flood of pings on one connection is refused with rate_limited and closed; a neighbour's answer streams whole", async () => {
    const mark = rs.mark();
    const flood = await rs.connect(`flooder-${Date.now()}`);
    const bystander = await rs.connect(`bystander-flood-${Date.now()}`);
    const neighbour = bystander.turn("a question during the flood");
    for (let i = 0; i < 400 && flood.open; i++) flood.send({ action: "ping" });
    await flood.closed;
    const limited = flood.frames.filter((f) => f.json?.type === "error" && f.json.code === "rate_limited");
    expect(limited.length).to.be.at.least(1);
    for (const f of limited) expect(f.json!.retryAfterMs).to.be.a("number").above(0);
    expect(flood.frames.filter((f) => f.json?.type === "pong").length).to.be.below(400);

    const other = await neighbour;
    expect(other.done?.stopReason).to.equal("end_turn");
    expect(await checkInvariants(rs, [observed(bystander, other)])).to.deep.equal([]);
    expect(await bystander.ping()).to.be.a("number");
    await bystander.close();
    expect(rs.crashes(mark)).to.deep.equal([]);
    expect(rs.unhandled).to.deep.equal([]);
  });
});
