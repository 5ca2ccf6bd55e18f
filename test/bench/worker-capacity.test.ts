/** Streams per vCPU of the worker service, and why a level misses, worded from the figures (bench/worker-capacity.ts). */
import { expect } from "chai";
import { capacity, capacityFindings, nearBoth, pooled, type LevelMeasure } from "../../bench/worker-capacity";

const level = (streams: number, over: Partial<LevelMeasure> = {}): LevelMeasure => ({
  streams,
  relayP99Ms: 50,
  failures: 0,
  streamSeconds: streams * 20,
  workerCpuMs: streams * 20 * 10,
  workerCores: 0.2,
  benchCores: 0.5,
  loopDelayP99Ms: 5,
  loadAverage: 1,
  ...over,
});

describe("bench: worker capacity (streams per vCPU)", () => {
  it("takes stream-seconds per worker CPU-second at the highest level within the bound with no failure", () => {
    const found = capacity(
      [level(10), level(25, { workerCpuMs: 25 * 20 * 4 }), level(50, { relayP99Ms: 61, workerCpuMs: 50 * 20 * 3 }), level(100, { failures: 1, workerCpuMs: 100 * 20 * 2 })],
      60,
      200,
    );
    expect(found.levels.map((x) => Math.round(x.perVcpu))).to.deep.equal([100, 250, 333, 500]);
    expect(found.best?.level.streams).to.equal(25);
    expect(found.goalMet).to.equal(true);
    expect(capacityFindings(found, 60, 200, 2).at(-1)).to.match(/^Goal met at 25 streams: 250 streams per vCPU/);
  });

  it("says the load generator and the machine kept a level that the worker's CPU would carry from the bound", () => {
    const found = capacity([level(10), level(200, { relayP99Ms: 300, workerCpuMs: 200 * 20 * 4, benchCores: 0.98, workerCores: 0.8, loadAverage: 3.2 })], 60, 200);
    expect(found.goalMet).to.equal(false);
    expect(found.best?.level.streams).to.equal(10);
    const notes = capacityFindings(found, 60, 200, 2);
    expect(notes[0]).to.include("at most 5.00 ms of CPU per stream-second").and.include("10: 10.0 ms, 200: 4.00 ms");
    expect(notes[1]).to.include("The highest level within the bound was 10 streams: 100 streams per vCPU").and.include("At 200 streams the worker's CPU alone would carry 250 streams per vCPU");
    expect(notes[1]).to.include("used 0.98 cores").and.include("together 1.78 of the machine's 2 cores").and.include("The worker's CPU was not the limit there");
  });

  it("says when the worker's own cost misses the goal at every level", () => {
    const found = capacity([level(10, { relayP99Ms: 70 }), level(50, { relayP99Ms: 90, workerCpuMs: 50 * 20 * 8 })], 60, 200);
    expect(found.best).to.equal(undefined);
    const notes = capacityFindings(found, 60, 200, 2);
    expect(notes[1]).to.match(/^No level was within the bound\. No level brought the worker to 5.00 ms per stream-second: at 50 streams it spent 8.00 ms \(125 streams per vCPU/);
    expect(notes[2]).to.match(/^The relay bound itself was missed from 10 streams on \(p99 70\.0 ms\), while the worker used 0\.20 cores and this process .* 0\.50, with an event-loop delay p99 of 5\.00 ms/);
  });

  it("runs a level again only when its first run came within 25% of both the bound and the CPU budget", () => {
    // The goal of 200 per vCPU is a budget of 5 ms per stream-second; 25% above it is 6.25 ms, and 75 ms above a 60 ms bound.
    expect(nearBoth(level(75, { relayP99Ms: 75, workerCpuMs: 75 * 20 * 6.25 }), 60, 200)).to.equal(true);
    expect(nearBoth(level(75, { relayP99Ms: 75.1, workerCpuMs: 75 * 20 * 4 }), 60, 200)).to.equal(false);
    expect(nearBoth(level(50, { relayP99Ms: 52, workerCpuMs: 50 * 20 * 6.3 }), 60, 200)).to.equal(false);
    expect(nearBoth(level(200, { relayP99Ms: 150, workerCpuMs: 200 * 20 * 3 }), 60, 200)).to.equal(false);
  });

  it("takes a level's runs together: the median relay p99, CPU over all stream-seconds, every failure", () => {
    const runs = [
      level(75, { relayP99Ms: 56.4, workerCpuMs: 7000, streamSeconds: 1500, loadAverage: 1.1 }),
      level(75, { relayP99Ms: 66.1, workerCpuMs: 6000, streamSeconds: 1400, failures: 1, loadAverage: 1.9 }),
      level(75, { relayP99Ms: 57.0, workerCpuMs: 6500, streamSeconds: 1600, loadAverage: 1.3 }),
    ];
    const one = pooled(runs);
    expect(one.relayP99Ms).to.equal(57.0);
    expect(one.relayRunsMs).to.deep.equal([56.4, 66.1, 57.0]);
    expect(one.workerCpuMs).to.equal(19_500);
    expect(one.streamSeconds).to.equal(4_500);
    expect(one.failures).to.equal(1);
    expect(one.loadAverage).to.equal(1.3);
    expect(pooled([runs[0]!])).to.equal(runs[0]);
    expect(() => pooled([])).to.throw(/no runs/);
    expect(() => pooled([level(50), level(75)])).to.throw(/different levels/);

    // A failed answer in any run keeps the level out of the bound, and the findings quote every run's p99.
    const found = capacity([level(10), one], 60, 200);
    expect(found.best?.level.streams).to.equal(10);
    const clean = capacity([level(10), pooled(runs.map((r) => ({ ...r, failures: 0 })))], 60, 200);
    expect(clean.best?.level.streams).to.equal(75);
    expect(Math.round(clean.best!.perVcpu)).to.equal(231);
    expect(capacityFindings(clean, 60, 200, 2).at(-1)).to.equal("Goal met at 75 streams: 231 streams per vCPU with relay p99 57.0 ms (median of 3 runs: 56.4 ms, 66.1 ms, 57.0 ms).");
  });
});
