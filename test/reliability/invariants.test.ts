/**
 * The invariant checker itself, on recorded frames and a fake store: it must find what it exists to find — a
 * second end or a delta after the end that arrived after the first end — and pass a clean turn. Without this, a
 * checker that reads a snapshot too early would pass every fault test by luck.
 */
import { expect } from "chai";
import { ChatClient, type Received } from "../../bench/client";
import type { HistoryReader, StoredTurn } from "../../bench/store";
import { checkInvariants, observed, type QuietStack } from "./invariants";

const SESSION = "s1";
const TURN = "t-answer";
const CMID = "m-1";

/** A closed client holding these frames (nothing to ping: the checker reads what arrived). */
function recorded(frames: Array<Record<string, unknown>>): ChatClient {
  const client = Object.create(ChatClient.prototype) as ChatClient;
  const received: Received[] = frames.map((json, i) => ({ at: 1000 + i, raw: JSON.stringify(json), json }));
  Object.defineProperty(client, "frames", { value: received });
  Object.defineProperty(client, "ws", { value: { readyState: 3 } });
  return client;
}

function stackWith(turns: StoredTurn[], quiet: () => void = () => undefined): QuietStack {
  const reader = { turns: async () => turns } as unknown as HistoryReader;
  return { reader, quiet: async () => quiet() };
}

const started = { type: "turn.started", sessionId: SESSION, turnId: TURN, clientMessageId: CMID, region: "us-east-1", userTurnId: "t-user" };
const delta = (seq: number, text: string) => ({ type: "delta", turnId: TURN, seq, text });
const done = { type: "turn.done", turnId: TURN, stopReason: "end_turn", usage: { inputTokens: 1, outputTokens: 2 }, ttftMs: 5 };
const savedAs = (text: string): StoredTurn[] => [
  { turnId: "t-user", role: "user", status: "complete", text: "q" },
  { turnId: TURN, role: "assistant", status: "complete", text },
];

describe("reliability: the invariant checker", () => {
  it("passes a clean turn, and reads the frames only after the stack is quiet", async () => {
    const frames = [started, delta(0, "Hel")];
    const client = recorded(frames);
    // The end arrives while the checker waits for the stack to be quiet: it must be read.
    const stack = stackWith(savedAs("Hello"), () => {
      client.frames.push({ at: 2000, raw: "", json: delta(1, "lo") }, { at: 2001, raw: "", json: done });
    });
    expect(await checkInvariants(stack, [observed(client, { clientMessageId: CMID, sentAt: 0 })])).to.deep.equal([]);
  });

  it("finds a second end and a delta after the end that arrived late", async () => {
    const client = recorded([started, delta(0, "Hello"), done]);
    const stack = stackWith(savedAs("Hello"), () => {
      client.frames.push({ at: 2000, raw: "", json: delta(1, "!") }, { at: 2001, raw: "", json: { ...done, stopReason: "stopped" } });
    });
    const violations = await checkInvariants(stack, [observed(client, { clientMessageId: CMID, sentAt: 0 })]);
    expect(violations.join("\n")).to.match(/1 delta\(s\) after the turn's end/);
    expect(violations.join("\n")).to.match(/2 turn\.done\/error frames, expected exactly 1/);
  });

  it("finds a gap in seq and a saved text that differs from the streamed one", async () => {
    const client = recorded([started, delta(0, "Hel"), delta(2, "lo"), done]);
    const violations = await checkInvariants(stackWith(savedAs("Help")), [observed(client, { clientMessageId: CMID, sentAt: 0 })]);
    expect(violations.join("\n")).to.match(/delta #1 has seq 2/).and.match(/differs from the streamed text/);
  });
});
