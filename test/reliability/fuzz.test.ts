/**
 * A seeded fuzz of bad frames through the gateway emulator and the real message handler: random JSON, unknown
 * actions, wrong field types, text over the limit, huge truncated JSON, lone surrogates, binary frames. Every one
 * is answered with an `error` frame, nothing is stored, no handler throws, and afterwards the same connection
 * still answers a ping and completes a send. Frames the gateway itself refuses (invalid UTF-8: close 1007; over
 * 32 KB: close 1009) end that connection only; the service keeps working for the next one.
 * Seed: FUZZ_SEED (default 20261125), printed on failure.
 */
import { expect } from "chai";
import { ChatClient } from "../../bench/client";
import { FrameFuzzer } from "./fuzz";
import { checkInvariants, observed } from "./invariants";
import { sharedStack, type ReliabilityStack } from "./stack";

const SEED = Number(process.env.FUZZ_SEED ?? 20261125);
const FRAMES = 150;

describe(`reliability: fuzz of bad frames (seed ${SEED})`, function () {
  this.timeout(60_000);
  const shared = sharedStack();
  let rs: ReliabilityStack;
  beforeEach(() => {
    rs = shared.get();
  });

  it(`answers ${FRAMES} bad frames with error frames, and the connection still works`, async () => {
    const fuzzer = new FrameFuzzer(SEED);
    const mark = rs.mark();
    const unhandled = rs.unhandled.length;
    const client = await rs.connect("fuzzer");
    const sent: string[] = [];
    for (let i = 0; i < FRAMES; i++) {
      const frame = fuzzer.next();
      sent.push(frame.label);
      if (frame.kind === "binary") client.sendBinary(frame.data);
      else client.send(frame.data);
      // A little pacing, as a client would: the per-connection route invocations stay bounded.
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 20));
    }
    const errors = () => client.frames.filter((f) => f.json?.type === "error");
    await client.until(() => (errors().length >= FRAMES ? true : undefined), 30_000, `${FRAMES} error frames`);
    await rs.stack.gateway.idle();

    expect(client.open, "the connection was closed").to.equal(true);
    const others = client.frames.filter((f) => f.json?.type !== "error");
    expect(others.map((f) => f.raw.slice(0, 100)), "frames other than error").to.deep.equal([]);
    const codes = new Set(errors().map((f) => f.json!.code));
    expect([...codes].every((c) => c === "bad_request" || c === "too_large"), `codes ${[...codes].join(",")}`).to.equal(true);
    expect(errors().length, `labels: ${[...new Set(sent)].join(", ")}`).to.equal(FRAMES);

    // Nothing was stored: the only session is the one the next send opens.
    const pong = await client.ping();
    expect(pong).to.be.a("number");
    const turn = await client.turn("After the fuzz, a real question [[tokens:30]]");
    expect(turn.done?.stopReason).to.equal("end_turn");
    const from = client.frames.length;
    client.send({ action: "sessions" });
    const sessions = await client.nextFrame((f) => f.type === "sessions", from);
    expect((sessions.json!.sessions as unknown[]).length).to.equal(1);
    expect(await checkInvariants(rs, [observed(client, turn)])).to.deep.equal([]);
    expect(rs.crashes(mark)).to.deep.equal([]);
    expect(rs.unhandled.slice(unhandled)).to.deep.equal([]);
    await client.close();
  });

  it("closes only the offending connection for invalid UTF-8 (1007) and an oversized frame (1009)", async () => {
    const fuzzer = new FrameFuzzer(SEED + 1);
    const mark = rs.mark();
    const bystander = await rs.connect("bystander");

    const a = await rs.connect("sender-a");
    a.ws.send(fuzzer.invalidUtf8().data, { binary: false });
    expect((await a.closed).code).to.equal(1007);

    const b = await rs.connect("sender-b");
    b.send(JSON.stringify({ action: "ping", junk: "z".repeat(40 * 1024) }));
    expect((await b.closed).code).to.equal(1009);

    await rs.stack.gateway.idle();
    expect(await bystander.ping()).to.be.a("number");
    const again = await ChatClient.connect(rs.stack.wsUrl, await rs.stack.token("sender-a"));
    const turn = await again.turn("Still there? [[tokens:20]]");
    expect(turn.done?.stopReason).to.equal("end_turn");
    expect(rs.crashes(mark)).to.deep.equal([]);
    await again.close();
    await bystander.close();
  });
});
