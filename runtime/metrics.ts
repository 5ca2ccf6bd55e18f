/**
 * CloudWatch metrics in embedded metric format (Powertools for AWS Lambda metrics): time to first token, output
 * tokens, frames per turn, stops, guardrail interventions and errors by code. Each use adds its metrics and publishes
 * them in one synchronous call (one EMF line; publishing clears the metrics, dimensions and metadata), so concurrent
 * turns in one process (the worker service, the local stack) cannot mix theirs, and one Metrics object per
 * createMetrics() (which a container calls once) serves them all: building one per turn (its console, its stores, its
 * environment reads) cost the worker service about 0.14 ms per answer.
 */
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { ChatMetrics } from "./chat/ports";
import { SERVICE_NAME } from "./log";

export const METRICS_NAMESPACE = "StreamingChat";

export function createMetrics(): ChatMetrics {
  let metrics: Metrics | undefined;
  // Made at first use, with the environment of that moment (namespace, POWERTOOLS_METRICS_DISABLED).
  const batch = () => (metrics ??= new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE, serviceName: SERVICE_NAME }));
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
