import { expect } from "chai";
import { MAX_TITLE_LENGTH } from "../../runtime/protocol";
import { normaliseTitle, SUMMARY_LENGTH, summaryTitle } from "../../runtime/chat/titles";

describe("runtime/chat/titles", () => {
  it("summarises a first message: one line, Markdown marks dropped, short ones kept whole", () => {
    expect(summaryTitle("  How do I\n\nstop a stream?  ")).to.equal("How do I stop a stream?");
    expect(summaryTitle("# Plan\n- **fast** deploys\n> quoted `code` here")).to.equal("Plan fast deploys quoted code here");
    expect(summaryTitle("```ts\nconst a = 1;\n```")).to.equal("const a = 1;");
    expect(summaryTitle("rename my_table_name please")).to.equal("rename my_table_name please");
  });

  it("cuts a long message at a word boundary with an ellipsis, never mid-word, never over the length", () => {
    const long = "Compare WebSockets and server-sent events for streaming tokens from a large language model to a browser";
    const title = summaryTitle(long);
    expect(title).to.equal("Compare WebSockets and server-sent events for streaming…");
    expect(title.length).to.be.at.most(SUMMARY_LENGTH + 1);
    expect(long.startsWith(title.slice(0, -1))).to.equal(true);
    // One word longer than the summary: cut as is.
    expect(summaryTitle("x".repeat(200))).to.equal(`${"x".repeat(SUMMARY_LENGTH)}…`);
  });

  it("normalises a typed title and refuses empty and over-long ones", () => {
    expect(normaliseTitle("  Trip\tplans \n 2027 ")).to.deep.equal({ title: "Trip plans 2027" });
    expect(normaliseTitle(" \n ")).to.deep.equal({ problem: "title must not be empty" });
    expect(normaliseTitle("z".repeat(MAX_TITLE_LENGTH))).to.deep.equal({ title: "z".repeat(MAX_TITLE_LENGTH) });
    expect(normaliseTitle("z".repeat(MAX_TITLE_LENGTH + 1))).to.have.property("problem");
    // Counted in characters, not UTF-16 units: 120 emoji fit.
    expect(normaliseTitle("🙂".repeat(MAX_TITLE_LENGTH))).to.have.property("title");
  });
});
