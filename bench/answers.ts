/**
 * Runs answers through the stack and joins what the client saw with what the emulator emitted: per answer, the
 * delta frames (arrival times), the model's chunks (emission times), the WebSocket message sizes, and the relay
 * latency of every chunk (chunk emitted → the first frame that completes its text arrived).
 */
import { ChatClient, type TurnFrames } from "./client";
import { marker, prompt, type BenchStack, type ObservedRequest } from "./harness";

export interface AnswerSample {
  turn: TurnFrames;
  request: ObservedRequest;
  /** Bytes of every WebSocket message of the answer: the send frame and every frame naming the turn. */
  messageBytes: number[];
  /** Per model chunk: emitted → the client had its text, in ms. The first entry is the first chunk's. */
  relayMs: number[];
  /** Gaps between consecutive delta frames at the client, in ms. */
  gapsMs: number[];
  /** send frame out → model request arrived at the emulator, in ms. */
  preModelMs: number;
  /** Ended with turn.done end_turn and the client's text equals the model's. */
  intact: boolean;
}

/** For each chunk, the time from its emission until the client held all of its text. */
export function relayLatencies(request: ObservedRequest, turn: TurnFrames): number[] {
  const out: number[] = [];
  let chunkEnd = 0;
  let frame = 0;
  let received = turn.deltas[0]?.text.length ?? 0;
  for (const chunk of request.chunks) {
    chunkEnd += chunk.text.length;
    while (frame < turn.deltas.length && received < chunkEnd) {
      frame++;
      received += turn.deltas[frame]?.text.length ?? 0;
    }
    if (frame >= turn.deltas.length) break; // never delivered (stopped, dropped)
    out.push(turn.deltas[frame].at - chunk.at);
  }
  return out;
}

export function gaps(turn: TurnFrames): number[] {
  return turn.deltas.slice(1).map((d, i) => d.at - turn.deltas[i].at);
}

export function sampleOf(client: ChatClient, turn: TurnFrames, request: ObservedRequest, sendBytes: number): AnswerSample {
  const turnId = turn.started?.turnId;
  const messageBytes = [sendBytes];
  for (const f of client.frames) {
    const j = f.json;
    if (!j) continue;
    if ((turnId && j.turnId === turnId) || (j.type === "turn.started" && j.clientMessageId === turn.clientMessageId)) {
      messageBytes.push(Buffer.byteLength(f.raw));
    }
  }
  return {
    turn,
    request,
    messageBytes,
    relayMs: relayLatencies(request, turn),
    gapsMs: gaps(turn),
    preModelMs: request.arrivedAt - turn.sentAt,
    intact: turn.done?.stopReason === "end_turn" && turn.text === request.record.text,
  };
}

/** One answer of about `tokens` tokens on `client`, optionally in an existing session. */
export async function runAnswer(bench: BenchStack, client: ChatClient, tokens: number, tag: string, sessionId?: string): Promise<AnswerSample> {
  const mark = marker(tag, Math.floor(Math.random() * 1e6));
  const text = prompt(mark, tokens);
  const { clientMessageId, sentAt } = client.startTurn(text, sessionId);
  const sendBytes = Buffer.byteLength(JSON.stringify({ action: "send", clientMessageId, text, ...(sessionId ? { sessionId } : {}) }));
  const turn = await client.awaitTurnEnd(clientMessageId, sentAt, 120_000);
  const request = await bench.observer.until(() => bench.observer.find(mark), 5_000);
  await bench.observer.until(() => (request.closedAt !== undefined ? true : undefined), 5_000);
  return sampleOf(client, turn, request, sendBytes);
}

export interface AnswerRunOptions {
  tokens: number;
  count: number;
  /** Chats at once, each its own user and connection. */
  concurrency: number;
  tag: string;
}

/** `count` answers over `concurrency` chats (each chat runs its answers one after another). */
export async function runAnswers(bench: BenchStack, options: AnswerRunOptions): Promise<AnswerSample[]> {
  const chats = Math.max(1, Math.min(options.concurrency, options.count));
  const clients = await Promise.all(
    Array.from({ length: chats }, async (_, i) => ChatClient.connect(bench.stack.wsUrl, await bench.stack.token(`${options.tag}-user-${i}`))),
  );
  const samples: AnswerSample[] = [];
  let next = 0;
  await Promise.all(
    clients.map(async (client) => {
      while (next < options.count) {
        next++;
        samples.push(await runAnswer(bench, client, options.tokens, options.tag));
      }
    }),
  );
  await Promise.all(clients.map((c) => c.close()));
  return samples;
}
