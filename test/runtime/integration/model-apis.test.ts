/**
 * The worker's other Bedrock paths with the real SDK through the local stack's Bedrock emulator (real
 * event-stream encoding over HTTP/2): Amazon Nova over InvokeModelWithResponseStream and ConverseStream, each
 * with the guardrail, plus regenerate end to end.
 */
import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { startLocalStack, type LocalStack } from "../../../runtime/local/stack";
import type { ServerFrame, TurnDoneFrame, TurnStartedFrame } from "../../../runtime/protocol";
import { ChatClient } from "./client";

const send = (text: string, extra: Record<string, unknown> = {}) => ({ action: "send", clientMessageId: randomUUID(), text, ...extra });

async function until(condition: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const variants = [
  { name: "Nova over InvokeModelWithResponseStream", model: { id: "us.amazon.nova-lite-v1:0", api: "InvokeModelWithResponseStream" as const } },
  { name: "ConverseStream (async guardrail mode)", model: { id: "us.anthropic.claude-3-5-haiku-20241022-v1:0", api: "ConverseStream" as const }, streamMode: "async" as const },
];

for (const variant of variants) {
  describe(`runtime integration: ${variant.name}`, function () {
    this.timeout(120_000);
    let stack: LocalStack;
    let client: ChatClient;

    before(async () => {
      stack = await startLocalStack({
        ports: { web: 0 },
        staticDir: "/nonexistent",
        model: variant.model,
        guardrail: { id: "gr-local", version: "7", streamMode: variant.streamMode ?? "sync" },
        bedrock: { timing: { timeToFirstTokenMs: 20, tokensPerSecond: 400 } },
        env: { FLUSH_INTERVAL_MS: "20", STOP_POLL_MS: "50", LOG_LEVEL: "SILENT", POWERTOOLS_LOG_LEVEL: "SILENT" },
      });
      client = await ChatClient.open(stack.wsUrl, await stack.token("erin"));
    });
    after(async () => {
      client?.close();
      await stack?.stop();
    });

    async function turn(frame: Record<string, unknown>): Promise<{ started: TurnStartedFrame; done: ServerFrame }> {
      const count = client.of("turn.started").length;
      client.send(frame);
      await until(() => client.of("turn.started").length > count, "turn.started");
      const started = client.of("turn.started")[count]!;
      return { started, done: await client.ending(started.turnId) };
    }

    async function history(sessionId: string) {
      const count = client.of("history").length;
      client.send({ action: "history", sessionId });
      await until(() => client.of("history").length > count, "history");
      return client.of("history")[count]!;
    }

    it("streams an answer with the guardrail named on the request, and saves what was shown", async () => {
      const { started, done } = await turn(send("Describe the ocean."));
      expect(done).to.include({ type: "turn.done", stopReason: "end_turn" });
      expect((done as TurnDoneFrame).usage.outputTokens).to.be.greaterThan(0);
      const request = stack.bedrock.requests.find((r) => r.prompt.includes("Describe the ocean."))!;
      expect(request.api).to.equal(variant.model.api === "ConverseStream" ? "converse" : "invoke");
      expect(request.guardrail).to.include({ identifier: "gr-local", version: "7" });
      if (variant.model.api === "ConverseStream") expect(request.guardrail!.streamProcessingMode).to.equal("async");
      const saved = (await history(started.sessionId)).turns.find((t) => t.turnId === started.turnId)!;
      expect(saved).to.include({ status: "complete", text: client.deltaText(started.turnId) });
    });

    it("reports a guardrail intervention on input and on output", async () => {
      const input = await turn(send("a forbidden topic please"));
      expect(input.done).to.include({ stopReason: "guardrail" });
      expect(client.deltaText(input.started.turnId)).to.equal(stack.bedrock.guardrail.blockedInputMessage);
      const output = await turn(send("write unsafe output now"));
      expect(output.done).to.include({ stopReason: "guardrail" });
      const saved = (await history(output.started.sessionId)).turns.find((t) => t.turnId === output.started.turnId)!;
      expect(saved).to.include({ status: "guardrail", text: client.deltaText(output.started.turnId) });
    });

    it("regenerate answers the same question again; history keeps both versions, the next prompt carries only the new one", async () => {
      const first = await turn(send("Name a colour."));
      const again = await turn({ action: "regenerate", turnId: first.started.turnId });
      expect(again.started).to.include({ sessionId: first.started.sessionId, userTurnId: first.started.userTurnId });
      expect(again.done).to.include({ type: "turn.done", stopReason: "end_turn" });
      const versions = (await history(first.started.sessionId)).turns;
      expect(versions.map((t) => [t.turnId, t.supersededBy])).to.deep.equal([
        [first.started.userTurnId, undefined],
        [first.started.turnId, again.started.turnId],
        [again.started.turnId, undefined],
      ]);
      const turns = versions.filter((t) => t.supersededBy === undefined);
      expect(turns[1]!.text).to.equal(client.deltaText(again.started.turnId));

      await turn(send("And another?", { sessionId: first.started.sessionId }));
      const request = stack.bedrock.requests.find((r) => r.prompt.includes("And another?"))!;
      const body = JSON.stringify(request.body);
      expect(body).to.include(JSON.stringify(turns[1]!.text).slice(1, -1));
      if (client.deltaText(first.started.turnId) !== turns[1]!.text) {
        expect(body).not.to.include(JSON.stringify(client.deltaText(first.started.turnId)).slice(1, -1));
      }
    });
  });
}
