/**
 * Edit, continue and versions under races, on the local stack (real handlers, dynalite, the Bedrock emulator) over
 * real WebSockets: an edit racing a regenerate of the answer after it, a continue while another connection resumes
 * the same turn, and two tabs of one user doing the same thing at once. After each race, once the stack is quiet:
 * every turn announced on any connection ended exactly once (turn.done or an error naming it), no turn id is
 * announced for two turns, history holds no turn still streaming, and each turn's text in history is exactly the
 * concatenation of the deltas a client received for it.
 */
import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { ChatClient, type Received } from "../../bench/client";
import { startLocalStack, type LocalStack } from "../../runtime/local/stack";
import type { HistoryFrameOut, TurnRecord } from "../../runtime/protocol";

const RACES = 12;

describe("reliability: edit, continue and versions under races (issue 14)", function () {
  this.timeout(300_000);
  let stack: LocalStack;

  before(async function () {
    this.timeout(120_000);
    stack = await startLocalStack({
      ports: { web: 0 },
      dataDir: null,
      staticDir: "/nonexistent",
      bedrock: { timing: { timeToFirstTokenMs: 20, tokensPerSecond: 150 } },
      // A short length limit: answers are cut (max_tokens), so there is something to continue.
      env: { FLUSH_INTERVAL_MS: "20", STOP_POLL_MS: "50", MESSAGES_PER_MINUTE: "10000", MAX_CONCURRENT_PER_USER: "10", MAX_CONCURRENT_PER_CONNECTION: "5", MAX_OUTPUT_TOKENS: "30", LOG_LEVEL: "SILENT", POWERTOOLS_LOG_LEVEL: "SILENT" },
    });
  });
  after(async () => stack?.stop());

  const connect = async (user: string) => ChatClient.connect(stack.regions[0]!.wsUrl, await stack.token(user));

  it(`an edit racing a regenerate (${RACES} times): consistent history, every turn ends once, nothing lost or doubled`, async () => {
    const problems: string[] = [];
    for (let i = 0; i < RACES; i++) {
      const user = `edit-race-${i}`;
      const [tab1, tab2] = await Promise.all([connect(user), connect(user)]);
      try {
        const first = await tab1.turn(`Tell me about harbours ${i} [[tokens:10]]`);
        const { sessionId, turnId: answerId, userTurnId } = first.started!;
        const from = [tab1.frames.length, tab2.frames.length];
        // Both at once, from two tabs; which lands first varies from run to run.
        const editId = randomUUID();
        const edit = () => tab1.send({ action: "edit", turnId: userTurnId, text: `Tell me about lighthouses ${i} [[tokens:10]]`, clientMessageId: editId });
        const regenerate = () => tab2.send({ action: "regenerate", turnId: answerId });
        if (i % 3 === 0) {
          edit();
          regenerate();
        } else if (i % 3 === 1) {
          regenerate();
          edit();
        } else {
          // The regenerate's answer is already streaming when the edit comes: the edit is refused (`busy`).
          regenerate();
          await tab2.nextFrame((f) => f.type === "turn.started" || f.type === "error", from[1], 30_000);
          edit();
        }
        // Each side answers: a turn.started (then its end), or an error that starts nothing.
        await tab1.until(() => (answered(tab1.frames.slice(from[0])) ? true : undefined), 30_000, "the edit's answer");
        await tab2.until(() => (answered(tab2.frames.slice(from[1])) ? true : undefined), 30_000, "the regenerate's answer");
        const announced = [...startedIn(tab1.frames.slice(from[0]), 0), ...startedIn(tab2.frames.slice(from[1]), 1)];
        for (const { client, turnId } of announced.map((a) => ({ ...a, client: a.tab === 0 ? tab1 : tab2 }))) {
          await client.until(() => (client.framesOfTurn(turnId).endCount > 0 ? true : undefined), 30_000, `the end of ${turnId}`);
        }
        await Promise.all([tab1.settle(), tab2.settle()]);
        const turns = await history(tab1, sessionId);
        problems.push(...check(`race ${i}`, [tab1, tab2], announced.map((a) => a.turnId), turns));
        // What the page shows: one message (the edit won, or the regenerate came first and the edit still replaced
        // the message) and its answers; an answer whose message was dropped is shown by no one.
        const users = turns.filter((t) => t.role === "user");
        if (users.length !== 1) problems.push(`race ${i}: ${users.length} user turns in history`);
        const editStarted = announced.some((a) => a.tab === 0);
        if (i % 3 === 2 && !editStarted) {
          const refusal = tab1.frames.slice(from[0]).map((f) => f.json).find((j) => j?.type === "error");
          if (refusal?.code !== "busy" || !/stop it, then edit/.test(String(refusal.message))) problems.push(`race ${i}: the edit was refused with ${JSON.stringify(refusal)}`);
        }
        if (editStarted && users[0]?.text.startsWith("Tell me about lighthouses") !== true) problems.push(`race ${i}: the edit started but history shows "${users[0]?.text}"`);
        const shown = turns.filter((t) => t.role === "assistant" && t.parentTurnId === users[0]?.turnId);
        if (shown.length === 0) problems.push(`race ${i}: no answer to the message in history`);
      } finally {
        await Promise.all([tab1.close(), tab2.close()]);
      }
    }
    expect(problems).to.deep.equal([]);
  });

  it("continue while another connection resumes the same turn: both get exactly the text they lack, one end each", async () => {
    const user = "continue-resume";
    const [tab1, tab2] = await Promise.all([connect(user), connect(user)]);
    try {
      const first = await tab1.turn("Write a long story about a lighthouse keeper [[tokens:200]]");
      expect(first.done?.stopReason).to.equal("max_tokens");
      const { sessionId, turnId } = first.started!;
      const lastSeq = first.deltas[first.deltas.length - 1]!.seq;
      const from1 = tab1.frames.length;
      tab1.send({ action: "continue", turnId, afterSeq: lastSeq });
      await tab1.nextFrame((f) => f.type === "turn.started" && f.turnId === turnId, from1, 15_000);
      // The other tab read the turn before (it has the first part) and resumes it while it is continued.
      tab2.send({ action: "resume", turnId, afterSeq: -1, offset: first.text.length });
      await tab1.until(() => (tab1.framesOfTurn(turnId, from1).endCount > 0 ? true : undefined), 30_000, "the continuation's end");
      await tab2.until(() => (tab2.framesOfTurn(turnId).endCount > 0 ? true : undefined), 30_000, "the resumed end");
      await Promise.all([tab1.settle(), tab2.settle()]);
      const more = tab1.framesOfTurn(turnId, from1);
      const resumed = tab2.framesOfTurn(turnId);
      const saved = (await history(tab1, sessionId)).find((t) => t.turnId === turnId)!;
      expect(more.started?.continues).to.deep.equal({ seq: lastSeq + 1, offset: first.text.length });
      expect(more.deltas.map((d) => d.seq)).to.deep.equal(more.deltas.map((_, k) => lastSeq + 1 + k), "tab 1's seq goes on from its last one");
      expect(resumed.deltas.map((d) => d.seq)).to.deep.equal(resumed.deltas.map((_, k) => k), "tab 2's seq starts at afterSeq + 1");
      expect(first.text + more.text).to.equal(saved.text);
      expect(first.text + resumed.text).to.equal(saved.text);
      expect(saved.text.length).to.be.greaterThan(first.text.length);
      expect([more.endCount, resumed.endCount]).to.deep.equal([1, 1]);
      expect(saved.status).to.equal("complete");
    } finally {
      await Promise.all([tab1.close(), tab2.close()]);
    }
  });

  it("two tabs continue the same answer at once: one goes on, the other is told plainly; two tabs edit one message: one wins", async () => {
    const user = "two-tabs";
    const [tab1, tab2] = await Promise.all([connect(user), connect(user)]);
    try {
      const first = await tab1.turn("Write a long story about a harbour [[tokens:200]]");
      const { sessionId, turnId, userTurnId } = first.started!;
      const from = [tab1.frames.length, tab2.frames.length];
      tab1.send({ action: "continue", turnId });
      tab2.send({ action: "continue", turnId });
      await tab1.until(() => (answered(tab1.frames.slice(from[0])) ? true : undefined), 30_000, "tab 1's answer");
      await tab2.until(() => (answered(tab2.frames.slice(from[1])) ? true : undefined), 30_000, "tab 2's answer");
      const starts = [startedIn(tab1.frames.slice(from[0])).length, startedIn(tab2.frames.slice(from[1])).length];
      expect(starts[0]! + starts[1]!).to.equal(1, "one continuation");
      const winner = starts[0] === 1 ? tab1 : tab2;
      const loser = starts[0] === 1 ? tab2 : tab1;
      const refusal = loser.frames.slice(from[starts[0] === 1 ? 1 : 0]).map((f) => f.json).find((j) => j?.type === "error");
      expect(refusal).to.include({ code: "bad_request" });
      expect(refusal!.turnId).to.equal(undefined, "a refusal does not read as the turn's end");
      expect(String(refusal!.message)).to.match(/wait for it to end/);
      await winner.until(() => (winner.framesOfTurn(turnId, from[winner === tab1 ? 0 : 1]).endCount > 0 ? true : undefined), 30_000, "the continuation's end");
      await Promise.all([tab1.settle(), tab2.settle()]);
      const more = winner.framesOfTurn(turnId, from[winner === tab1 ? 0 : 1]);
      let turns = await history(tab1, sessionId);
      expect(turns.find((t) => t.turnId === turnId)!.text).to.equal(first.text + more.text);

      const at = [tab1.frames.length, tab2.frames.length];
      tab1.send({ action: "edit", turnId: userTurnId, text: "From tab one [[tokens:5]]", clientMessageId: randomUUID() });
      tab2.send({ action: "edit", turnId: userTurnId, text: "From tab two [[tokens:5]]", clientMessageId: randomUUID() });
      await tab1.until(() => (answered(tab1.frames.slice(at[0])) ? true : undefined), 30_000, "tab 1's edit");
      await tab2.until(() => (answered(tab2.frames.slice(at[1])) ? true : undefined), 30_000, "tab 2's edit");
      const announced = [...startedIn(tab1.frames.slice(at[0]), 0), ...startedIn(tab2.frames.slice(at[1]), 1)];
      expect(announced).to.have.length(1, "one edit wins");
      const edited = announced[0]!.tab === 0 ? tab1 : tab2;
      await edited.until(() => (edited.framesOfTurn(announced[0]!.turnId).endCount > 0 ? true : undefined), 30_000, "the edit's answer");
      await Promise.all([tab1.settle(), tab2.settle()]);
      turns = await history(tab1, sessionId);
      expect(turns.map((t) => t.role)).to.deep.equal(["user", "assistant"]);
      expect(turns[0]!.text).to.equal(announced[0]!.tab === 0 ? "From tab one [[tokens:5]]" : "From tab two [[tokens:5]]");
      expect(check("two tabs", [tab1, tab2], announced.map((a) => a.turnId), turns)).to.deep.equal([]);
    } finally {
      await Promise.all([tab1.close(), tab2.close()]);
    }
  });
});

/** Whether a connection has its answer to the one action it sent: a turn started, or an error. */
function answered(frames: Received[]): boolean {
  return frames.some((f) => f.json?.type === "turn.started" || f.json?.type === "error");
}

function startedIn(frames: Received[], tab = 0): { tab: number; turnId: string }[] {
  return frames.filter((f) => f.json?.type === "turn.started").map((f) => ({ tab, turnId: String(f.json!.turnId) }));
}

async function history(client: ChatClient, sessionId: string): Promise<TurnRecord[]> {
  const from = client.frames.length;
  client.send({ action: "history", sessionId });
  const page = await client.nextFrame((f) => f.type === "history" || f.type === "error", from, 15_000);
  return (page.json as HistoryFrameOut | undefined)?.turns ?? [];
}

/** The invariants of one race, from every connection's frames and the history read once the stack was quiet. */
function check(label: string, clients: ChatClient[], announced: string[], turns: TurnRecord[]): string[] {
  const problems: string[] = [];
  if (new Set(announced).size !== announced.length) problems.push(`${label}: a turn announced twice ${JSON.stringify(announced)}`);
  for (const turn of turns) if (turn.status === "streaming") problems.push(`${label}: ${turn.turnId} still streaming in history`);
  for (const turnId of announced) {
    const ends = clients.map((c) => c.framesOfTurn(turnId).endCount).reduce((a, b) => a + b, 0);
    if (ends !== 1) problems.push(`${label}: ${turnId} ended ${ends} times`);
    const text = clients.map((c) => c.framesOfTurn(turnId).text).join("");
    const saved = turns.find((t) => t.turnId === turnId);
    if (saved !== undefined && saved.text !== text) problems.push(`${label}: ${turnId} saved "${saved.text.length}" chars, delivered ${text.length}`);
  }
  return problems;
}
