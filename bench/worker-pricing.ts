/**
 * What generating answers costs in each worker mode, at list prices (us-east-1), checked on 2026-12-04:
 * - AWS Lambda pricing, https://aws.amazon.com/lambda/pricing/ — Arm: $0.0000133334 per GB-second, $0.20 per million
 *   requests (bench/pricing.ts holds the same figures).
 * - AWS Fargate pricing, https://aws.amazon.com/fargate/pricing/ — Linux/ARM: $0.03238 per vCPU-hour, $0.00356 per
 *   GB-hour, per second with a one-minute minimum.
 * - Amazon SQS pricing, https://aws.amazon.com/sqs/pricing/ — standard queue: $0.40 per million requests after the
 *   first million a month (each request up to 64 KB counts as one).
 * - Amazon VPC pricing, https://aws.amazon.com/vpc/pricing/ — a public IPv4 address: $0.005 per hour (each task in a
 *   public subnet, the program's default networking without a NAT gateway, holds one).
 * The message handler, API Gateway, DynamoDB and Bedrock cost the same in both modes and are left out.
 */
import { parseConfig } from "../infra/config";
import { FUNCTION_MEMORY_MB, PRICES } from "./pricing";

export const WORKER_PRICES = {
  lambdaArmGbSecond: PRICES.lambdaArmGbSecond,
  lambdaRequest: PRICES.lambdaRequest,
  fargateArmVcpuHour: 0.03238,
  fargateArmGbHour: 0.00356,
  sqsRequest: 0.4 / 1_000_000,
  publicIpv4Hour: 0.005,
  checkedOn: "2026-12-04",
  sources: [
    "https://aws.amazon.com/lambda/pricing/",
    "https://aws.amazon.com/fargate/pricing/",
    "https://aws.amazon.com/sqs/pricing/",
    "https://aws.amazon.com/vpc/pricing/",
  ],
} as const;

/** The ECS task the cost assumes: its size, how many run at least, and how full the scaling policy keeps them. */
export interface EcsTaskAssumption {
  vcpu: number;
  memoryGb: number;
  minTasks: number;
  /** In-flight turns per task over its capacity that target tracking keeps (a task is never run full). */
  utilization: number;
  /** WORKER_TURNS_PER_TASK: the most turns one task takes. */
  turnsPerTask: number;
}

/** The share of a task's turns that the service's target tracking keeps in flight (infra/worker-service.ts, IN_FLIGHT_TARGET_SHARE). */
export const SCALING_TARGET_SHARE = 0.7;

/** The worker task a stack gets by default (`chat:worker: ecs` and no other worker key): infra/config.ts's defaults. */
function stackDefaultTask(): EcsTaskAssumption {
  const service = parseConfig({ worker: "ecs" }).worker.service;
  if (!service) throw new Error("infra/config.ts gave no worker service for chat:worker: ecs");
  return { vcpu: service.cpu / 1024, memoryGb: service.memoryMb / 1024, minTasks: service.minTasks, utilization: SCALING_TARGET_SHARE, turnsPerTask: service.turnsPerTask };
}

export const DEFAULT_ECS_TASK: EcsTaskAssumption = stackDefaultTask();

/** SQS requests per answer: SendMessage, its share of a ReceiveMessage (up to 10 jobs), DeleteMessage. */
export const SQS_REQUESTS_PER_ANSWER = 3;
const HOURS_PER_MONTH = 730;

/** Lambda: the worker function holds its memory for the whole answer; one asynchronous invocation per answer. */
export function lambdaUsdPerAnswer(answerMs: number): number {
  return (FUNCTION_MEMORY_MB.worker / 1024) * (answerMs / 1000) * WORKER_PRICES.lambdaArmGbSecond + WORKER_PRICES.lambdaRequest;
}

export function taskUsdPerHour(task: EcsTaskAssumption): number {
  return task.vcpu * WORKER_PRICES.fargateArmVcpuHour + task.memoryGb * WORKER_PRICES.fargateArmGbHour + WORKER_PRICES.publicIpv4Hour;
}

/** The turns one task carries at once: its vCPU times the measured streams per vCPU, at most turnsPerTask. */
export function streamsPerTask(task: EcsTaskAssumption, streamsPerVcpu: number): number {
  return Math.max(1, Math.min(task.turnsPerTask, Math.floor(task.vcpu * streamsPerVcpu)));
}

/** ECS: a task's time shared by the answers it streams at once (at the scaling target's fill), plus the queue's requests. */
export function ecsUsdPerAnswer(answerMs: number, streamsPerVcpu: number, task: EcsTaskAssumption = DEFAULT_ECS_TASK): number {
  const concurrent = streamsPerTask(task, streamsPerVcpu) * task.utilization;
  return (taskUsdPerHour(task) / 3_600_000) * (answerMs / concurrent) + SQS_REQUESTS_PER_ANSWER * WORKER_PRICES.sqsRequest;
}

/** ECS's floor: the minimum tasks run all month whatever the traffic (their idle long polls are 3 requests a minute each). */
export function ecsFixedUsdPerMonth(task: EcsTaskAssumption = DEFAULT_ECS_TASK): number {
  const idlePolls = task.minTasks * 3 * 60 * HOURS_PER_MONTH * WORKER_PRICES.sqsRequest;
  return task.minTasks * taskUsdPerHour(task) * HOURS_PER_MONTH + idlePolls;
}

/**
 * Answers a month above which ECS costs less: Lambda grows with every answer, ECS starts at its floor and then grows
 * more slowly (the floor's tasks carry the first answers, counted here once more: an upper bound). Infinity when ECS
 * never catches up.
 */
export function breakEvenAnswersPerMonth(answerMs: number, streamsPerVcpu: number, task: EcsTaskAssumption = DEFAULT_ECS_TASK): number {
  const perAnswerGap = lambdaUsdPerAnswer(answerMs) - ecsUsdPerAnswer(answerMs, streamsPerVcpu, task);
  return perAnswerGap > 0 ? ecsFixedUsdPerMonth(task) / perAnswerGap : Number.POSITIVE_INFINITY;
}
