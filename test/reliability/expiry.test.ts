/**
 * Abuse case: a connection kept open past its token's expiry (issue: "a connection made with a token that expired
 * 4 s later still started answers minutes after"). Its answer in flight is not lost, its next frame gets `error`
 * `forbidden` and the server closes it, and another user chatting at the same time is unaffected.
 */
import { expect } from "chai";
import { ChatClient } from "../../bench/client";
import { checkInvariants, observed } from "./invariants";
import { sharedStack, type ReliabilityStack } from "./stack";

describe("reliability: a connection does not outlive its token", function () {
  this.timeout(60_000);
  const shared = sharedStack();
  let rs: ReliabilityStack;
  before(() => {
    rs = shared.get();
  });

  it("keeps the answer in flight, refuses the next frame after exp, closes that socket only", async () => {
    const mark = rs.mark();
    const bystander = await rs.connect("bystander-of-expiry");
    const response = await fetch(`${rs.stack.webUrl}local/token?user=expiring-user&ttl=2`);
    const { token } = (await response.json()) as { token: string };
    const expiring = await ChatClient.connect(rs.stack.wsUrl, token);

    const [answered, other] = await Promise.all([expiring.turn("an answer that may outlive the token"), bystander.turn("a neighbour's question")]);
    expect(answered.done?.stopReason ?? answered.error).to.equal("end_turn");

    // Ping until the server refuses: wait for that state, not for the clock. On a loaded machine the answer can take
    // longer than the token lives, and the ping that settles the turn's frames is then the one refused.
    const forbidden = () => expiring.frames.find((f) => f.json?.type === "error" && f.json.code === "forbidden")?.json;
    let refusal: Record<string, unknown> | undefined = forbidden();
    const deadline = Date.now() + 20_000;
    while (refusal === undefined && Date.now() < deadline) {
      const from = expiring.frames.length;
      expiring.send({ action: "ping" });
      const answer = await expiring.nextFrame((f) => f.type === "pong" || f.type === "error", from);
      if (answer.json?.type === "error") refusal = answer.json;
      else await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(refusal).to.deep.include({ type: "error", code: "forbidden" });
    expect(refusal).not.to.have.any.keys("turnId", "clientMessageId");
    // The server closes it (the client never does here).
    await expiring.closed;

    // Nothing lost: both answers ended once and equal what history saved; the neighbour chats on.
    expect(await checkInvariants(rs, [observed(expiring, answered), observed(bystander, other)])).to.deep.equal([]);
    expect(await bystander.ping()).to.be.a("number");
    expect((await bystander.turn("still here?")).done?.stopReason).to.equal("end_turn");
    await bystander.close();
    expect(rs.crashes(mark)).to.deep.equal([]);
  });
});
