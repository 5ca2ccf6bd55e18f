/**
 * Streams per vCPU of the worker service (issue 13: ≥ 200 with relay p99 ≤ 60 ms), from the levels the workers
 * benchmark ran: stream-seconds carried per second of the worker process's CPU (what one fully used vCPU carries) at
 * the highest level whose relay p99 met the bound with no failed answer, and, when that falls short, what kept the
 * levels that would show it from meeting the bound: the worker itself, or this process and the machine.
 */
import { fmt } from "./stats";

export interface LevelMeasure {
  streams: number;
  relayP99Ms: number;
  failures: number;
  /** Answers × the unloaded answer duration (bench/workers.ts), s. */
  streamSeconds: number;
  /** CPU the worker service process used while the level ran, ms. */
  workerCpuMs: number;
  workerCores: number;
  /** This process: gateway, handlers, emulators and clients (one event loop). */
  benchCores: number;
  loopDelayP99Ms: number;
  loadAverage: number;
}

export interface LevelCapacity {
  level: LevelMeasure;
  /** Stream-seconds per CPU-second of the worker. */
  perVcpu: number;
  cpuMsPerStreamSecond: number;
  withinBound: boolean;
}

export interface Capacity {
  levels: LevelCapacity[];
  /** The highest level within the bound. */
  best?: LevelCapacity;
  goalMet: boolean;
}

export function capacity(levels: LevelMeasure[], boundMs: number, goal: number): Capacity {
  const measured = levels.map((level) => {
    const cpuMsPerStreamSecond = level.workerCpuMs / Math.max(0.001, level.streamSeconds);
    return { level, cpuMsPerStreamSecond, perVcpu: 1000 / Math.max(0.001, cpuMsPerStreamSecond), withinBound: level.relayP99Ms <= boundMs && level.failures === 0 };
  });
  const best = [...measured].sort((a, b) => b.level.streams - a.level.streams).find((x) => x.withinBound);
  return { levels: measured, best, goalMet: best !== undefined && best.perVcpu >= goal };
}

/** Why the goal was or was not shown, in figures (findings of the benchmark's section). */
export function capacityFindings(c: Capacity, boundMs: number, goal: number, machineCores: number): string[] {
  const budgetMs = 1000 / goal;
  const byLevel = c.levels.map((x) => `${x.level.streams}: ${fmt(x.cpuMsPerStreamSecond, "ms")}`).join(", ");
  const notes = [
    `Streams per vCPU: the goal (≥ ${goal}) needs the worker to spend at most ${fmt(budgetMs, "ms")} of CPU per stream-second at a level whose relay p99 is ≤ ${boundMs} ms. ` +
      `Worker CPU per stream-second by level: ${byLevel}` +
      (c.levels.length > 1 && c.levels.at(-1)!.cpuMsPerStreamSecond < c.levels[0].cpuMsPerStreamSecond
        ? "; it falls with concurrency, as a busy process shares each wake-up (socket reads, timers) among many turns."
        : "."),
  ];
  if (c.goalMet && c.best) {
    notes.push(`Goal met at ${c.best.level.streams} streams: ${fmt(c.best.perVcpu, "")} streams per vCPU with relay p99 ${fmt(c.best.level.relayP99Ms)}.`);
    return notes;
  }
  const best = c.best
    ? `The highest level within the bound was ${c.best.level.streams} streams: ${fmt(c.best.perVcpu, "")} streams per vCPU (worker ${c.best.level.workerCores.toFixed(2)} cores).`
    : "No level was within the bound.";
  const cheapEnough = c.levels.filter((x) => x.cpuMsPerStreamSecond <= budgetMs);
  if (cheapEnough.length === 0) {
    const top = c.levels.reduce((a, b) => (b.level.streams > a.level.streams ? b : a));
    notes.push(
      `${best} No level brought the worker to ${fmt(budgetMs, "ms")} per stream-second: at ${top.level.streams} streams it spent ${fmt(top.cpuMsPerStreamSecond, "ms")} ` +
        `(${fmt(top.perVcpu, "")} streams per vCPU by its CPU alone), so the worker's own cost misses the goal on this machine, whatever the load generator does.`,
    );
    const firstMiss = c.levels.find((x) => !x.withinBound);
    if (firstMiss) {
      const { level } = firstMiss;
      notes.push(
        `The relay bound itself was missed from ${level.streams} streams on (p99 ${fmt(level.relayP99Ms)}${level.failures ? `, ${level.failures} failed answers` : ""}), ` +
          `while the worker used ${level.workerCores.toFixed(2)} cores and this process (gateway, handlers, emulators, clients on one thread) ${level.benchCores.toFixed(2)}, ` +
          `with an event-loop delay p99 of ${fmt(level.loopDelayP99Ms)}, on a machine whose load average was ${level.loadAverage.toFixed(1)} on ${machineCores} cores ` +
          `shared with other work: one run's tail there moves with that load from run to run (compare the Lambda column, same stack without a worker process).`,
      );
    }
    return notes;
  }
  for (const x of cheapEnough.filter((y) => !y.withinBound)) {
    const { level } = x;
    const used = level.workerCores + level.benchCores;
    notes.push(
      `${best} At ${level.streams} streams the worker's CPU alone would carry ${fmt(x.perVcpu, "")} streams per vCPU (${fmt(x.cpuMsPerStreamSecond, "ms")} per stream-second), ` +
        `but relay p99 was ${fmt(level.relayP99Ms)}${level.failures ? ` with ${level.failures} failed answers` : ""}: this process (gateway, handlers, emulators, ${level.streams} clients on one thread) ` +
        `used ${level.benchCores.toFixed(2)} cores with an event-loop delay p99 of ${fmt(level.loopDelayP99Ms)}, the worker ${level.workerCores.toFixed(2)}, together ${used.toFixed(2)} of the machine's ` +
        `${machineCores} cores, whose load average was ${level.loadAverage.toFixed(1)} with the other work on it. The worker's CPU was not the limit there; showing the goal ` +
        `needs the load generator (this process) on other cores than the worker's.`,
    );
  }
  return notes;
}
