import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { ChatError } from "../../runtime/chat/errors";
import { parseClientFrame } from "../../runtime/chat/frames";
import { MAX_FRAME_BYTES, MAX_TEXT_BYTES } from "../../runtime/protocol";

const id = randomUUID();

function refusal(body: string | undefined): { code: string; clientMessageId?: string } {
  try {
    parseClientFrame(body);
  } catch (error) {
    expect(error).to.be.instanceOf(ChatError);
    const e = error as ChatError;
    return { code: e.code, ...(e.ids.clientMessageId ? { clientMessageId: e.ids.clientMessageId } : {}) };
  }
  throw new Error(`frame was accepted: ${body}`);
}

describe("runtime/chat/frames: client frame validation", () => {
  const table: [string, string | undefined, string][] = [
    ["missing body", undefined, "bad_request"],
    ["empty body", "", "bad_request"],
    ["not JSON", "hello", "bad_request"],
    ["JSON array", "[1,2]", "bad_request"],
    ["JSON null", "null", "bad_request"],
    ["no action", JSON.stringify({ text: "x" }), "bad_request"],
    ["unknown action", JSON.stringify({ action: "delete" }), "bad_request"],
    ["action of the wrong type", JSON.stringify({ action: 7 }), "bad_request"],
    ["API Gateway's sample $default body", "{\r\n\t\"a\": 1\r\n}", "bad_request"],
    ["send without clientMessageId", JSON.stringify({ action: "send", text: "x" }), "bad_request"],
    ["send with a non-UUID clientMessageId", JSON.stringify({ action: "send", clientMessageId: "abc", text: "x" }), "bad_request"],
    ["send without text", JSON.stringify({ action: "send", clientMessageId: id }), "bad_request"],
    ["send with numeric text", JSON.stringify({ action: "send", clientMessageId: id, text: 5 }), "bad_request"],
    ["send with blank text", JSON.stringify({ action: "send", clientMessageId: id, text: "  \n" }), "bad_request"],
    ["send with a numeric sessionId", JSON.stringify({ action: "send", clientMessageId: id, text: "x", sessionId: 3 }), "bad_request"],
    ["send with text over MAX_TEXT_BYTES", JSON.stringify({ action: "send", clientMessageId: id, text: "é".repeat(MAX_TEXT_BYTES / 2 + 1) }), "too_large"],
    ["frame over MAX_FRAME_BYTES", JSON.stringify({ action: "ping", pad: "x".repeat(MAX_FRAME_BYTES) }), "too_large"],
    ["stop without turnId", JSON.stringify({ action: "stop" }), "bad_request"],
    ["stop with an object turnId", JSON.stringify({ action: "stop", turnId: {} }), "bad_request"],
    ["regenerate with an empty turnId", JSON.stringify({ action: "regenerate", turnId: "" }), "bad_request"],
    ["history without sessionId", JSON.stringify({ action: "history" }), "bad_request"],
    ["history with a numeric cursor", JSON.stringify({ action: "history", sessionId: "s", cursor: 1 }), "bad_request"],
  ];
  for (const [name, body, code] of table) {
    it(`refuses ${name} with ${code}`, () => {
      expect(refusal(body).code).to.equal(code);
    });
  }

  it("names the clientMessageId in errors about a send that carries a valid one", () => {
    expect(refusal(JSON.stringify({ action: "send", clientMessageId: id, text: 1 }))).to.deep.equal({ code: "bad_request", clientMessageId: id });
    expect(refusal(JSON.stringify({ action: "send", clientMessageId: id, text: "x".repeat(MAX_TEXT_BYTES + 1) }))).to.deep.equal({ code: "too_large", clientMessageId: id });
  });

  it("counts text size in UTF-8 bytes, accepting exactly MAX_TEXT_BYTES", () => {
    const frame = parseClientFrame(JSON.stringify({ action: "send", clientMessageId: id, text: "€".repeat(Math.floor(MAX_TEXT_BYTES / 3)) }));
    expect(frame.action).to.equal("send");
    expect(refusal(JSON.stringify({ action: "send", clientMessageId: id, text: "€".repeat(Math.floor(MAX_TEXT_BYTES / 3) + 1) })).code).to.equal("too_large");
  });

  it("accepts every action with its fields and drops unknown fields", () => {
    expect(parseClientFrame(JSON.stringify({ action: "send", clientMessageId: id, text: "hi", extra: 1 }))).to.deep.equal({ action: "send", clientMessageId: id, text: "hi" });
    expect(parseClientFrame(JSON.stringify({ action: "send", clientMessageId: id, text: "hi", sessionId: "s1" }))).to.deep.equal({ action: "send", clientMessageId: id, text: "hi", sessionId: "s1" });
    expect(parseClientFrame(JSON.stringify({ action: "stop", turnId: "t" }))).to.deep.equal({ action: "stop", turnId: "t" });
    expect(parseClientFrame(JSON.stringify({ action: "regenerate", turnId: "t" }))).to.deep.equal({ action: "regenerate", turnId: "t" });
    expect(parseClientFrame(JSON.stringify({ action: "sessions" }))).to.deep.equal({ action: "sessions" });
    expect(parseClientFrame(JSON.stringify({ action: "history", sessionId: "s", cursor: "c" }))).to.deep.equal({ action: "history", sessionId: "s", cursor: "c" });
    expect(parseClientFrame(JSON.stringify({ action: "history", sessionId: "s" }))).to.deep.equal({ action: "history", sessionId: "s" });
    expect(parseClientFrame(JSON.stringify({ action: "ping" }))).to.deep.equal({ action: "ping" });
  });
});
