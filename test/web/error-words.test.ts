/** Every error the page can show is in plain words and says what to do next (issue 14, item 3). */
import { expect } from "chai";
import type { ErrorFrame } from "../../runtime/protocol";
import { describeError } from "../../web/src/chat/errors";
import { describeFailure } from "../../web/src/net/failure-words";
import { describeState } from "../../web/src/ui/status-words";

const CODES: ErrorFrame["code"][] = ["bad_request", "too_large", "not_found", "forbidden", "rate_limited", "quota_exceeded", "busy", "model_error", "internal"];
/** Words that tell the reader what to do: an imperative or a wait. */
const NEXT_STEP = /\b(try|wait|reload|shorten|pick|sign|stop|check|press)\b/i;

describe("error words", () => {
  it("gives every server error code a next step", () => {
    for (const code of CODES) {
      const text = describeError({ code, message: "", retryAfterMs: code === "quota_exceeded" ? 60_000 : undefined });
      expect(text, code).to.match(NEXT_STEP);
    }
  });

  it("keeps the server's internal words out of the page: no '(the answer could not be generated)'", () => {
    const text = describeError({ code: "model_error", message: "the answer could not be generated" });
    expect(text).to.equal("The model could not write an answer this time. Try again in a moment (Regenerate asks anew).");
    expect(describeError({ code: "internal", message: "Internal server error" })).to.not.include("Internal server error");
  });

  it("says a request that never reached the server in words, not as 'Failed to fetch'", () => {
    for (const raw of ["Failed to fetch", "NetworkError when attempting to fetch resource.", "Load failed"]) {
      expect(describeFailure(new TypeError(raw), "The sign-in service")).to.equal("The sign-in service could not be reached. Check your network connection.");
    }
    expect(describeFailure(new Error("The local sign-in service is not answering (HTTP 503)."))).to.equal("The local sign-in service is not answering (HTTP 503).");
  });

  it("words a connection error with what the page does next, never 'Connection error: Failed to fetch'", () => {
    const text = describeState({ kind: "error", message: describeFailure(new TypeError("Failed to fetch"), "The sign-in service"), delayMs: 2000 });
    expect(text).to.equal("Not connected. The sign-in service could not be reached. Check your network connection. The page keeps trying, or press Retry now.");
  });
});
