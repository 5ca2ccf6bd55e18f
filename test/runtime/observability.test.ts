import { expect } from "chai";
import { createLog } from "../../runtime/log";
import { createMetrics, METRICS_NAMESPACE } from "../../runtime/metrics";

/** Captures what is written to stdout while `run` executes (Powertools writes JSON lines there). */
function captureStdout(run: () => void): Record<string, unknown>[] {
  const lines: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split("\n").filter((l) => l.trim().startsWith("{")));
    return true;
  }) as typeof process.stdout.write;
  try {
    run();
  } finally {
    process.stdout.write = original;
  }
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("runtime/log and runtime/metrics", () => {
  it("logs structured JSON with the correlation ids as keys", () => {
    const [line] = captureStdout(() => createLog("INFO").info("turn finished", { connectionId: "c1", turnId: "t1", frames: 3, dropped: undefined }));
    expect(line).to.include({ level: "INFO", message: "turn finished", service: "streaming-chat", connectionId: "c1", turnId: "t1", frames: 3 });
    expect(line).not.to.have.property("dropped");
  });

  it("publishes turn metrics and errors by code in CloudWatch embedded metric format", () => {
    const saved = process.env.POWERTOOLS_METRICS_DISABLED;
    delete process.env.POWERTOOLS_METRICS_DISABLED;
    try {
      const metrics = createMetrics();
      const lines = captureStdout(() => {
        metrics.turnFinished({ ttftMs: 310, outputTokens: 42, frames: 9, stopReason: "stopped", cause: "stopped" });
        metrics.error("rate_limited");
        metrics.turnFinished({ ttftMs: null, outputTokens: 7, frames: 2, stopReason: "end_turn", cause: "end_turn" });
      });
      expect(lines).to.have.length(3);
      // One Metrics object serves every use: each line carries only its own metrics and dimensions.
      expect(lines[2]).to.include({ OutputTokens: 7, FramesPerTurn: 2, Stops: 0 });
      expect(lines[2]).not.to.have.any.keys("code", "Errors", "TimeToFirstToken");
      const [turn, error] = lines as [Record<string, unknown> & { _aws: { CloudWatchMetrics: { Namespace: string; Metrics: { Name: string }[]; Dimensions: string[][] }[] } }, Record<string, unknown>];
      const directive = turn._aws.CloudWatchMetrics[0]!;
      expect(directive.Namespace).to.equal(METRICS_NAMESPACE);
      expect(directive.Metrics.map((m) => m.Name).sort()).to.deep.equal(["FramesPerTurn", "GuardrailInterventions", "OutputTokens", "Stops", "TimeToFirstToken"]);
      expect(turn).to.include({ TimeToFirstToken: 310, OutputTokens: 42, FramesPerTurn: 9, Stops: 1, GuardrailInterventions: 0 });
      expect(error).to.include({ Errors: 1, code: "rate_limited" });
    } finally {
      if (saved !== undefined) process.env.POWERTOOLS_METRICS_DISABLED = saved;
    }
  });
});
