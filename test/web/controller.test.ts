/** The chat controller's rules, driven by protocol frames in Node (no DOM): what the page would show. */
import { expect } from "chai";
import type { ClientFrame, ServerFrame, SessionSummary } from "../../runtime/protocol";
import { ChatController, type ConversationSnapshot } from "../../web/src/chat/controller";

function harness() {
  const sent: ClientFrame[] = [];
  const answered: string[] = [];
  const snapshots: ConversationSnapshot[] = [];
  const streamed: { key: string; text: string }[] = [];
  const notices: string[] = [];
  const announced: string[] = [];
  const refused: string[] = [];
  const sessionChanges: (string | null)[] = [];
  let lists: (readonly SessionSummary[])[] = [];
  let ids = 0;
  const controller = new ChatController({
    send: (frame) => sent.push(frame),
    answered: (id) => answered.push(id),
    conversation: {
      render: (snapshot) => snapshots.push(structuredClone({ ...snapshot, turns: [...snapshot.turns] })),
      streamText: (key, text) => streamed.push({ key, text }),
      notice: (message) => notices.push(message),
      announce: (message) => announced.push(message),
    },
    sessions: { render: (sessions) => (lists = [...lists, sessions]) },
    onSendRefused: (text) => refused.push(text),
    onSessionChange: (id) => sessionChanges.push(id),
    newId: () => `cm${++ids}`,
  });
  const feed = (...frames: ServerFrame[]) => frames.forEach((f) => controller.handleFrame(f));
  const last = () => snapshots[snapshots.length - 1]!;
  return { controller, sent, answered, streamed, notices, announced, refused, sessionChanges, feed, last, lists: () => lists };
}

const started = (turnId: string, clientMessageId: string, userTurnId = `u-${turnId}`): ServerFrame => ({
  type: "turn.started",
  sessionId: "s1",
  turnId,
  clientMessageId,
  region: "us-east-1",
  userTurnId,
});
const done = (turnId: string, stopReason: "end_turn" | "stopped" = "end_turn"): ServerFrame => ({
  type: "turn.done",
  turnId,
  stopReason,
  usage: { inputTokens: 3, outputTokens: 4 },
  ttftMs: 120,
});

describe("web chat controller", () => {
  it("sends a message, names it from turn.started, streams deltas in order and closes the turn", () => {
    const h = harness();
    expect(h.controller.sendMessage("  hello  ")).to.equal(null);
    expect(h.sent).to.deep.equal([{ action: "send", clientMessageId: "cm1", text: "hello" }]);
    expect(h.last().turns.map((t) => [t.role, t.status])).to.deep.equal([
      ["user", "pending"],
      ["assistant", "pending"],
    ]);
    expect(h.controller.sendMessage("again")).to.match(/Wait for the answer/);

    h.feed(started("a1", "cm1"));
    expect(h.answered).to.deep.equal(["cm1"]);
    expect(h.sessionChanges).to.deep.equal(["s1"]);
    expect(h.sent.at(-1)).to.deep.equal({ action: "sessions" });

    h.feed(
      { type: "delta", turnId: "a1", seq: 1, text: " world" },
      { type: "delta", turnId: "a1", seq: 0, text: "Hello" },
      { type: "delta", turnId: "a1", seq: 0, text: "Hello" },
      { type: "delta", turnId: "a1", seq: 2, text: "!" },
    );
    expect(h.streamed.map((s) => s.text)).to.deep.equal(["Hello world", "Hello world!"]);
    h.feed(done("a1"));
    const answer = h.last().turns[1]!;
    expect([answer.turnId, answer.text, answer.status, answer.ttftMs, answer.usage?.outputTokens, answer.region]).to.deep.equal([
      "a1",
      "Hello world!",
      "complete",
      120,
      4,
      "us-east-1",
    ]);
    expect(h.last().generatingKey).to.equal(null);
    expect(h.last().lastAnswerKey).to.equal(answer.key);

    expect(h.controller.sendMessage("second")).to.equal(null);
    expect(h.sent.at(-1)).to.deep.equal({ action: "send", clientMessageId: "cm2", text: "second", sessionId: "s1" });
  });

  it("sends stop with the turn id, or as soon as turn.started names the turn", () => {
    const h = harness();
    h.controller.sendMessage("long one");
    h.controller.stop();
    expect(h.sent.filter((f) => f.action === "stop")).to.deep.equal([]);
    h.feed(started("a1", "cm1"));
    expect(h.sent.filter((f) => f.action === "stop")).to.deep.equal([{ action: "stop", turnId: "a1" }]);
    h.feed(done("a1", "stopped"));
    expect(h.last().turns[1]!.status).to.equal("stopped");
  });

  it("regenerates the last answer in place and restores it if the server refuses", () => {
    const h = harness();
    h.controller.sendMessage("q");
    h.feed(started("a1", "cm1", "u1"), { type: "delta", turnId: "a1", seq: 0, text: "first" }, done("a1"));
    h.controller.regenerate();
    expect(h.sent.at(-1)).to.deep.equal({ action: "regenerate", turnId: "a1" });
    expect(h.last().turns.map((t) => t.status)).to.deep.equal(["complete", "pending"]);
    h.feed({ type: "error", code: "busy", message: "", turnId: "a1" });
    expect(h.last().turns.map((t) => [t.turnId, t.text])).to.deep.equal([
      ["u1", "q"],
      ["a1", "first"],
    ]);
    expect(h.notices[0]).to.match(/already being generated/);

    h.controller.regenerate();
    h.feed(started("a2", "regen", "u1"), { type: "delta", turnId: "a2", seq: 0, text: "second" }, done("a2"));
    expect(h.last().turns.map((t) => [t.turnId, t.text, t.version?.index])).to.deep.equal([
      ["u1", "q", undefined],
      ["a2", "second", 2],
    ]);
  });

  it("a regenerate refused with an error naming no turn (as the server refuses before a new turn starts) puts the answer back", () => {
    const h = harness();
    h.controller.sendMessage("q");
    h.feed(started("a1", "cm1", "u1"), { type: "delta", turnId: "a1", seq: 0, text: "first" }, done("a1"));
    h.controller.regenerate();
    h.feed({ type: "error", code: "busy", message: "that answer is still being generated; stop it first" });
    expect(h.last().turns.map((t) => [t.turnId, t.text, t.status])).to.deep.equal([
      ["u1", "q", "complete"],
      ["a1", "first", "complete"],
    ]);
    expect(h.last().generatingKey).to.equal(null);
    expect(h.notices).to.deep.equal(["That answer is still being generated. Stop it first."]);
  });

  it("a regenerate refused with not_found naming nothing while history is re-read: the answer comes back, the conversation stays open", () => {
    const h = harness();
    h.controller.openSession("s1");
    h.feed({
      type: "history",
      sessionId: "s1",
      turns: [
        { turnId: "t1", sessionId: "s1", role: "user", text: "q", status: "complete", createdAt: "a", updatedAt: "a" },
        { turnId: "t2", sessionId: "s1", role: "assistant", text: "first", status: "complete", parentTurnId: "t1", createdAt: "a", updatedAt: "a" },
      ],
    });
    h.controller.connected(true);
    h.controller.regenerate();
    expect(h.sent.at(-1)).to.deep.equal({ action: "regenerate", turnId: "t2" });
    h.feed({ type: "error", code: "not_found", message: "turn not found" });
    expect(h.controller.currentSessionId).to.equal("s1");
    expect(h.last().turns.map((t) => [t.turnId, t.text])).to.deep.equal([
      ["t1", "q"],
      ["t2", "first"],
    ]);
    expect(h.last().generatingKey).to.equal(null);
    expect(h.notices.filter((n) => /was deleted/.test(n))).to.deep.equal([]);
  });

  it("shows a refused message's error on it and hands its text back", () => {
    const h = harness();
    h.controller.sendMessage("too fast");
    h.feed({ type: "error", code: "rate_limited", message: "", clientMessageId: "cm1" });
    expect(h.answered).to.deep.equal(["cm1"]);
    expect(h.last().turns.map((t) => [t.role, t.status])).to.deep.equal([["user", "error"]]);
    expect(h.last().turns[0]!.error).to.match(/too quickly/);
    expect(h.refused).to.deep.equal(["too fast"]);
    expect(h.last().generatingKey).to.equal(null);
  });

  it("takes the open session from history and resumes a turn still streaming for another connection", () => {
    const h = harness();
    h.controller.openSession("s1");
    expect(h.sent).to.deep.equal([{ action: "history", sessionId: "s1" }]);
    h.controller.connected(false);
    expect(h.sent.filter((f) => f.action === "history")).to.have.length(1);
    const at = "2026-01-01T00:00:00Z";
    h.feed({
      type: "history",
      sessionId: "s1",
      turns: [
        { turnId: "t2", sessionId: "s1", role: "assistant", text: "partial", status: "streaming", parentTurnId: "t1", createdAt: at, updatedAt: at },
        { turnId: "t1", sessionId: "s1", role: "user", text: "q", status: "complete", createdAt: at, updatedAt: at },
      ],
    });
    expect(h.last().turns.map((t) => [t.turnId, t.status])).to.deep.equal([
      ["t1", "complete"],
      ["t2", "streaming"],
    ]);
    expect(h.last().generatingKey).to.equal("t2");
    // The page has the checkpoint's 7 characters and no frame of the turn: the server continues from there.
    expect(h.sent.at(-1)).to.deep.equal({ action: "resume", turnId: "t2", afterSeq: -1, offset: 7 });
    h.feed({ type: "delta", turnId: "t2", seq: 0, text: " and" }, { type: "delta", turnId: "t2", seq: 1, text: " done" }, done("t2"));
    expect(h.last().turns[1]).to.include({ text: "partial and done", status: "complete" });
    expect(h.last().generatingKey).to.equal(null);
    h.controller.openSession(null);
  });

  it("after a reconnect, resumes the answer streaming here from its seq and length, and tells a screen reader once", () => {
    const h = harness();
    h.controller.sendMessage("hello");
    h.feed(started("a1", "cm1"), { type: "delta", turnId: "a1", seq: 0, text: "Hel" }, { type: "delta", turnId: "a1", seq: 1, text: "lo" });
    h.controller.connected(true);
    expect(h.sent.filter((f) => f.action === "resume")).to.deep.equal([{ action: "resume", turnId: "a1", afterSeq: 1, offset: 5 }]);
    expect(h.announced).to.deep.equal(["Reconnected. The answer continues."]);
    h.feed({ type: "delta", turnId: "a1", seq: 1, text: "lo" }, { type: "delta", turnId: "a1", seq: 2, text: " there" }, done("a1"));
    expect(h.last().turns[1]).to.include({ text: "Hello there", status: "complete" });
    h.controller.connected(true);
    expect(h.announced, "nothing to resume, nothing said").to.have.length(1);
  });

  it("a message sent before a reconnect and announced after it is resumed from the start", () => {
    const h = harness();
    h.controller.sendMessage("hello");
    h.controller.connected(true);
    h.feed(started("a1", "cm1"));
    expect(h.sent.filter((f) => f.action === "resume")).to.deep.equal([{ action: "resume", turnId: "a1", afterSeq: -1, offset: 0 }]);
    h.feed({ type: "delta", turnId: "a1", seq: 0, text: "Hi" }, done("a1"));
    expect(h.last().turns[1]).to.include({ text: "Hi", status: "complete" });
  });

  it("follows a history cursor to the last page and ignores pages of a session no longer open", () => {
    const h = harness();
    h.controller.openSession("s1");
    const at = "2026-01-01T00:00:00Z";
    h.feed({ type: "history", sessionId: "s1", turns: [{ turnId: "t1", sessionId: "s1", role: "user", text: "q", status: "complete", createdAt: at, updatedAt: at }], cursor: "c1" });
    expect(h.sent.at(-1)).to.deep.equal({ action: "history", sessionId: "s1", cursor: "c1" });
    h.controller.openSession("s2");
    h.feed({ type: "history", sessionId: "s1", turns: [] });
    expect(h.last().sessionId).to.equal("s2");
    expect(h.last().turns).to.deep.equal([]);
  });

  it("joins the parts of an answer too long for one history page, and reads on until it is whole", () => {
    const h = harness();
    h.controller.openSession("s1");
    const at = "2026-01-01T00:00:00Z";
    const record = { sessionId: "s1", status: "complete" as const, createdAt: at, updatedAt: at };
    h.feed({ type: "history", sessionId: "s1", turns: [{ ...record, turnId: "t1", role: "user", text: "q" }, { ...record, turnId: "t2", role: "assistant", parentTurnId: "t1", text: "Once upon", textOffset: 0, partial: true }], cursor: "c1" });
    expect(h.sent.at(-1)).to.deep.equal({ action: "history", sessionId: "s1", cursor: "c1" });
    h.feed({ type: "history", sessionId: "s1", turns: [{ ...record, turnId: "t2", role: "assistant", parentTurnId: "t1", text: " a time", textOffset: 9, partial: true }], cursor: "c2" });
    h.feed({ type: "history", sessionId: "s1", turns: [{ ...record, turnId: "t2", role: "assistant", parentTurnId: "t1", text: ".", textOffset: 16 }] });
    expect(h.last().turns.map((t) => [t.role, t.text])).to.deep.equal([
      ["user", "q"],
      ["assistant", "Once upon a time."],
    ]);
  });

  it("lists sessions newest first", () => {
    const h = harness();
    const s = (id: string, updatedAt: string): SessionSummary => ({ sessionId: id, title: id, createdAt: updatedAt, updatedAt });
    h.feed({ type: "sessions", sessions: [s("old", "2026-01-01T00:00:00Z"), s("new", "2026-02-01T00:00:00Z")] });
    expect(h.lists().at(-1)!.map((x) => x.sessionId)).to.deep.equal(["new", "old"]);
  });
});
