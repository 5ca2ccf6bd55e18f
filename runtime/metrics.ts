/**
 * CloudWatch metrics in embedded metric format (Powertools for AWS Lambda metrics): time to first token, output
 * tokens, frames per turn, stops, guardrail interventions and errors by code. Each use builds its own Metrics
 * object and publishes it at once (one EMF line), so concurrent invocations in one process (the local stack)
 * cannot mix their metrics.
 */
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { ChatMetrics } from "./chat/ports";
import { SERVICE_NAME } from "./log";

export const METRICS_NAMESPACE = "StreamingChat";

function batch(): Metrics {
  return new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE, serviceName: SERVICE_NAME });
}

export function createMetrics(): ChatMetrics {
  return {
    turnFinished({ ttftMs, outputTokens, frames, stopReason, cause }) {
      const emf = batch();
      emf.addMetric("OutputTokens", MetricUnit.Count, outputTokens);
      emf.addMetric("FramesPerTurn", MetricUnit.Count, frames);
      if (ttftMs !== null) emf.addMetric("TimeToFirstToken", MetricUnit.Milliseconds, ttftMs);
      emf.addMetric("Stops", MetricUnit.Count, stopReason === "stopped" ? 1 : 0);
      emf.addMetric("GuardrailInterventions", MetricUnit.Count, stopReason === "guardrail" ? 1 : 0);
      emf.addMetadata("cause", cause);
      emf.publishStoredMetrics();
    },
    error(code) {
      const emf = batch();
      emf.addDimension("code", code);
      emf.addMetric("Errors", MetricUnit.Count, 1);
      emf.publishStoredMetrics();
    },
  };
}

export const noMetrics: ChatMetrics = { turnFinished: () => {}, error: () => {} };
