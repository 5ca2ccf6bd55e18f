import { expect } from "chai";
import { DELTA_MAX_BYTES, DeltaStreamer, type Undeliverable } from "../../runtime/chat/delta-streamer";
import type { DeltaFrame } from "../../runtime/protocol";
import { flushMicrotasks, ManualClock, RecordingSender } from "./fakes";

function setup(intervalMs = 50) {
  const clock = new ManualClock();
  const sender = new RecordingSender();
  const undeliverable: Undeliverable[] = [];
  const streamer = new DeltaStreamer({ turnId: "t1", connectionId: "c1", sender, clock, intervalMs, onUndeliverable: (why) => undeliverable.push(why) });
  const deltas = () => sender.of("delta") as DeltaFrame[];
  return { clock, sender, streamer, deltas, undeliverable };
}

describe("runtime/chat/delta-streamer: coalescing", () => {
  it("sends the first text at once, then at most one frame per interval with the merged text", async () => {
    const { clock, streamer, deltas } = setup(50);
    streamer.push("Hel");
    await flushMicrotasks();
    expect(deltas().map((d) => d.text)).to.deep.equal(["Hel"]);

    for (const t of ["lo", ",", " wor", "ld"]) streamer.push(t);
    await flushMicrotasks();
    expect(deltas()).to.have.length(1, "nothing more before the interval");
    await clock.advance(49);
    expect(deltas()).to.have.length(1);
    await clock.advance(1);
    expect(deltas().map((d) => d.text)).to.deep.equal(["Hel", "lo, world"]);

    await clock.advance(200); // idle: no empty frames
    expect(deltas()).to.have.length(2);
    streamer.push("!"); // long after the last frame: goes out at once
    await flushMicrotasks();
    expect(deltas().map((d) => d.text)).to.deep.equal(["Hel", "lo, world", "!"]);
  });

  it("splits a backlog into frames that each fit API Gateway's 32 KB frame, one per interval, losing nothing", async () => {
    const { clock, streamer, deltas } = setup(50);
    const backlog = 'quote " and 漢字 and 😀 '.repeat(8000); // ~230 KB of JSON text
    streamer.push(backlog);
    const closed = streamer.close();
    for (let i = 0; i < 40 && deltas().map((d) => d.text).join("").length < backlog.length; i++) await clock.advance(50);
    await closed;
    expect(deltas().length).to.be.greaterThan(8);
    for (const frame of deltas()) expect(Buffer.byteLength(JSON.stringify(frame.text), "utf8")).to.be.at.most(DELTA_MAX_BYTES + 2);
    expect(deltas().map((d) => d.seq)).to.deep.equal(deltas().map((_, i) => i));
    expect(deltas().map((d) => d.text).join("")).to.equal(backlog);
    expect(streamer.sentText).to.equal(backlog);
  });

  it("numbers frames 0,1,2… without gaps and delivers the exact concatenation", async () => {
    const { clock, streamer, deltas } = setup(10);
    const pieces = Array.from({ length: 500 }, (_, i) => `w${i} `);
    for (const [i, piece] of pieces.entries()) {
      streamer.push(piece);
      if (i % 7 === 0) await clock.advance(3);
    }
    const closed = streamer.close();
    await clock.advance(20);
    await closed;
    expect(deltas().map((d) => d.seq)).to.deep.equal(deltas().map((_, i) => i));
    expect(deltas().map((d) => d.text).join("")).to.equal(pieces.join(""));
    expect(streamer.sentText).to.equal(pieces.join(""));
    // 500 chunks over ~216 ms of model time with a 10 ms interval: about one frame per interval, not one per chunk.
    expect(deltas().length).to.be.at.most(25).and.at.least(2);
    expect(streamer.frames).to.equal(deltas().length);
  });

  it("never has two posts in flight: text arriving during a slow post waits for it", async () => {
    const { clock, sender, streamer, deltas } = setup(10);
    let release!: () => void;
    sender.gate = () => new Promise<void>((resolve) => (release = resolve));
    streamer.push("a");
    await flushMicrotasks();
    expect(sender.inFlight).to.equal(1);
    streamer.push("b");
    await clock.advance(100); // far past the interval, but the first post has not finished
    expect(sender.posts).to.equal(1);
    const first = release;
    sender.gate = undefined;
    first();
    await flushMicrotasks();
    await clock.advance(0);
    expect(deltas().map((d) => d.text)).to.deep.equal(["a", "b"]);
    expect(sender.maxInFlight).to.equal(1);
  });

  it("close() sends the remaining text, honouring the interval, and waits for it", async () => {
    const { clock, streamer, deltas } = setup(50);
    streamer.push("a");
    streamer.push("b");
    const closed = streamer.close();
    await flushMicrotasks();
    expect(deltas().map((d) => d.text)).to.deep.equal(["a"]);
    await clock.advance(50);
    await closed;
    expect(deltas().map((d) => d.text)).to.deep.equal(["a", "b"]);
  });

  it("stops on 410: reports gone once, drops later text, and sentText holds only delivered frames", async () => {
    const { clock, sender, streamer, deltas, undeliverable } = setup(10);
    sender.goneAfter = 2;
    streamer.push("one ");
    await clock.advance(10);
    streamer.push("two ");
    await clock.advance(10);
    streamer.push("three ");
    await clock.advance(10);
    streamer.push("four");
    await streamer.close();
    expect(deltas().map((d) => d.text)).to.deep.equal(["one ", "two "]);
    expect(undeliverable).to.deep.equal(["gone"]);
    expect(streamer.sentText).to.equal("one two ");
    expect(streamer.deliverable).to.equal(false);
  });

  it("reports a failing post as undeliverable", async () => {
    const { sender, streamer, undeliverable } = setup(10);
    sender.failWith = Object.assign(new Error("boom"), { name: "InternalServerError" });
    streamer.push("x");
    await streamer.close();
    expect(undeliverable).to.deep.equal(["failed"]);
    expect(streamer.sentText).to.equal("");
  });
});
