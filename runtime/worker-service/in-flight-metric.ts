/**
 * Publishes the worker service's in-flight turns every WORKER_METRIC_INTERVAL_MS as one EMF line (Powertools
 * metrics), with exactly the name and dimensions of WORKER_IN_FLIGHT_METRIC: the program's target-tracking scaling
 * policy names the same metric, and CloudWatch matches a metric only by its full set of dimensions.
 */
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { Clock, TimerHandle } from "../chat/ports";
import { WORKER_IN_FLIGHT_METRIC, WORKER_METRIC_INTERVAL_MS } from "../env";
import { METRICS_NAMESPACE } from "../metrics";

export type PublishInFlight = (inFlight: number) => void;

/** One EMF line: `service` is Powertools' default dimension, set to the metric's own value. */
export const publishInFlightEmf: PublishInFlight = (inFlight) => {
  const emf = new Metrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
    serviceName: WORKER_IN_FLIGHT_METRIC.dimensions.service,
  });
  emf.addMetric(WORKER_IN_FLIGHT_METRIC.name, MetricUnit.Count, inFlight);
  emf.publishStoredMetrics();
};

/** Publishes `inFlight()` now and every interval until the returned handle is cancelled. */
export function publishInFlightEvery(inFlight: () => number, clock: Clock, publish: PublishInFlight = publishInFlightEmf, intervalMs = WORKER_METRIC_INTERVAL_MS): TimerHandle {
  let timer: TimerHandle | undefined;
  let cancelled = false;
  const tick = () => {
    if (cancelled) return;
    publish(inFlight());
    timer = clock.setTimer(intervalMs, tick);
  };
  tick();
  return {
    cancel() {
      cancelled = true;
      timer?.cancel();
    },
  };
}
