/** The local model's writing: varied per attempt, Markdown the page renders, the length asked for, clean grammar. */
import { expect } from "chai";
import { countWords, tokenize, wordsAskedFor, writeAnswer } from "../../../runtime/local/emulators/bedrock-text";

const PROMPTS = [
  "How do I cache JWKS keys in Lambda?",
  "What makes a good pizza dough?",
  "Compare DynamoDB vs Postgres for chat history in a table",
  "Give me a list of tips for writing tests",
  "How to set up a Python virtual environment, with bash and python code",
  "Write SQL and JSON examples for a user table",
  "Show me everything Markdown can do",
  "Any good references or docs about WebSocket keepalive?",
  "A quote about simplicity, please",
  "Write a short story about a lighthouse",
  "Write a 600-word story about two foxes",
  "Explain retries with exponential backoff in detail",
  "hi",
  "Tell me about the defaults of the API and the users of it",
];

/** The prose of an answer: code blocks and table rows left out (code may repeat a word on purpose). */
function prose(answer: string): string {
  return answer
    .replace(/```[\s\S]*?```/g, "")
    .split("\n")
    .filter((line) => !line.startsWith("|"))
    .join("\n");
}

describe("local/bedrock-text: the local model's writing", () => {
  it("writes a different answer on each attempt at the same prompt, and the same one again for the same attempt", () => {
    const prompt = "How do I cache JWKS keys in Lambda?";
    const answers = [0, 1, 2, 3].map((attempt) => writeAnswer(prompt, { seed: 5, attempt }));
    expect(new Set(answers).size).to.equal(4);
    expect(writeAnswer(prompt, { seed: 5, attempt: 2 })).to.equal(answers[2]);
    expect(writeAnswer(prompt, { seed: 5 })).to.equal(answers[0]);
    expect(writeAnswer(prompt, { seed: 6, attempt: 2 })).to.not.equal(answers[2]);
  });

  it("writes the Markdown the page renders, as the prompt's words ask", () => {
    const table = writeAnswer("Compare DynamoDB vs Postgres for chat history", { seed: 1 });
    expect(table).to.match(/^\| Aspect \| DynamoDB \| Postgres \|$/m);
    expect(table).to.match(/^\| --- \| --- \| --- \|$/m);
    expect(writeAnswer("Give me a list of tips for writing tests", { seed: 1 })).to.match(/^- \S/m);
    expect(writeAnswer("What are the steps to deploy this?", { seed: 1 })).to.match(/^1\. \S[\s\S]*^2\. \S/m);
    expect(writeAnswer("A quote about simplicity, please", { seed: 1 })).to.match(/^> \S[\s\S]*^> — \S/m);
    expect(writeAnswer("Any docs about WebSocket keepalive?", { seed: 1 })).to.match(/^- \[[^\]]+\]\(https:\/\/[^)\s]+\)$/m);
    const code = writeAnswer("How to set up a virtualenv, with bash and python code", { seed: 1 });
    expect(code).to.include("```python\n").and.to.include("```bash\n");
    expect(writeAnswer("Write SQL and JSON examples for a user table", { seed: 1 })).to.include("```sql\n").and.include("```json\n");
    const all = writeAnswer("Show me everything Markdown can do", { seed: 1 });
    for (const mark of [/^\| --- /m, /^- \S/m, /^1\. /m, /^> /m, /\]\(https:/]) expect(all).to.match(mark);
  });

  it("mixes blocks in by chance when none is asked for, varying across attempts", () => {
    const kinds = new Set<string>();
    for (let attempt = 0; attempt < 30; attempt++) {
      const answer = writeAnswer("Explain how retries work in a queue consumer in 300 words", { seed: 3, attempt });
      if (/^\| --- /m.test(answer)) kinds.add("table");
      if (/^- \S/m.test(answer)) kinds.add("bullets");
      if (/^1\. /m.test(answer)) kinds.add("steps");
      if (/^> /m.test(answer)) kinds.add("quote");
    }
    expect([...kinds].sort()).to.deep.equal(["bullets", "quote", "steps", "table"]);
  });

  it("follows the length asked for in words", () => {
    expect(wordsAskedFor("a 600-word story")).to.equal(600);
    expect(wordsAskedFor("explain it in 300 words")).to.equal(300);
    expect(wordsAskedFor("no number here")).to.equal(undefined);
    for (const [prompt, words] of [
      ["Write a 600-word story about a lighthouse", 600],
      ["Write a 150-word story about a cat", 150],
      ["Explain caching in 300 words", 300],
      ["Write 1000 words on database indexes", 1000],
    ] as const) {
      for (const seed of [1, 2, 3]) {
        const count = countWords(writeAnswer(prompt, { seed }));
        expect(count, `${prompt} (seed ${seed})`).to.be.within(words * 0.9, words * 1.1);
      }
    }
  });

  it("keeps the [[tokens:N]] target: about N tokens of four characters, with only lists mixed in (tests read them as text)", () => {
    for (const target of [5, 50, 400]) {
      const answer = writeAnswer("anything at all", { seed: 1, targetTokens: target });
      expect(answer).to.not.match(/^[|>]|\]\(https:/m);
      expect(answer.length / 4).to.be.at.least(target);
      if (target >= 50) expect(answer.length / 4).to.be.below(target * 1.6);
    }
  });

  it("writes clean grammar: no doubled words, no unfilled slots, capitalised sentences, closed code fences", () => {
    let checked = 0;
    for (const prompt of PROMPTS) {
      for (let seed = 1; seed <= 8; seed++) {
        for (let attempt = 0; attempt < 3; attempt++) {
          const answer = writeAnswer(prompt, { seed, attempt });
          const where = `${prompt} (seed ${seed}, attempt ${attempt}):\n${answer}`;
          const text = prose(answer);
          expect(text, where).to.not.match(/\b(\w+)\s+\1\b/i);
          expect(text, where).to.not.match(/\{[a-z]\}|undefined|NaN|\bnull\b/);
          expect(text, where).to.not.match(/ [,.;:!?]| {2}|\ba [aeiou]\w*/i);
          expect(text, where).to.not.match(/\bthe (a|an|the|this)\b/i);
          expect(text, where).to.not.match(/[.!?] [a-z]/);
          for (const paragraph of text.split(/\n\n+/)) {
            if (paragraph.trim() !== "") expect(paragraph.trim(), where).to.match(/^([A-Z"#>|\-\d]|\*\*)/);
          }
          expect((answer.match(/^```/gm) ?? []).length % 2, where).to.equal(0);
          expect(tokenize(answer).join("")).to.equal(answer);
          checked++;
        }
      }
    }
    expect(checked).to.equal(PROMPTS.length * 24);
  });
});
