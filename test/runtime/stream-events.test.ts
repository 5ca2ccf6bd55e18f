/** One async iterator over a response body's events (runtime/model/stream-events.ts), on real Node streams. */
import { expect } from "chai";
import { PassThrough, Readable } from "node:stream";
import { StreamEvents, type EventSource } from "../../runtime/model/stream-events";

class Failure extends Error {
  constructor(override readonly cause: unknown) {
    super(`mapped: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** Events are the body's bytes split on "|", as strings; a chunk holding "!" is malformed; `end` refuses a body whose last part is unfinished ("…" in the last chunk). */
function source(body: Readable | (() => Promise<Readable>), signal = new AbortController().signal): EventSource<string> & { opened: number } {
  let last = "";
  const s = {
    opened: 0,
    signal,
    open: async () => {
      s.opened++;
      return typeof body === "function" ? body() : body;
    },
    decode: (chunk: Buffer) => {
      const text = chunk.toString();
      if (text.includes("!")) throw new Error("malformed chunk");
      last = text;
      return text.split("|").filter((x) => x !== "");
    },
    end: () => {
      if (last.includes("…")) throw new Error("ended inside a message");
    },
    failure: (error: unknown) => new Failure(error),
  };
  return s;
}

async function collect(events: AsyncIterable<string>): Promise<{ events: string[]; error?: unknown }> {
  const out: string[] = [];
  try {
    for await (const e of events) out.push(e);
    return { events: out };
  } catch (error) {
    return { events: out, error };
  }
}

describe("runtime/model/stream-events: a body's events in one iterator", () => {
  it("yields every event of every chunk in order, and ends with the body; the request is sent once, on the first next()", async () => {
    const body = new PassThrough();
    const src = source(body);
    const events = new StreamEvents(src);
    expect(src.opened).to.equal(0);
    const reading = collect(events);
    body.write("a|b|");
    body.write("c|");
    setImmediate(() => body.end("d|e"));
    const { events: got, error } = await reading;
    expect(error).to.equal(undefined);
    expect(got).to.deep.equal(["a", "b", "c", "d", "e"]);
    expect(src.opened).to.equal(1);
    expect(await events.next()).to.deep.equal({ value: undefined, done: true });
  });

  it("delivers what it holds, then the failure through `failure`: a body closed before its end, a malformed chunk, an unfinished last message, a refused request", async () => {
    const cut = new PassThrough();
    const reading = collect(new StreamEvents(source(cut)));
    cut.write("a|b|");
    setImmediate(() => cut.destroy());
    const premature = await reading;
    expect(premature.events).to.deep.equal(["a", "b"]);
    expect(premature.error).to.be.instanceOf(Failure);
    expect((premature.error as Failure).cause).to.have.property("code", "ERR_STREAM_PREMATURE_CLOSE");

    const malformed = await collect(new StreamEvents(source(Readable.from([Buffer.from("a|"), Buffer.from("b!|c")]))));
    expect(malformed.events).to.deep.equal(["a"]);
    expect((malformed.error as Failure).message).to.equal("mapped: malformed chunk");

    const short = await collect(new StreamEvents(source(Readable.from([Buffer.from("a|"), Buffer.from("b…")]))));
    expect(short.events).to.deep.equal(["a", "b…"]);
    expect((short.error as Failure).message).to.equal("mapped: ended inside a message");

    const refused = await collect(new StreamEvents(source(() => Promise.reject(new Error("403 refused")))));
    expect(refused.events).to.deep.equal([]);
    expect((refused.error as Failure).message).to.equal("mapped: 403 refused");
  });

  it("destroys the body when the consumer leaves the loop early", async () => {
    const body = new PassThrough();
    const events = new StreamEvents(source(body));
    body.write("a|b|");
    for await (const e of events) {
      expect(e).to.equal("a");
      break;
    }
    expect(body.destroyed).to.equal(true);
    expect(await events.next()).to.deep.equal({ value: undefined, done: true });
  });

  it("ends quietly once the signal aborts: no more events, no failure, even when the body then errors", async () => {
    const body = new PassThrough();
    const controller = new AbortController();
    const events = new StreamEvents(source(body, controller.signal));
    body.write("a|b|");
    const first = await events.next();
    expect(first).to.deep.equal({ value: "a", done: false });
    // A waiting reader is woken by the abort itself.
    const drained = await events.next();
    expect(drained).to.deep.equal({ value: "b", done: false });
    const waiting = events.next();
    controller.abort();
    body.destroy(new Error("stream cancelled"));
    expect(await waiting).to.deep.equal({ value: undefined, done: true });
    expect(await events.next()).to.deep.equal({ value: undefined, done: true });
  });

  it("pauses the body while 256 or more events wait, and resumes it when the consumer has taken them", async () => {
    const body = new PassThrough();
    const events = new StreamEvents(source(body));
    body.write("x|");
    expect(await events.next()).to.deep.equal({ value: "x", done: false });
    body.write(`${"e|".repeat(300)}`);
    await new Promise((r) => setImmediate(r));
    expect(body.isPaused()).to.equal(true);
    for (let i = 0; i < 300; i++) expect((await events.next()).value).to.equal("e");
    expect(body.isPaused()).to.equal(false);
    body.end("y|");
    expect(await events.next()).to.deep.equal({ value: "y", done: false });
    expect(await events.next()).to.deep.equal({ value: undefined, done: true });
  });
});
