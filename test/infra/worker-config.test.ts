/**
 * `chat:worker` and the worker service's keys: defaults, and refusals that name the key and what AWS accepts
 * (Fargate task sizes, stopTimeout ≤ 120 s, drain below stopTimeout, redrive maxReceiveCount 1-1000, the context
 * that must fit one SQS message).
 */
import { expect } from "chai";
import { ConfigError, parseConfig, type RawConfig } from "../../infra/config";
import {
  FARGATE_STOP_TIMEOUT_MAX_SECONDS,
  fargateMemoryChoices,
  maxContextTokensPerJob,
  SQS_MAX_MESSAGE_BYTES,
  SQS_MAX_RECEIVE_COUNT,
} from "../../infra/worker-limits";

function failure(raw: RawConfig): string {
  try {
    parseConfig(raw);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be rejected`);
}

describe("infra config: the worker (chat:worker and the worker service's keys)", () => {
  it("defaults to the worker Lambda and reads no worker service settings", () => {
    expect(parseConfig({}).worker).to.deep.equal({ mode: "lambda" });
    // The service's keys are not judged while the worker is the Lambda.
    expect(parseConfig({ workerCpu: "300" }).worker).to.deep.equal({ mode: "lambda" });
  });

  it("with ecs applies the service defaults: 0.5 vCPU, 1 GiB, 100 turns a task, 1-4 tasks, public subnets, drain 100 s < stop 120 s, 5 receives", () => {
    expect(parseConfig({ worker: "ecs" }).worker).to.deep.equal({
      mode: "ecs",
      service: { cpu: 512, memoryMb: 1024, turnsPerTask: 100, minTasks: 1, maxTasks: 4, network: "public", drainSeconds: 100, stopTimeoutSeconds: 120, queueMaxReceives: 5 },
    });
  });

  it("refuses a worker mode or network it does not know, naming the accepted values", () => {
    expect(failure({ worker: "fargate" })).to.equal('chat:worker is invalid (got "fargate"): expected one of lambda | ecs');
    expect(failure({ worker: "ecs", workerNetwork: "private" })).to.equal('chat:workerNetwork is invalid (got "private"): expected one of public | nat');
    expect(parseConfig({ worker: "ecs", workerNetwork: "nat" }).worker.service?.network).to.equal("nat");
  });

  describe("Fargate task sizes (ECS developer guide, task size table)", () => {
    it("knows every CPU value's memory sizes, the table's first and last of each", () => {
      expect(fargateMemoryChoices(256)).to.deep.equal([512, 1024, 2048]);
      expect(fargateMemoryChoices(512)).to.deep.equal([1024, 2048, 3072, 4096]);
      expect(fargateMemoryChoices(1024)).to.deep.equal([2048, 3072, 4096, 5120, 6144, 7168, 8192]);
      const ends = (cpu: number) => {
        const choices = fargateMemoryChoices(cpu);
        return [choices[0], choices[choices.length - 1], choices[1]! - choices[0]!];
      };
      expect(ends(2048)).to.deep.equal([4096, 16_384, 1024]);
      expect(ends(4096)).to.deep.equal([8192, 30_720, 1024]);
      expect(ends(8192)).to.deep.equal([16_384, 61_440, 4096]);
      expect(ends(16_384)).to.deep.equal([32_768, 122_880, 8192]);
      expect(fargateMemoryChoices(768)).to.deep.equal([]);
    });

    it("accepts every valid combination and refuses the near misses", () => {
      for (const cpu of [256, 512, 1024, 2048, 4096, 8192, 16_384]) {
        for (const memory of fargateMemoryChoices(cpu)) {
          expect(parseConfig({ worker: "ecs", workerCpu: cpu, workerMemory: memory }).worker.service).to.include({ cpu, memoryMb: memory });
        }
      }
      expect(failure({ worker: "ecs", workerCpu: 768 })).to.match(/^chat:workerCpu is invalid \(got 768\): expected Fargate task CPU units: 256, 512, 1024/);
      expect(failure({ worker: "ecs", workerCpu: 256, workerMemory: 4096 })).to.equal("chat:workerMemory is invalid (got 4096): expected MiB that Fargate pairs with 256 CPU units: 512, 1024, 2048");
      expect(failure({ worker: "ecs", workerCpu: 2048, workerMemory: 4608 })).to.equal("chat:workerMemory is invalid (got 4608): expected MiB that Fargate pairs with 2048 CPU units: 4096 to 16384 in steps of 1024");
      expect(failure({ worker: "ecs", workerCpu: 8192, workerMemory: 18_432 })).to.match(/16384 to 61440 in steps of 4096/);
    });
  });

  it("keeps the drain strictly below stopTimeout, and stopTimeout at most Fargate's 120 s", () => {
    expect(FARGATE_STOP_TIMEOUT_MAX_SECONDS).to.equal(120);
    expect(failure({ worker: "ecs", workerStopTimeoutSeconds: 121 })).to.equal("chat:workerStopTimeoutSeconds is invalid (got 121): expected an integer from 2 to 120");
    expect(failure({ worker: "ecs", workerDrainSeconds: 120 })).to.equal("chat:workerDrainSeconds is invalid (got 120): expected an integer from 1 to 119 (below chat:workerStopTimeoutSeconds, 120)");
    expect(failure({ worker: "ecs", workerStopTimeoutSeconds: 60 })).to.match(/^chat:workerDrainSeconds is invalid \(got 100\): expected an integer from 1 to 59/);
    expect(parseConfig({ worker: "ecs", workerStopTimeoutSeconds: 60, workerDrainSeconds: 45 }).worker.service).to.include({ stopTimeoutSeconds: 60, drainSeconds: 45 });
  });

  it("takes the redrive maxReceiveCount within SQS's 1-1000", () => {
    expect(SQS_MAX_RECEIVE_COUNT).to.deep.equal({ min: 1, max: 1000 });
    expect(parseConfig({ worker: "ecs", workerQueueMaxReceives: 1000 }).worker.service?.queueMaxReceives).to.equal(1000);
    expect(failure({ worker: "ecs", workerQueueMaxReceives: 0 })).to.equal("chat:workerQueueMaxReceives is invalid (got 0): expected an integer from 1 to 1000");
    expect(failure({ worker: "ecs", workerQueueMaxReceives: 1001 })).to.match(/from 1 to 1000/);
  });

  it("keeps min ≤ max tasks and the turns per task in range", () => {
    expect(failure({ worker: "ecs", workerMinTasks: 5, workerMaxTasks: 2 })).to.equal("chat:workerMaxTasks is invalid (got 2): expected an integer from chat:workerMinTasks (5) to 100");
    expect(failure({ worker: "ecs", workerMinTasks: 0 })).to.match(/^chat:workerMinTasks is invalid \(got 0\): expected an integer from 1 to 100/);
    expect(failure({ worker: "ecs", workerTurnsPerTask: 0 })).to.match(/^chat:workerTurnsPerTask is invalid/);
  });

  it("with ecs refuses a context budget whose history could not fit one SQS message (1 MiB)", () => {
    expect(SQS_MAX_MESSAGE_BYTES).to.equal(1_048_576);
    const max = maxContextTokensPerJob();
    // Two bytes a token (JSON escapes) plus the user's message must stay within the message size.
    expect(max * 2 + 131_072).to.be.at.most(SQS_MAX_MESSAGE_BYTES);
    expect(parseConfig({ worker: "ecs", contextBudgetTokens: max }).contextBudgetTokens).to.equal(max);
    expect(failure({ worker: "ecs", contextBudgetTokens: max + 1 })).to.match(new RegExp(`^chat:contextBudgetTokens is invalid \\(got ${max + 1}\\): expected an integer from 256 to ${max} with chat:worker ecs`));
    // The worker Lambda reads the context itself: the budget is not bound by SQS there.
    expect(parseConfig({ contextBudgetTokens: 1_000_000 }).contextBudgetTokens).to.equal(1_000_000);
  });
});
