/** The page's words for budgets: refusals with when to retry, the kill switch, and the remaining daily budget. */
import { expect } from "chai";
import { describeError, describeRetry } from "../../web/src/chat/errors";
import { describeUsage } from "../../web/src/chat/usage-words";

describe("web client: budget words", () => {
  it("says when to retry a refusal: seconds, minutes, or the time of day", () => {
    expect(describeRetry(1)).to.equal("You can try again in 1 second.");
    expect(describeRetry(4_200)).to.equal("You can try again in 5 seconds.");
    expect(describeRetry(10 * 60_000)).to.equal("You can try again in 10 minutes.");
    const now = Date.parse("2026-12-04T19:00:00Z");
    const at = new Date(now + 5 * 3_600_000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    expect(describeRetry(5 * 3_600_000, now)).to.equal(`You can try again at ${at}.`);
  });

  it("words quota_exceeded and rate_limited with retryAfterMs, and the operator's pause apart from a busy answer", () => {
    expect(describeError({ code: "quota_exceeded", message: "today's budget of 1000 tokens is used up", retryAfterMs: 30 * 60_000 })).to.equal(
      "You have used today's token budget. (today's budget of 1000 tokens is used up) You can try again in 30 minutes.",
    );
    expect(describeError({ code: "rate_limited", message: "at most 2 answers at a time", retryAfterMs: 5000 })).to.equal(
      "You are sending messages too quickly. Wait a moment and try again. (at most 2 answers at a time) You can try again in 5 seconds.",
    );
    expect(describeError({ code: "busy", message: "answers are paused by the operator; try again later" })).to.equal(
      "New answers are paused by the operator for now. Try again later.",
    );
  });

  it("shows what is left of the daily budget, and when it renews once it is used up", () => {
    expect(describeUsage({ type: "usage", used: 1_500, limit: 10_000, resetAt: "2026-12-05T00:00:00.000Z" })).to.equal(
      `${(8_500).toLocaleString()} of ${(10_000).toLocaleString()} tokens left today`,
    );
    const renews = new Date("2026-12-05T00:00:00.000Z").toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    expect(describeUsage({ type: "usage", used: 12_000, limit: 10_000, resetAt: "2026-12-05T00:00:00.000Z" })).to.equal(
      `Today's token budget is used up; it renews at ${renews}`,
    );
    expect(describeUsage({ type: "usage", used: 42, limit: null, resetAt: "2026-12-05T00:00:00.000Z" })).to.equal("42 tokens used today");
  });
});
