/** The worker's own Lambda deadline through the local stack: the turn is closed cleanly before the timeout. */
import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { startLocalStack, type LocalStack } from "../../../runtime/local/stack";
import type { ServerFrame, TurnDoneFrame, TurnStartedFrame } from "../../../runtime/protocol";
import { ChatClient } from "./client";

describe("runtime integration: a worker near its Lambda timeout", function () {
  this.timeout(60_000);
  let stack: LocalStack;
  let client: ChatClient;

  before(async () => {
    stack = await startLocalStack({
      // The Lambda worker's own deadline (the worker service's drain is test/local/worker-service.test.ts).
      worker: "lambda",
      ports: { web: 0 },
      staticDir: "/nonexistent",
      // A margin that leaves a loaded machine time to save and post the end (event-loop stalls of over a second happen).
      functionTimeoutsMs: { worker: 8_000 },
      bedrock: { timing: { timeToFirstTokenMs: 20, tokensPerSecond: 20 } },
      env: { DEADLINE_MARGIN_MS: "4000", FLUSH_INTERVAL_MS: "20", LOG_LEVEL: "SILENT", POWERTOOLS_LOG_LEVEL: "SILENT" },
    });
    client = await ChatClient.open(stack.wsUrl, await stack.token("frank"));
  });
  after(async () => {
    client?.close();
    await stack?.stop();
  });

  it("saves the partial answer as stopped and sends turn.done before the function times out", async () => {
    client.send({ action: "send", clientMessageId: randomUUID(), text: "A very long essay [[tokens:1000]]" });
    const started = (await client.waitFor((f: ServerFrame) => f.type === "turn.started")) as TurnStartedFrame;
    const done = (await client.ending(started.turnId, 20_000)) as TurnDoneFrame;
    expect(done).to.include({ type: "turn.done", stopReason: "stopped" });
    // Before the timeout: the worker's invocation ended without Lambda's "Task timed out".
    await stack.functions.drain();
    const workers = stack.functions.invocations.filter((i) => i.functionName === "worker");
    expect(workers.map((i) => i.error ?? "ok")).to.deep.equal(["ok"]);
    const shown = client.deltaText(started.turnId);
    expect(shown.length).to.be.greaterThan(0);
    client.send({ action: "history", sessionId: started.sessionId });
    const history = await client.waitFor((f: ServerFrame) => f.type === "history");
    expect(history.type === "history" && history.turns.find((t) => t.turnId === started.turnId)).to.include({ status: "stopped", text: shown });
  });
});
