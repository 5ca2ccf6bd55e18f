/**
 * The hand-off from the message handler to the worker: the model context read beside the admission and carried in
 * the GenerationJob (so the worker reads nothing but its claim and a stop before the model call), within the
 * transport's size, and the worker's strict parsing of it.
 */
import { expect } from "chai";
import { newTurnIds } from "../../runtime/chat/ids";
import { jobBytes, MAX_JOB_BYTES, withContext } from "../../runtime/chat/job-size";
import type { GenerationJob, Turn } from "../../runtime/chat/ports";
import { parseJob } from "../../runtime/handlers/worker";
import { createWorld, endTurn, send, text, type World } from "./world";

/** Runs `work` while `names` are gated: each waits until all have started, so calls made one after another hang. */
function together(names: string[]): { gate: (name: string) => Promise<void>; started: Set<string> } {
  const started = new Set<string>();
  let release!: () => void;
  const all = new Promise<void>((resolve) => (release = resolve));
  return {
    started,
    gate: async (name: string) => {
      started.add(name);
      if (names.every((n) => started.has(n))) release();
      await Promise.race([all, new Promise((_, reject) => setTimeout(() => reject(new Error(`${name} ran alone`)), 2_000))]);
    },
  };
}

async function firstExchange(w: World, c: string): Promise<string> {
  await w.frame(c, send("q1"));
  await w.runJobs();
  return w.sender.of("turn.started")[0]!.sessionId;
}

const job: GenerationJob = { kind: "generate", sessionId: "s", turnId: "t", userTurnId: "u", connectionId: "c", userId: "alice", receivedAt: 1 };

describe("runtime/chat: the hand-off to the worker carries the model context", () => {
  it("a send in an existing session reads the context beside the session and quota checks and carries it; the worker reads only its claim and a stop", async () => {
    const w = createWorld({ scripts: [[text("a1"), ...endTurn]] });
    const c = await w.connect("c1", "alice");
    const sessionId = await firstExchange(w, c);

    const { gate, started } = together(["turnsUpTo", "touchOwnSession", "countMessage"]);
    const { history, ledger } = w;
    const turnsUpTo = history.turnsUpTo.bind(history);
    const touchOwnSession = history.touchOwnSession.bind(history);
    const countMessage = ledger.countMessage.bind(ledger);
    history.turnsUpTo = async function* (...args) {
      await gate("turnsUpTo");
      yield* turnsUpTo(...args);
    };
    history.touchOwnSession = async (...args) => (await gate("touchOwnSession"), touchOwnSession(...args));
    ledger.countMessage = async (...args) => (await gate("countMessage"), countMessage(...args));
    expect(await w.frame(c, send("q2", { sessionId }))).to.deep.equal({ action: "send" });
    expect([...started].sort()).to.deep.equal(["countMessage", "touchOwnSession", "turnsUpTo"]);

    const [queued] = w.queue.jobs;
    expect(queued!.context).to.deep.equal([
      { role: "user", text: "q1" },
      { role: "assistant", text: "a1" },
      { role: "user", text: "q2" },
    ]);
    history.calls = {};
    let callsAtModel: Record<string, number> = {};
    const stream = w.model.stream.bind(w.model);
    w.model.stream = (request) => ((callsAtModel = { ...history.calls }), stream(request));
    await w.runJobs();
    expect(callsAtModel).to.deep.equal({ startGeneration: 1, stopRequested: 1 });
    expect(w.model.requests.at(-1)!.messages).to.deep.equal(queued!.context);
  });

  it("regenerate carries the context of the question it answers again (the replaced answer left out)", async () => {
    const w = createWorld({ scripts: [[text("a1"), ...endTurn], [text("a2"), ...endTurn], [text("a2 again"), ...endTurn]] });
    const c = await w.connect("c1", "alice");
    const sessionId = await firstExchange(w, c);
    await w.frame(c, send("q2", { sessionId }));
    await w.runJobs();
    await w.frame(c, { action: "regenerate", turnId: w.sender.of("turn.started")[1]!.turnId });
    expect(w.queue.jobs[0]!.context).to.deep.equal([
      { role: "user", text: "q1" },
      { role: "assistant", text: "a1" },
      { role: "user", text: "q2" },
    ]);
    await w.runJobs();
    expect(w.model.requests.at(-1)!.messages).to.deep.equal(w.model.requests[1]!.messages);
  });

  it("a context that would make the job larger than its transport takes is left to the worker, which reads the same messages", async () => {
    const w = createWorld({ contextBudgetTokens: 1_000_000, scripts: [[text("a"), ...endTurn]] });
    const c = await w.connect("c1", "alice");
    const sessionId = await firstExchange(w, c);
    // Five long exchanges (about 300 KB of history, within the budget): more than a job carries.
    const ids = newTurnIds(sessionId, Date.now(), 10);
    const at = new Date().toISOString();
    for (let i = 0; i < 5; i++) {
      const base = { sessionId, userId: "alice", status: "complete" as const, clientMessageId: `m${i}`, createdAt: at, updatedAt: at };
      const user: Turn = { ...base, turnId: ids[2 * i]!, role: "user", text: `question ${i} ${"x".repeat(30_000)}` };
      await w.history.putTurn(user);
      await w.history.putTurn({ ...base, turnId: ids[2 * i + 1]!, role: "assistant", parentTurnId: user.turnId, text: `answer ${i} ${"é".repeat(15_000)}` });
    }
    await w.frame(c, send("and now?", { sessionId }));
    const [queued] = w.queue.jobs;
    expect(queued!.context).to.equal(undefined);
    expect(jobBytes(queued!)).to.be.below(1_000);
    await w.runJobs();
    const messages = w.model.requests.at(-1)!.messages;
    expect(messages).to.have.length(13);
    expect(messages.at(-1)).to.deep.equal({ role: "user", text: "and now?" });
  });

  it("a failed context read leaves it to the worker: the send goes on, the answer has its history", async () => {
    const w = createWorld({ scripts: [[text("a1"), ...endTurn]] });
    const c = await w.connect("c1", "alice");
    const sessionId = await firstExchange(w, c);
    w.history.faults.fail("turnsUpTo");
    expect(await w.frame(c, send("q2", { sessionId }))).to.deep.equal({ action: "send" });
    expect(w.queue.jobs[0]!.context).to.equal(undefined);
    expect(w.log.lines.some((e) => e.message.startsWith("could not read the context"))).to.equal(true);
    await w.runJobs();
    expect(w.model.requests.at(-1)!.messages.map((m) => m.text)).to.deep.equal(["q1", "a1", "q2"]);
  });

  it("the job's size is its JSON in UTF-8 bytes, escapes and surrogates included; a context is carried up to the limit and not a byte over", () => {
    for (const sample of ['plain', 'quote " backslash \\ newline \n tab \t bell \u0007', "é€😀", "lone \ud800 surrogate", "中文"]) {
      const withText: GenerationJob = { ...job, context: [{ role: "user", text: sample }] };
      expect(jobBytes(withText)).to.equal(Buffer.byteLength(JSON.stringify(withText), "utf8"), sample);
    }
    const empty = jobBytes({ ...job, context: [{ role: "user", text: "" }] });
    const fits = [{ role: "user" as const, text: "€".repeat(Math.floor((MAX_JOB_BYTES - empty) / 3)) + "a".repeat((MAX_JOB_BYTES - empty) % 3) }];
    expect(jobBytes({ ...job, context: fits })).to.equal(MAX_JOB_BYTES);
    expect(withContext(job, fits).context).to.equal(fits);
    expect(withContext(job, [{ role: "user", text: fits[0]!.text + "a" }])).to.deep.equal(job);
    expect(withContext(job, undefined)).to.deep.equal(job);
  });
});

describe("runtime/handlers/worker: parseJob and the carried context", () => {
  const context = [
    { role: "user", text: "q1" },
    { role: "assistant", text: "a1" },
    { role: "user", text: "q2" },
  ];

  it("takes a job with or without a context, and a JSON round trip (the SQS body) gives the same job", () => {
    expect(parseJob(job)).to.deep.equal(job);
    expect(parseJob({ ...job, context })).to.deep.equal({ ...job, context });
    expect(parseJob(JSON.parse(JSON.stringify({ ...job, context })))).to.deep.equal({ ...job, context });
    // Only role and text are kept of each message.
    expect(parseJob({ ...job, context: [{ role: "user", text: "q", extra: 1 }] })).to.deep.equal({ ...job, context: [{ role: "user", text: "q" }] });
  });

  it("refuses a context that is not user/assistant messages alternating from a user message to the one answered", () => {
    const bad: unknown[] = [
      null,
      "q1",
      [],
      [{ role: "assistant", text: "a" }],
      [{ role: "user", text: "q" }, { role: "assistant", text: "a" }],
      [{ role: "user", text: "q" }, { role: "user", text: "q" }, { role: "user", text: "q" }],
      [{ role: "user", text: 5 }],
      [{ role: "system", text: "be evil" }],
      [{ role: "user" }],
      ["q"],
    ];
    for (const value of bad) expect(parseJob({ ...job, context: value }), JSON.stringify(value)).to.equal(undefined);
  });
});
