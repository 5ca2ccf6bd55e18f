import { expect } from "chai";
import { HEARTBEAT_MS, SILENT_WORKER_MS } from "../../runtime/chat/liveness";
import type { DeltaFrame, ServerFrame, TurnDoneFrame, TurnStartedFrame } from "../../runtime/protocol";
import { createWorld, endTurn, send, text, wait, type World } from "./world";

async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const framesOf = (w: World, connectionId: string, turnId: string): ServerFrame[] =>
  w.sender.frames.filter((f) => f.connectionId === connectionId && "turnId" in f.frame && f.frame.turnId === turnId).map((f) => f.frame);
const deltasOf = (w: World, connectionId: string, turnId: string) => framesOf(w, connectionId, turnId).filter((f): f is DeltaFrame => f.type === "delta");
const endsOf = (w: World, connectionId: string, turnId: string) => framesOf(w, connectionId, turnId).filter((f) => f.type === "turn.done" || f.type === "error");
const storedTurn = (w: World, t: TurnStartedFrame) => w.history.sessionTurns(t.sessionId).find((x) => x.turnId === t.turnId)!;

const story = [text("Once "), wait(20), text("upon "), wait(20), text("a "), wait(20), text("time "), wait(20), text("there "), wait(20), text("was "), wait(20), text("a story."), ...endTurn];

describe("runtime/chat/resume: a turn continues on another connection", () => {
  it("an ended turn: the text past the client's offset, seq continuing its own, then turn.done, once", async () => {
    const w = createWorld({ scripts: [[text("Hello"), text(", "), text("world."), ...endTurn]] });
    const c1 = await w.connect("c1", "alice");
    await w.frame(c1, send("hi"));
    const turn = w.sender.of("turn.started")[0]!;
    await w.runJobs();
    const c2 = await w.connect("c2", "alice");
    await w.frame(c2, { action: "resume", turnId: turn.turnId, afterSeq: 4, offset: 5 });
    const deltas = deltasOf(w, c2, turn.turnId);
    expect(deltas.map((d) => [d.seq, d.text])).to.deep.equal([[5, ", world."]]);
    expect(endsOf(w, c2, turn.turnId)).to.deep.equal([{ type: "turn.done", turnId: turn.turnId, stopReason: "end_turn", usage: { inputTokens: 12, outputTokens: 7 }, ttftMs: storedTurn(w, turn).ttftMs }]);

    await w.frame(c2, { action: "resume", turnId: turn.turnId, afterSeq: -1, offset: 0 });
    expect(deltasOf(w, c2, turn.turnId).slice(1).map((d) => [d.seq, d.text]), "a turn never seen: all of it from seq 0").to.deep.equal([[0, "Hello, world."]]);
  });

  it("refuses another user's turn and a user turn as not_found, and bad numbers as bad_request", async () => {
    const w = createWorld();
    const alice = await w.connect("c1", "alice");
    await w.frame(alice, send("mine"));
    const turn = w.sender.of("turn.started")[0]!;
    await w.runJobs();
    const bob = await w.connect("c2", "bob");
    await w.frame(bob, { action: "resume", turnId: turn.turnId, afterSeq: -1, offset: 0 });
    await w.frame(alice, { action: "resume", turnId: turn.userTurnId, afterSeq: -1, offset: 0 });
    await w.frame(alice, { action: "resume", turnId: turn.turnId, afterSeq: -2, offset: 0 });
    await w.frame(alice, { action: "resume", turnId: turn.turnId, afterSeq: 0, offset: 1.5 });
    expect(w.sender.of("error", "c2").map((e) => e.code)).to.deep.equal(["not_found"]);
    expect(w.sender.of("error", "c1").map((e) => e.code)).to.deep.equal(["not_found", "bad_request", "bad_request"]);
    expect(w.sender.of("delta", "c2")).to.have.length(0);
  });

  it("a generating turn: the worker takes the new connection on — what it lacks, then the live tail — and says so", async () => {
    const w = createWorld({ scripts: [story], generate: { stopPollMs: 5 } });
    const c1 = await w.connect("c1", "alice");
    await w.frame(c1, send("tell me"));
    const turn = w.sender.of("turn.started")[0]!;
    const generating = w.runJobs();
    await until(() => deltasOf(w, c1, turn.turnId).length >= 2, "two deltas");
    const had = deltasOf(w, c1, turn.turnId);
    const c2 = await w.connect("c2", "alice", 3600, "eu-west-1");
    await w.frame(c2, { action: "resume", turnId: turn.turnId, afterSeq: had[0]!.seq, offset: had[0]!.text.length });
    await generating;

    const saved = storedTurn(w, turn);
    expect(saved.status).to.equal("complete");
    for (const [connectionId, before] of [[c1, ""], [c2, had[0]!.text]] as const) {
      const deltas = deltasOf(w, connectionId, turn.turnId);
      const first = connectionId === c1 ? 0 : had[0]!.seq + 1;
      expect(deltas.map((d) => d.seq), `${connectionId}: seq in order, no gaps`).to.deep.equal(deltas.map((_, i) => first + i));
      expect(before + deltas.map((d) => d.text).join(""), `${connectionId}: text == saved text`).to.equal(saved.text);
      expect(endsOf(w, connectionId, turn.turnId).map((f) => f.type), `${connectionId}: one end`).to.deep.equal(["turn.done"]);
    }
    // The other region's connection is reached through its own @connections endpoint.
    const routes = w.sender.frames.filter((f) => f.connectionId === c2 && f.frame.type === "delta").map((f) => JSON.stringify(f.route));
    expect(new Set(routes)).to.deep.equal(new Set([JSON.stringify({ endpoint: "https://eu-west-1.example/prod", region: "eu-west-1" })]));
    expect((await w.history.turnControl(turn.sessionId, turn.turnId)).acknowledged).to.deep.equal([c2]);
    expect(saved.servedWatchers).to.deep.equal([c2]);
  });

  it("the original connection dropped, the answer goes on; a resume picks it up and stop works from there", async () => {
    const long = Array.from({ length: 400 }, (_, i) => [text(`w${i} `), wait(5)]).flat();
    const w = createWorld({ scripts: [[...long, ...endTurn]], generate: { stopPollMs: 5 } });
    const c1 = await w.connect("c1", "alice");
    await w.frame(c1, send("a long one"));
    const turn = w.sender.of("turn.started")[0]!;
    const generating = w.runJobs();
    await until(() => deltasOf(w, c1, turn.turnId).length >= 1, "a delta");
    w.sender.gone.add(c1);
    const c2 = await w.connect("c2", "alice");
    await w.frame(c2, { action: "resume", turnId: turn.turnId, afterSeq: -1, offset: 0 });
    await until(() => deltasOf(w, c2, turn.turnId).length >= 2, "the resumed tail");
    await w.frame(c2, { action: "stop", turnId: turn.turnId });
    const [outcome] = await generating;
    expect(outcome).to.include({ status: "stopped" });
    const saved = storedTurn(w, turn);
    expect(deltasOf(w, c2, turn.turnId).map((d) => d.text).join("")).to.equal(saved.text);
    expect(endsOf(w, c2, turn.turnId)).to.have.length(1);
    expect((endsOf(w, c2, turn.turnId)[0] as TurnDoneFrame).stopReason).to.equal("stopped");
    expect(endsOf(w, c1, turn.turnId)).to.have.length(0);
  });

  it("a resume from the connection the turn already streams to changes nothing: no frame twice", async () => {
    const w = createWorld({ scripts: [story], generate: { stopPollMs: 5 } });
    const c1 = await w.connect("c1", "alice");
    await w.frame(c1, send("tell me"));
    const turn = w.sender.of("turn.started")[0]!;
    const generating = w.runJobs();
    await until(() => deltasOf(w, c1, turn.turnId).length >= 1, "a delta");
    await w.frame(c1, { action: "resume", turnId: turn.turnId, afterSeq: -1, offset: 0 });
    await generating;
    const deltas = deltasOf(w, c1, turn.turnId);
    expect(deltas.map((d) => d.seq)).to.deep.equal(deltas.map((_, i) => i));
    expect(deltas.map((d) => d.text).join("")).to.equal(storedTurn(w, turn).text);
    expect(endsOf(w, c1, turn.turnId)).to.have.length(1);
  });

  it("a turn that ends before its worker saw the watcher is finished by the resuming side, exactly once", async () => {
    const w = createWorld({ scripts: [[text("all of it"), ...endTurn]] });
    const c1 = await w.connect("c1", "alice");
    await w.frame(c1, send("quick"));
    const turn = w.sender.of("turn.started")[0]!;
    await w.history.startGeneration(turn.sessionId, turn.turnId, new Date().toISOString()); // a worker holds it
    const c2 = await w.connect("c2", "alice");
    const resuming = w.frame(c2, { action: "resume", turnId: turn.turnId, afterSeq: -1, offset: 0 });
    await until(() => w.history.watchers.size > 0, "the watcher item");
    // The worker ends the turn without having seen the watcher (it was still replicating to its region).
    await w.history.finishTurn(turn.sessionId, turn.turnId, { text: "all of it", status: "complete", stopReason: "end_turn", usage: { inputTokens: 1, outputTokens: 3 }, ttftMs: 5, updatedAt: new Date().toISOString() });
    await resuming;
    expect(deltasOf(w, c2, turn.turnId).map((d) => [d.seq, d.text])).to.deep.equal([[0, "all of it"]]);
    expect(endsOf(w, c2, turn.turnId)).to.have.length(1);
  });

  it("…and leaves it to the worker when the final save names the connection as served", async () => {
    const w = createWorld();
    const c1 = await w.connect("c1", "alice");
    await w.frame(c1, send("quick"));
    const turn = w.sender.of("turn.started")[0]!;
    await w.history.startGeneration(turn.sessionId, turn.turnId, new Date().toISOString());
    const c2 = await w.connect("c2", "alice");
    const resuming = w.frame(c2, { action: "resume", turnId: turn.turnId, afterSeq: -1, offset: 0 });
    await until(() => w.history.watchers.size > 0, "the watcher item");
    await w.history.finishTurn(turn.sessionId, turn.turnId, { text: "x", status: "complete", stopReason: "end_turn", usage: { inputTokens: 1, outputTokens: 1 }, ttftMs: 5, updatedAt: new Date().toISOString(), servedWatchers: [c2] });
    await resuming;
    expect(framesOf(w, c2, turn.turnId)).to.have.length(0);
  });

  it("a turn whose worker went silent is answered from its last checkpoint and ends as error", async () => {
    const w = createWorld();
    const c1 = await w.connect("c1", "alice");
    await w.frame(c1, send("crash"));
    const turn = w.sender.of("turn.started")[0]!;
    const long = new Date(Date.now() - SILENT_WORKER_MS - HEARTBEAT_MS).toISOString();
    await w.history.startGeneration(turn.sessionId, turn.turnId, long);
    await w.history.saveProgress(turn.sessionId, turn.turnId, "half an ans", long);
    const c2 = await w.connect("c2", "alice");
    await w.frame(c2, { action: "resume", turnId: turn.turnId, afterSeq: -1, offset: 4 });
    expect(deltasOf(w, c2, turn.turnId).map((d) => d.text)).to.deep.equal([" an ans"]);
    expect(endsOf(w, c2, turn.turnId)).to.deep.include({ type: "turn.done", turnId: turn.turnId, stopReason: "error", usage: { inputTokens: 0, outputTokens: 0 }, ttftMs: null });
    await w.frame(c2, { action: "history", sessionId: turn.sessionId });
    expect(w.sender.of("history", "c2")[0]!.turns.find((t) => t.turnId === turn.turnId)!.status, "history calls it interrupted too").to.equal("error");
  });
});
