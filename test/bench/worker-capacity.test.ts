/** Streams per vCPU of the worker service, and why a level misses, worded from the figures (bench/worker-capacity.ts). */
import { expect } from "chai";
import { capacity, capacityFindings, type LevelMeasure } from "../../bench/worker-capacity";

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
});
