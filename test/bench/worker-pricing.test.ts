/** The ECS cost assumes the task a stack gets by default (bench/worker-pricing.ts). */
import { expect } from "chai";
import { DEFAULT_ECS_TASK, SCALING_TARGET_SHARE, ecsUsdPerAnswer, streamsPerTask, taskUsdPerHour } from "../../bench/worker-pricing";
import { parseConfig } from "../../infra/config";
import { IN_FLIGHT_TARGET_SHARE } from "../../infra/worker-service";

describe("bench: worker pricing", () => {
  it("prices the stack's default worker task (0.5 vCPU, 1 GiB, 100 turns, one task at least) at the service's scaling target", () => {
    const service = parseConfig({ worker: "ecs" }).worker.service!;
    expect(DEFAULT_ECS_TASK).to.deep.equal({ vcpu: service.cpu / 1024, memoryGb: service.memoryMb / 1024, minTasks: service.minTasks, utilization: IN_FLIGHT_TARGET_SHARE, turnsPerTask: service.turnsPerTask });
    expect(SCALING_TARGET_SHARE).to.equal(IN_FLIGHT_TARGET_SHARE);
    expect(DEFAULT_ECS_TASK).to.include({ vcpu: 0.5, memoryGb: 1, turnsPerTask: 100, minTasks: 1 });
    // Fargate ARM64 $0.03238/vCPU-h and $0.00356/GB-h, plus the task's public IPv4 address at $0.005/h.
    expect(taskUsdPerHour(DEFAULT_ECS_TASK)).to.be.closeTo(0.5 * 0.03238 + 1 * 0.00356 + 0.005, 1e-12);
  });

  it("fills a task with the streams its vCPU carries, at most its turns", () => {
    expect(streamsPerTask(DEFAULT_ECS_TASK, 150)).to.equal(75);
    expect(streamsPerTask(DEFAULT_ECS_TASK, 240)).to.equal(100);
    // More streams per vCPU never costs more per answer.
    expect(ecsUsdPerAnswer(2000, 240)).to.be.at.most(ecsUsdPerAnswer(2000, 150));
  });
});
