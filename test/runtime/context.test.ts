import { expect } from "chai";
import { buildContext, contextBefore, estimateTokens } from "../../runtime/chat/context";
import { ContextReach } from "../../runtime/chat/context-reach";
import type { Turn } from "../../runtime/chat/ports";
import { MemoryHistory } from "./fakes";

const SESSION = "11111111-1111-4111-8111-111111111111";
let clock = 0;

function turn(role: "user" | "assistant", text: string, extra: Partial<Turn> = {}): Turn {
  clock++;
  const id = `t${String(clock).padStart(4, "0")}`;
  return { turnId: id, sessionId: SESSION, userId: "u", role, text, status: "complete", clientMessageId: "m", createdAt: "", updatedAt: "", ...extra };
}

async function seed(turns: Turn[]): Promise<MemoryHistory> {
  const history = new MemoryHistory();
  for (const t of turns) await history.putTurn(t);
  return history;
}

function exchange(q: string, a: string, answer: Partial<Turn> = {}): Turn[] {
  const user = turn("user", q);
  return [user, turn("assistant", a, { parentTurnId: user.turnId, ...answer })];
}

describe("runtime/chat/context: the history sent to the model", () => {
  it("keeps roles alternating, oldest first, ending with the prompt", async () => {
    const turns = [...exchange("q1", "a1"), ...exchange("q2", "a2")];
    const prompt = turn("user", "q3");
    const history = await seed([...turns, prompt]);
    expect(await buildContext(history, prompt, 10_000)).to.deep.equal([
      { role: "user", text: "q1" },
      { role: "assistant", text: "a1" },
      { role: "user", text: "q2" },
      { role: "assistant", text: "a2" },
      { role: "user", text: "q3" },
    ]);
  });

  it("leaves out failed, blocked, streaming, empty and superseded answers together with their questions", async () => {
    const turns = [
      ...exchange("kept", "yes"),
      ...exchange("failed", "partial", { status: "error" }),
      ...exchange("blocked", "no", { status: "guardrail" }),
      ...exchange("running", "", { status: "streaming" }),
      ...exchange("stopped early", "half", { status: "stopped" }),
      ...exchange("stopped empty", "", { status: "stopped" }),
    ];
    const regenerated = exchange("regenerated", "old answer", { supersededBy: "x" });
    const replacement = turn("assistant", "new answer", { parentTurnId: regenerated[0]!.turnId });
    const unanswered = turn("user", "never answered");
    const prompt = turn("user", "now");
    const history = await seed([...turns, ...regenerated, replacement, unanswered, prompt]);
    const messages = (await buildContext(history, prompt, 10_000))!;
    expect(messages.map((m) => m.text)).to.deep.equal(["kept", "yes", "stopped early", "half", "regenerated", "new answer", "now"]);
    messages.forEach((m, i) => expect(m.role).to.equal(i % 2 === 0 ? "user" : "assistant"));
  });

  it("takes the newest exchanges that fit the budget and stops reading", async () => {
    const long = "x".repeat(400); // ~104 tokens each way
    const turns = Array.from({ length: 30 }, (_, i) => exchange(`q${i} ${long}`, `a${i} ${long}`)).flat();
    const prompt = turn("user", "latest");
    const history = await seed([...turns, prompt]);
    const budget = estimateTokens("latest") + 3 * 2 * estimateTokens(`q0 ${long}`) + 10;
    const messages = (await buildContext(history, prompt, budget))!;
    expect(messages.map((m) => m.text.split(" ")[0])).to.deep.equal(["q27", "a27", "q28", "a28", "q29", "a29", "latest"]);
    const used = messages.reduce((n, m) => n + estimateTokens(m.text), 0);
    expect(used).to.be.at.most(budget);
  });

  it("always sends the prompt, even when it alone exceeds the budget", async () => {
    const prompt = turn("user", "y".repeat(2000));
    const history = await seed([...exchange("q", "a"), prompt]);
    expect(await buildContext(history, prompt, 100)).to.deep.equal([{ role: "user", text: prompt.text }]);
  });

  it("for a regenerated answer, uses only the turns before the question", async () => {
    const first = exchange("q1", "a1");
    const second = exchange("q2", "a2");
    const later = exchange("q3", "a3");
    const history = await seed([...first, ...second, ...later]);
    const messages = (await buildContext(history, second[0]!, 10_000))!;
    expect(messages.map((m) => m.text)).to.deep.equal(["q1", "a1", "q2"]);
  });

  it("reads the prompt in the same Query as the history; a missing or non-user turn gives no context", async () => {
    const earlier = exchange("q1", "a1");
    const prompt = turn("user", "q2");
    const history = await seed([...earlier, prompt]);
    history.calls = {};
    expect(await buildContext(history, { sessionId: SESSION, turnId: prompt.turnId }, 10_000)).to.deep.equal([
      { role: "user", text: "q1" },
      { role: "assistant", text: "a1" },
      { role: "user", text: "q2" },
    ]);
    expect(history.calls).to.deep.equal({ turnsUpTo: 1 });
    expect(await buildContext(history, { sessionId: SESSION, turnId: "t9999" }, 10_000)).to.equal(undefined);
    const answer = [...history.turns.values()].find((t) => t.role === "assistant")!;
    expect(await buildContext(history, answer, 10_000)).to.equal(undefined);
  });
});

describe("runtime/chat/context-reach: the first page of a session's next context", () => {
  it("asks for a full page until the session's context was built once, then for about as far as it reached", async () => {
    // 30 exchanges of ~100 bytes each: a 1,000-token budget takes about 9 of them.
    const turns = Array.from({ length: 30 }, (_, i) => exchange(`q${i} ${"x".repeat(40)}`, `a${i} ${"y".repeat(40)}`)).flat();
    const history = await seed(turns);
    const reach = new ContextReach();
    const next = turn("user", "now");
    const first = await contextBefore(history, { sessionId: SESSION, beforeTurnId: next.turnId }, "now", 1_000, reach);
    const second = await contextBefore(history, { sessionId: SESSION, beforeTurnId: next.turnId }, "now", 1_000, reach);
    expect(second).to.deep.equal(first, "the first page changes what is read, never the context");
    // Newest first: the exchanges that fit, then the answer and the question of the one that did not.
    const read = first.length - 1 + 2;
    expect(history.firstPages).to.deep.equal([undefined, read + 2 + Math.max(4, Math.ceil(read / 4))]);
  });

  it("forgets the session used longest ago once it holds its capacity", () => {
    const reach = new ContextReach(2);
    reach.record("a", 10);
    reach.record("b", 20);
    expect(reach.firstPage("a")).to.equal(16); // a is used again: b is now the oldest
    reach.record("c", 30);
    expect(reach.firstPage("b")).to.equal(undefined);
    expect(reach.firstPage("a")).to.equal(16);
    expect(reach.firstPage("c")).to.equal(40);
  });
});
