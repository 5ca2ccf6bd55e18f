/** The page's conversation rules in Node (no DOM): search, export, and the controller's rename, delete and "gone". */
import { expect } from "chai";
import type { ClientFrame, ServerFrame, SessionSummary, TurnRecord } from "../../runtime/protocol";
import { ChatController } from "../../web/src/chat/controller";
import { EXPORT_FORMAT, exportFileName, exportJson, exportMarkdown } from "../../web/src/chat/export";
import { ConversationSearch } from "../../web/src/chat/search";

const session = (sessionId: string, title: string, updatedAt = "2026-12-04T10:00:00.000Z"): SessionSummary => ({ sessionId, title, createdAt: "2026-12-04T09:00:00.000Z", updatedAt });

describe("web conversations: search", () => {
  const sessions = [session("s1", "Trip to Lisbon"), session("s2", "Sourdough starter"), session("s3", "Café opening hours")];

  it("matches every word in the title or the loaded text, any case and accents, keeping the list order", () => {
    const search = new ConversationSearch();
    search.remember("s2", [{ text: "How do I feed it?" }, { text: "Feed the starter flour and water\n\nevery day." }]);
    expect(search.filter(sessions, "").map((h) => h.session.sessionId)).to.deep.equal(["s1", "s2", "s3"]);
    expect(search.filter(sessions, "LISBON").map((h) => h.session.sessionId)).to.deep.equal(["s1"]);
    expect(search.filter(sessions, "cafe").map((h) => h.session.sessionId)).to.deep.equal(["s3"]);
    expect(search.filter(sessions, "starter water")).to.deep.equal([{ session: sessions[1], excerpt: "…Feed the starter flour and water every day." }]);
    expect(search.filter(sessions, "water lisbon")).to.deep.equal([]);
  });

  it("shows an excerpt around a text match, cut with ellipses; forgets a deleted conversation", () => {
    const search = new ConversationSearch();
    search.remember("s1", [{ text: `${"a ".repeat(60)}the tram number 28 climbs to the castle ${"b ".repeat(60)}` }]);
    const [hit] = search.filter(sessions, "tram");
    expect(hit!.excerpt).to.match(/^….*the tram number 28 climbs.*…$/);
    expect(hit!.excerpt!.length).to.be.below(80);
    search.forget("s1");
    expect(search.filter(sessions, "tram")).to.deep.equal([]);
  });
});

describe("web conversations: export", () => {
  const turns: TurnRecord[] = [
    { turnId: "t1", sessionId: "s1", role: "user", text: "Hello?", status: "complete", createdAt: "a", updatedAt: "a" },
    { turnId: "t2", sessionId: "s1", role: "assistant", text: "Hi **there**.\n", status: "stopped", parentTurnId: "t1", usage: { inputTokens: 1, outputTokens: 2 }, model: "m", createdAt: "b", updatedAt: "c", partial: false },
  ];

  it("JSON: the format, the session and the turns as stored, without paging fields", () => {
    const doc = JSON.parse(exportJson(session("s1", "Greeting"), turns, new Date("2026-12-04T12:00:00Z"))) as Record<string, unknown>;
    expect(doc).to.deep.equal({
      format: EXPORT_FORMAT,
      exportedAt: "2026-12-04T12:00:00.000Z",
      session: session("s1", "Greeting"),
      turns: [turns[0], { ...turns[1], partial: undefined }].map((t) => JSON.parse(JSON.stringify(t)) as unknown),
    });
  });

  it("Markdown: a heading per speaker, the text as written, and a note for an answer that did not end normally", () => {
    const md = exportMarkdown(session("s1", "Greeting"), turns, new Date("2026-12-04T12:00:00Z"));
    expect(md).to.equal(
      "# Greeting\n\n_Exported 2026-12-04T12:00:00.000Z · started 2026-12-04T09:00:00.000Z_\n\n## You\n\nHello?\n\n## Assistant\n\nHi **there**.\n\n_(stopped before the end)_\n",
    );
  });

  it("a regenerated answer: the JSON keeps every version (supersededBy), the Markdown the current one and a count", () => {
    const versions: TurnRecord[] = [
      turns[0]!,
      { turnId: "t2", sessionId: "s1", role: "assistant", text: "First try.", status: "complete", stopReason: "end_turn", parentTurnId: "t1", supersededBy: "t3", createdAt: "b", updatedAt: "b" },
      { turnId: "t3", sessionId: "s1", role: "assistant", text: "Second try.", status: "complete", stopReason: "end_turn", parentTurnId: "t1", createdAt: "c", updatedAt: "c" },
    ];
    const doc = JSON.parse(exportJson(session("s1", "Greeting"), versions)) as { turns: TurnRecord[] };
    expect(doc.turns.map((t) => [t.turnId, t.supersededBy ?? null, t.stopReason ?? null])).to.deep.equal([
      ["t1", null, null],
      ["t2", "t3", "end_turn"],
      ["t3", null, "end_turn"],
    ]);
    const md = exportMarkdown(session("s1", "Greeting"), versions);
    expect(md).to.not.contain("First try.");
    expect(md).to.contain("## Assistant\n\nSecond try.\n\n_(regenerated: 1 earlier version in the JSON export)_\n");
  });

  it("file names from the title: plain letters and dashes, short, never empty", () => {
    expect(exportFileName("Café: plans for 2027!", "md")).to.equal("cafe-plans-for-2027.md");
    expect(exportFileName("   ", "json")).to.equal("chat.json");
    expect(exportFileName("x".repeat(100), "md")).to.equal(`${"x".repeat(60)}.md`);
  });
});

describe("web conversations: the controller's rename, delete and a conversation gone elsewhere", () => {
  function harness() {
    const sent: ClientFrame[] = [];
    const notices: string[] = [];
    const changes: (string | null)[] = [];
    const refused: string[] = [];
    let list: readonly SessionSummary[] = [];
    const controller = new ChatController({
      send: (frame) => sent.push(frame),
      answered: () => undefined,
      conversation: { render: () => undefined, streamText: () => undefined, notice: (m) => notices.push(m) },
      sessions: { render: (sessions) => (list = sessions) },
      onSessionChange: (id) => changes.push(id),
      onSendRefused: (text) => refused.push(text),
      newId: () => "cm1",
    });
    const feed = (frame: ServerFrame) => controller.handleFrame(frame);
    return { controller, sent, notices, changes, refused, feed, list: () => list.map((s) => `${s.sessionId}:${s.title}`) };
  }
  const sessions = (...list: SessionSummary[]): ServerFrame => ({ type: "sessions", sessions: list });

  it("renames at once in the list and sends `rename`; deletes at once, sends `delete`, and leaves the conversation when it was open", () => {
    const h = harness();
    h.feed(sessions(session("s1", "One"), session("s2", "Two")));
    h.controller.openSession("s1");
    h.controller.renameSession("s2", "Second");
    expect(h.list()).to.deep.equal(["s1:One", "s2:Second"]);
    expect(h.sent.at(-1)).to.deep.equal({ action: "rename", sessionId: "s2", title: "Second" });
    h.controller.deleteSession("s1");
    expect(h.sent.at(-1)).to.deep.equal({ action: "delete", sessionId: "s1" });
    expect(h.list()).to.deep.equal(["s2:Second"]);
    expect(h.controller.currentSessionId).to.equal(null);
    expect(h.changes.at(-1)).to.equal(null);
    expect(h.notices).to.deep.equal([], "the user deleted it: no alarm");
  });

  it("a list without the open conversation asks history once; not_found then closes it with words that say what to do", () => {
    const h = harness();
    h.feed(sessions(session("s1", "One"), session("s2", "Two")));
    h.controller.openSession("s1");
    h.feed({ type: "history", sessionId: "s1", turns: [] });
    const before = h.sent.length;
    h.feed(sessions(session("s2", "Two")));
    expect(h.sent.slice(before)).to.deep.equal([{ action: "history", sessionId: "s1" }]);
    h.feed({ type: "error", code: "not_found", message: "session not found" });
    expect(h.controller.currentSessionId).to.equal(null);
    expect(h.notices).to.have.length(1);
    expect(h.notices[0]).to.match(/deleted.*Start a new chat or pick another conversation\./);
  });

  it("a message into a conversation deleted elsewhere: the message goes back to the box, then the conversation closes", () => {
    const h = harness();
    h.feed(sessions(session("s1", "One")));
    h.controller.openSession("s1");
    h.feed({ type: "history", sessionId: "s1", turns: [] });
    h.controller.sendMessage("Still there?");
    h.feed({ type: "error", code: "not_found", message: "session not found", clientMessageId: "cm1" });
    expect(h.sent.at(-1)).to.deep.equal({ action: "history", sessionId: "s1" });
    h.feed({ type: "error", code: "not_found", message: "session not found" });
    expect(h.controller.currentSessionId).to.equal(null);
    expect(h.refused).to.deep.equal(["Still there?"]);
    expect(h.notices.at(-1)).to.match(/This conversation was deleted/);
  });

  it("a not_found naming nothing while the open conversation loads (a delete of a conversation already gone elsewhere) does not close it: the list says it exists", () => {
    const h = harness();
    h.feed(sessions(session("s1", "One"), session("s2", "Two")));
    h.controller.openSession("s1");
    // Tab 1 deleted s2 already; this tab's list is stale, and s1's history is still being read.
    h.controller.deleteSession("s2");
    const before = h.sent.length;
    h.feed({ type: "error", code: "not_found", message: "session not found" });
    expect(h.controller.currentSessionId).to.equal("s1");
    expect(h.sent.slice(before)).to.deep.equal([{ action: "sessions" }]);
    h.feed(sessions(session("s1", "One")));
    expect(h.sent.slice(before)).to.deep.equal([{ action: "sessions" }], "listed: no check of its history");
    h.feed({ type: "history", sessionId: "s1", turns: [{ turnId: "t1", sessionId: "s1", role: "user", text: "Hi", status: "complete", createdAt: "a", updatedAt: "a" }] });
    expect(h.controller.currentSessionId).to.equal("s1");
    expect(h.notices.filter((n) => /was deleted/.test(n))).to.deep.equal([]);
  });

  it("a not_found naming nothing while the open conversation loads, and a list without it: history confirms before it closes", () => {
    const h = harness();
    h.feed(sessions(session("s1", "One"), session("s2", "Two")));
    h.controller.openSession("s1");
    const before = h.sent.length;
    h.feed({ type: "error", code: "not_found", message: "session not found" });
    expect(h.controller.currentSessionId).to.equal("s1");
    h.feed(sessions(session("s2", "Two")));
    expect(h.sent.slice(before)).to.deep.equal([{ action: "sessions" }, { action: "history", sessionId: "s1" }]);
    h.feed({ type: "error", code: "not_found", message: "session not found" });
    expect(h.controller.currentSessionId).to.equal(null);
    expect(h.notices.at(-1)).to.match(/This conversation was deleted/);
  });

  it("a list without the open conversation that still exists (older than the list) keeps it open", () => {
    const h = harness();
    h.controller.openSession("old");
    h.feed({ type: "history", sessionId: "old", turns: [] });
    h.feed(sessions(session("s2", "Two")));
    h.feed({ type: "history", sessionId: "old", turns: [] });
    expect(h.controller.currentSessionId).to.equal("old");
    expect(h.notices).to.deep.equal([]);
  });
});
