/**
 * How busy this process was while a benchmark ran: event-loop delay (perf_hooks.monitorEventLoopDelay) and the
 * CPU it used, in cores. Everything in-process shares one loop, so a loop delay near a latency's tail says the tail
 * is queueing here, not time spent in the measured path.
 */
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import * as os from "node:os";

/** monitorEventLoopDelay's samples include its own sampling interval; subtracted below to leave the delay. */
const RESOLUTION_MS = 5;

export interface LoopLoad {
  /** False when the loop was never sampled (a benchmark that blocks it with synchronous child processes). */
  sampled: boolean;
  delayP50Ms: number;
  delayP99Ms: number;
  delayMaxMs: number;
  /** Process CPU time / wall time (1.0 = one core fully busy). */
  cpuCores: number;
  /** 1-minute load average of the machine at the end. */
  loadAverage: number;
}

export async function measureLoop<T>(run: () => Promise<T>): Promise<{ result: T; load: LoopLoad }> {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    const result = await run();
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - t0;
    histogram.disable();
    return {
      result,
      load: {
        sampled: histogram.count > 0,
        delayP50Ms: Math.max(0, histogram.percentile(50) / 1e6 - RESOLUTION_MS),
        delayP99Ms: Math.max(0, histogram.percentile(99) / 1e6 - RESOLUTION_MS),
        delayMaxMs: Math.max(0, histogram.max / 1e6 - RESOLUTION_MS),
        cpuCores: (cpu.user + cpu.system) / 1000 / wallMs,
        loadAverage: os.loadavg()[0],
      },
    };
  } finally {
    histogram.disable();
  }
}

export function describeLoad(load: LoopLoad): string {
  if (!load.sampled) return `process CPU ${load.cpuCores.toFixed(2)} cores, machine load average ${load.loadAverage.toFixed(1)} on ${os.cpus().length} cores`;
  return (
    `event-loop delay p50 ${load.delayP50Ms.toFixed(1)} ms / p99 ${load.delayP99Ms.toFixed(1)} ms / max ${load.delayMaxMs.toFixed(0)} ms, ` +
    `process CPU ${load.cpuCores.toFixed(2)} cores, machine load average ${load.loadAverage.toFixed(1)} on ${os.cpus().length} cores`
  );
}
