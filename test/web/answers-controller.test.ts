/** The chat controller's rules for edit, continue and versions (issue 14), driven by frames in Node (no DOM). */
import { expect } from "chai";
import type { ClientFrame, ServerFrame, TurnRecord } from "../../runtime/protocol";
import { ChatController, type ConversationSnapshot } from "../../web/src/chat/controller";
import { describeError } from "../../web/src/chat/errors";

function harness() {
  const sent: ClientFrame[] = [];
  const snapshots: ConversationSnapshot[] = [];
  const notices: string[] = [];
  let ids = 0;
  const controller = new ChatController({
    send: (frame) => sent.push(frame),
    answered: () => undefined,
    conversation: {
      render: (snapshot) => snapshots.push(structuredClone({ ...snapshot, turns: [...snapshot.turns] })),
      streamText: () => undefined,
      notice: (message) => notices.push(message),
    },
    sessions: { render: () => undefined },
    onSessionChange: () => undefined,
    newId: () => `cm${++ids}`,
  });
  const feed = (...frames: ServerFrame[]) => frames.forEach((f) => controller.handleFrame(f));
  const last = () => snapshots[snapshots.length - 1]!;
  const shown = () => last().turns.map((t) => [t.role, t.text, t.status]);
  return { controller, sent, notices, feed, last, shown };
}

const at = "2026-12-04T21:00:00.000Z";
const record = (turnId: string, role: "user" | "assistant", text: string, extra: Partial<TurnRecord> = {}): TurnRecord => ({
  turnId,
  sessionId: "s1",
  role,
  text,
  status: "complete",
  createdAt: at,
  updatedAt: at,
  ...extra,
});

/** A page with one session open and its history read. */
function opened(turns: TurnRecord[]) {
  const h = harness();
  h.controller.openSession("s1");
  h.feed({ type: "history", sessionId: "s1", turns });
  return h;
}

describe("web chat controller: edit, continue, versions (issue 14)", () => {
  it("edit: replaces the message and what follows it, sends edit, and follows the new answer", () => {
    const h = opened([record("t1", "user", "first"), record("t2", "assistant", "answer one", { parentTurnId: "t1" }), record("t3", "user", "second"), record("t4", "assistant", "answer two", { parentTurnId: "t3" })]);
    const userKey = h.last().turns[0]!.key;
    expect(h.controller.editMessage(userKey, "  ")).to.match(/Type a message/);
    expect(h.controller.editMessage(userKey, "first, better")).to.equal(null);
    expect(h.sent.at(-1)).to.deep.equal({ action: "edit", turnId: "t1", text: "first, better", clientMessageId: "cm1" });
    expect(h.shown()).to.deep.equal([
      ["user", "first, better", "pending"],
      ["assistant", "", "pending"],
    ]);
    expect(h.last().turns[0]!.createdAt).to.be.a("string");
    h.feed({ type: "turn.started", sessionId: "s1", turnId: "t6", clientMessageId: "cm1", region: "us-east-1", userTurnId: "t5", replacesTurnId: "t1" });
    h.feed({ type: "delta", turnId: "t6", seq: 0, text: "new answer" }, { type: "turn.done", turnId: "t6", stopReason: "end_turn", usage: { inputTokens: 1, outputTokens: 2 }, ttftMs: 5 });
    expect(h.shown()).to.deep.equal([
      ["user", "first, better", "complete"],
      ["assistant", "new answer", "complete"],
    ]);
    // A history page read before the edit landed does not bring the replaced turns back.
    h.feed({ type: "history", sessionId: "s1", turns: [record("t5", "user", "first, better"), record("t6", "assistant", "new answer", { parentTurnId: "t5" })] });
    expect(h.shown().map((t) => t[1])).to.deep.equal(["first, better", "new answer"]);
  });

  it("edit refused (e.g. busy): the conversation comes back as it was, with the reason in words", () => {
    const h = opened([record("t1", "user", "first"), record("t2", "assistant", "answer one", { parentTurnId: "t1" })]);
    h.controller.editMessage(h.last().turns[0]!.key, "changed");
    h.feed({ type: "error", code: "busy", message: "an answer after this message is still being written", clientMessageId: "cm1" });
    expect(h.shown()).to.deep.equal([
      ["user", "first", "complete"],
      ["assistant", "answer one", "complete"],
    ]);
    expect(h.last().generatingKey).to.equal(null);
    expect(h.notices).to.have.length(1);
  });

  it("continue: offered for an answer cut at the length limit; its deltas append from the announced seq and offset", () => {
    const h = opened([record("t1", "user", "q"), record("t2", "assistant", "Once upon", { parentTurnId: "t1", stopReason: "max_tokens" })]);
    const key = h.last().turns[1]!.key;
    h.controller.continueAnswer(key);
    expect(h.sent.at(-1)).to.deep.equal({ action: "continue", turnId: "t2", afterSeq: -1 });
    expect(h.last().generatingKey).to.equal(key);
    h.feed({ type: "turn.started", sessionId: "s1", turnId: "t2", clientMessageId: "m", region: "us-east-1", userTurnId: "t1", continues: { seq: 0, offset: 9 } });
    h.feed({ type: "delta", turnId: "t2", seq: 1, text: " time." }, { type: "delta", turnId: "t2", seq: 0, text: " a" });
    h.feed({ type: "turn.done", turnId: "t2", stopReason: "end_turn", usage: { inputTokens: 1, outputTokens: 2 }, ttftMs: 5 });
    expect(h.shown()).to.deep.equal([
      ["user", "q", "complete"],
      ["assistant", "Once upon a time.", "complete"],
    ]);
  });

  it("continue goes on from the last seq this page applied, and a refusal leaves the answer as it was", () => {
    const h = harness();
    h.controller.sendMessage("q");
    h.feed({ type: "turn.started", sessionId: "s1", turnId: "a1", clientMessageId: "cm1", region: "us-east-1", userTurnId: "u1" });
    h.feed({ type: "delta", turnId: "a1", seq: 0, text: "part" }, { type: "delta", turnId: "a1", seq: 1, text: "ial" });
    h.feed({ type: "turn.done", turnId: "a1", stopReason: "stopped", usage: { inputTokens: 1, outputTokens: 2 }, ttftMs: 5 });
    const key = h.last().turns[1]!.key;
    h.controller.continueAnswer(key);
    expect(h.sent.at(-1)).to.deep.equal({ action: "continue", turnId: "a1", afterSeq: 1 });
    h.feed({ type: "error", code: "rate_limited", message: "at most 2 answers at a time", retryAfterMs: 5000 });
    expect(h.shown()[1]).to.deep.equal(["assistant", "partial", "stopped"]);
    expect(h.last().generatingKey).to.equal(null);
    expect(h.notices).to.have.length(1);
  });

  it("says a refused edit or continue in the server's plain words, with what to do next", () => {
    expect(describeError({ code: "bad_request", message: "that answer is still being written; wait for it to end" })).to.equal("That answer is still being written. Wait for it to end.");
    expect(describeError({ code: "busy", message: "an answer after this message is still being written; stop it, then edit" })).to.equal(
      "An answer after this message is still being written. Stop it, then edit.",
    );
    expect(describeError({ code: "bad_request", message: "that message was already replaced; reload the conversation to see the latest" })).to.equal(
      "That message was already replaced. Reload the conversation to see the latest.",
    );
    // A malformed frame keeps the general words.
    expect(describeError({ code: "bad_request", message: "frame is not JSON" })).to.match(/^The server could not read that request/);
  });

  it("versions: history's earlier answers are reachable as 1 of N; Regenerate applies to the latest", () => {
    const h = opened([
      record("t1", "user", "q"),
      record("t2", "assistant", "one", { parentTurnId: "t1", supersededBy: "t3" }),
      record("t3", "assistant", "two", { parentTurnId: "t1", supersededBy: "t4" }),
      record("t4", "assistant", "three", { parentTurnId: "t1" }),
    ]);
    const answer = () => h.last().turns[1]!;
    expect([answer().text, answer().version]).to.deep.equal(["three", { index: 3, count: 3, latestTurnId: "t4" }]);
    h.controller.showVersion(answer().key, 1);
    expect([answer().text, answer().version?.index]).to.deep.equal(["one", 1]);
    h.controller.regenerate();
    expect(h.sent.at(-1)).to.deep.equal({ action: "regenerate", turnId: "t4" });
    expect(answer().version).to.deep.include({ index: 4, count: 4 });
  });
});
