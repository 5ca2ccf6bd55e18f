/**
 * `edit` and `continue` on the wire (issue 14): the real handlers with the real AWS SDK clients on the local stack
 * (gateway emulator, Bedrock emulator over HTTP/2, dynalite). The happy paths, and the bad input the contract names:
 * another user's turn is `not_found`, continuing an answer that ended `end_turn` or still streams is `bad_request`,
 * editing an answer is `bad_request`.
 */
import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { ChatClient } from "../../../bench/client";
import { startLocalStack, type LocalStack } from "../../../runtime/local/stack";
import type { HistoryFrameOut } from "../../../runtime/protocol";

describe("runtime integration: edit and continue on the wire (local stack)", function () {
  this.timeout(120_000);
  let stack: LocalStack;
  let alice: ChatClient;
  let bob: ChatClient;

  before(async function () {
    this.timeout(120_000);
    stack = await startLocalStack({
      ports: { web: 0 },
      dataDir: null,
      staticDir: "/nonexistent",
      bedrock: { timing: { timeToFirstTokenMs: 20, tokensPerSecond: 300 } },
      env: { FLUSH_INTERVAL_MS: "20", STOP_POLL_MS: "50", MAX_OUTPUT_TOKENS: "25", LOG_LEVEL: "SILENT", POWERTOOLS_LOG_LEVEL: "SILENT" },
    });
    alice = await ChatClient.connect(stack.regions[0]!.wsUrl, await stack.token("wire-alice"));
    bob = await ChatClient.connect(stack.regions[0]!.wsUrl, await stack.token("wire-bob"));
  });
  after(async () => {
    await alice?.close();
    await bob?.close();
    await stack?.stop();
  });

  /** Sends `frame` and returns the first error frame answering it. */
  async function refusal(client: ChatClient, frame: Record<string, unknown>) {
    const from = client.frames.length;
    client.send(frame);
    return (await client.nextFrame((f) => f.type === "error" || f.type === "turn.started", from)).json!;
  }

  it("continue: the same turn grows, seq continues, history holds the whole text; bad input is refused plainly", async () => {
    const cut = await alice.turn("Write a story about a ferry [[tokens:40]]");
    expect(cut.done?.stopReason).to.equal("max_tokens");
    const { turnId, userTurnId, sessionId } = cut.started!;
    expect(await refusal(bob, { action: "continue", turnId })).to.include({ type: "error", code: "not_found" });
    expect(await refusal(alice, { action: "continue", turnId: userTurnId })).to.include({ type: "error", code: "bad_request" });

    const from = alice.frames.length;
    alice.send({ action: "continue", turnId, afterSeq: cut.deltas.at(-1)!.seq });
    await alice.nextFrame((f) => f.type === "turn.started" && f.turnId === turnId, from);
    // While it streams, another continue is refused.
    const busy = await refusal(alice, { action: "continue", turnId });
    expect(busy).to.include({ type: "error", code: "bad_request" });
    expect(busy.turnId).to.equal(undefined, "a refusal does not read as the streaming turn's end");
    await alice.until(() => (alice.framesOfTurn(turnId, from).endCount > 0 ? true : undefined), 30_000, "the continuation's end");
    await alice.settle();
    const more = alice.framesOfTurn(turnId, from);
    expect(more.endCount).to.equal(1);
    expect(more.done?.stopReason).to.equal("end_turn");
    expect(more.deltas[0]!.seq).to.equal(cut.deltas.at(-1)!.seq + 1);
    const page = await history(alice, sessionId);
    expect(page.turns.map((t) => [t.role, t.status, t.stopReason])).to.deep.equal([
      ["user", "complete", undefined],
      ["assistant", "complete", "end_turn"],
    ]);
    expect(page.turns[1]!.text).to.equal(cut.text + more.text);
    // The local model went on with its answer: no repeat of the beginning at the seam.
    expect(more.text.trimStart().startsWith(cut.text.trim().slice(0, 20))).to.equal(false);
    expect(await refusal(alice, { action: "continue", turnId })).to.include({ type: "error", code: "bad_request" });
  });

  it("edit: replaces the message and the turns after it, idempotent per clientMessageId; bad input is refused", async () => {
    const first = await alice.turn("First about canals [[tokens:5]]");
    const { sessionId, userTurnId, turnId } = first.started!;
    await alice.turn("Second about locks [[tokens:5]]", sessionId);
    expect(await refusal(bob, { action: "edit", turnId: userTurnId, text: "mine", clientMessageId: randomUUID() })).to.include({ code: "not_found" });
    expect(await refusal(alice, { action: "edit", turnId, text: "an answer", clientMessageId: randomUUID() })).to.include({ code: "bad_request" });

    const clientMessageId = randomUUID();
    const frame = { action: "edit", turnId: userTurnId, text: "Better about canals [[tokens:5]]", clientMessageId };
    const from = alice.frames.length;
    alice.send(frame);
    const edited = await alice.awaitTurnEnd(clientMessageId, 0);
    expect(edited.started).to.include({ sessionId, replacesTurnId: userTurnId });
    expect(edited.done?.stopReason).to.equal("end_turn");
    alice.send(frame); // a retry of the same edit re-announces it
    await alice.until(() => (alice.frames.slice(from).filter((f) => f.json?.type === "turn.started").length >= 2 ? true : undefined), 15_000, "the re-announcement");
    await alice.settle();
    const announced = alice.frames.slice(from).filter((f) => f.json?.type === "turn.started").map((f) => f.json!.turnId);
    expect(announced).to.deep.equal([edited.started!.turnId, edited.started!.turnId]);
    const page = await history(alice, sessionId);
    expect(page.turns.map((t) => [t.role, t.text])).to.deep.equal([
      ["user", "Better about canals [[tokens:5]]"],
      ["assistant", edited.text],
    ]);
    expect(await refusal(alice, { action: "edit", turnId: userTurnId, text: "again", clientMessageId: randomUUID() })).to.include({ code: "bad_request" });
  });
});

async function history(client: ChatClient, sessionId: string): Promise<HistoryFrameOut> {
  const from = client.frames.length;
  client.send({ action: "history", sessionId });
  return (await client.nextFrame((f) => f.type === "history", from)).json as unknown as HistoryFrameOut;
}
