/**
 * Conversation-level actions under pressure, on the shared reliability stack (real handlers and SDK clients,
 * DynamoDB Local): a delete while an answer generates, a delete right after a send (before the worker claims the
 * turn), two deletes at once, and two tabs of one user, where what one tab renames or deletes shows in the other's
 * next session list and the other's open session answers as gone. After each: exactly one end per turn, deltas in
 * order and none after the end, and no item left under the deleted session.
 */
import { expect } from "chai";
import type { ChatClient, TurnFrames } from "../../bench/client";
import { marker } from "../../bench/harness";
import type { SessionSummary } from "../../runtime/protocol";
import { sessionItems } from "../runtime/integration/session-items";
import { sharedStack, type ReliabilityStack } from "./stack";

/** The turn's frames hold the protocol's rules: one end, deltas 0, 1, 2, … and none after the end. */
function expectOneCleanEnd(client: ChatClient, turn: TurnFrames): void {
  const frames = client.turnFrames(turn.clientMessageId, turn.sentAt);
  expect(frames.endCount, "exactly one turn.done or error").to.equal(1);
  expect(frames.deltas.map((d) => d.seq)).to.deep.equal(frames.deltas.map((_, i) => i));
  const endAt = (frames.done ?? frames.error)!.at;
  expect(frames.deltas.filter((d) => d.at > endAt), "no delta after the end").to.deep.equal([]);
}

/** Sends a frame and resolves with the next `sessions` or `error` answer. */
async function ask(client: ChatClient, frame: Record<string, unknown>): Promise<Record<string, unknown>> {
  const from = client.frames.length;
  client.send(frame);
  return (await client.nextFrame((f) => f.type === "sessions" || f.type === "error", from, 15_000)).json!;
}

const idsOf = (answer: Record<string, unknown>) => (answer.sessions as SessionSummary[]).map((s) => s.sessionId);

describe("reliability: rename and delete of conversations", function () {
  this.timeout(60_000);
  const shared = sharedStack();
  let rs: ReliabilityStack;
  const open: ChatClient[] = [];
  let user = 0;

  beforeEach(() => {
    rs = shared.get();
    rs.stack.bedrock.clearScript();
    user++;
  });
  afterEach(async () => {
    rs.stack.bedrock.clearScript();
    for (const c of open.splice(0)) if (c.open) await c.close();
    await rs.quiet();
  });

  async function tab(): Promise<ChatClient> {
    const client = await rs.connect(`conversations-${user}`);
    open.push(client);
    return client;
  }

  async function noItemsLeft(sessionId: string): Promise<void> {
    await rs.quiet();
    const deadline = Date.now() + 15_000;
    while ((await sessionItems(rs.stack, sessionId)).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await sessionItems(rs.stack, sessionId), "items left under the deleted session").to.deep.equal([]);
  }

  it("a delete during generation ends the turn once (stopped) and leaves no orphan item", async () => {
    const mark = marker("delete-mid", user);
    const writer = await tab();
    const first = await writer.turn(`Something short ${mark} [[tokens:10]]`);
    const sessionId = first.started!.sessionId;
    rs.stack.bedrock.script({ fault: "slow", tokensPerSecond: 30 });
    const { clientMessageId, sentAt } = writer.startTurn(`A long one ${mark} [[tokens:400]]`, sessionId);
    await writer.until(() => (writer.turnFrames(clientMessageId, sentAt).deltas.length >= 2 ? true : undefined), 15_000, "two deltas");
    // The other tab deletes it.
    const other = await tab();
    const answer = await ask(other, { action: "delete", sessionId });
    expect(answer.type).to.equal("sessions");
    expect(idsOf(answer)).to.not.include(sessionId);
    const ended = await writer.awaitTurnEnd(clientMessageId, sentAt, 30_000);
    expect(ended.done?.stopReason).to.equal("stopped");
    await noItemsLeft(sessionId);
    await writer.ping();
    expectOneCleanEnd(writer, ended);
    expect(rs.crashes()).to.deep.equal([]);
  });

  it("a delete right after the send, before the worker claims the turn: still one end, and no item left", async () => {
    const mark = marker("delete-early", user);
    const writer = await tab();
    const first = await writer.turn(`Hello ${mark} [[tokens:5]]`);
    const sessionId = first.started!.sessionId;
    const { clientMessageId, sentAt } = writer.startTurn(`And again ${mark} [[tokens:300]]`, sessionId);
    await writer.until(() => writer.turnFrames(clientMessageId, sentAt).started, 10_000, "turn.started");
    expect((await ask(writer, { action: "delete", sessionId })).type).to.equal("sessions");
    const ended = await writer.awaitTurnEnd(clientMessageId, sentAt, 30_000);
    expect(ended.done?.stopReason ?? ended.error?.code).to.be.oneOf(["stopped", "internal", "model_error"]);
    await noItemsLeft(sessionId);
    await writer.ping();
    expectOneCleanEnd(writer, ended);
  });

  it("two deletes of one session at once: both answer (a list or not_found), nothing is left", async () => {
    const [a, b] = [await tab(), await tab()];
    const turn = await a.turn(`To be deleted twice ${marker("delete-twice", user)} [[tokens:10]]`);
    const sessionId = turn.started!.sessionId;
    const answers = await Promise.all([ask(a, { action: "delete", sessionId }), ask(b, { action: "delete", sessionId })]);
    for (const answer of answers) expect(answer.type === "sessions" || answer.code === "not_found", JSON.stringify(answer)).to.equal(true);
    expect(answers.some((x) => x.type === "sessions")).to.equal(true);
    await noItemsLeft(sessionId);
  });

  it("two tabs: a rename or delete in one shows in the other's next session list; the other's open session answers as gone", async () => {
    const [one, two] = [await tab(), await tab()];
    const kept = await one.turn(`Kept ${marker("tabs-kept", user)} [[tokens:5]]`);
    const doomed = await one.turn(`Doomed ${marker("tabs-doomed", user)} [[tokens:5]]`);
    const sessionId = doomed.started!.sessionId;
    // Tab two has the doomed session open.
    const from = two.frames.length;
    two.send({ action: "history", sessionId });
    expect((await two.nextFrame((f) => f.type === "history" || f.type === "error", from)).json!.type).to.equal("history");

    expect((await ask(one, { action: "rename", sessionId: kept.started!.sessionId, title: "Renamed in tab one" })).type).to.equal("sessions");
    const listed = await ask(two, { action: "sessions" });
    expect((listed.sessions as SessionSummary[]).find((s) => s.sessionId === kept.started!.sessionId)!.title).to.equal("Renamed in tab one");

    expect((await ask(one, { action: "delete", sessionId })).type).to.equal("sessions");
    expect(idsOf(await ask(two, { action: "sessions" }))).to.not.include(sessionId);
    // Tab two goes on with its open session: a history read and a message are not_found, and the connection stays usable.
    expect(await ask(two, { action: "history", sessionId })).to.include({ type: "error", code: "not_found" });
    const late = two.startTurn("One more thing", sessionId);
    const refused = await two.awaitTurnEnd(late.clientMessageId, late.sentAt, 15_000);
    expect(refused.started, "nothing started").to.equal(undefined);
    expect(refused.error).to.include({ code: "not_found", clientMessageId: late.clientMessageId });
    expect((await two.turn(`Still chatting ${marker("tabs-after", user)} [[tokens:5]]`)).done?.stopReason).to.equal("end_turn");
    await noItemsLeft(sessionId);
  });
});
