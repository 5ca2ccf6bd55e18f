/**
 * The AWS limits the ECS worker service is built within. Mocks accept any value; these are where AWS refuses, each
 * with its source, shared by config validation (config.ts), the components and the policy pack's rules.
 */

/**
 * Fargate task sizes (ECS developer guide, "Amazon ECS task definition parameters for Fargate", task size; the
 * RegisterTaskDefinition API's `memory`): each CPU value allows these memory sizes in MiB. 8192 and 16384 CPU units
 * need Linux platform 1.4.0 or later, which is what LATEST is.
 */
const FARGATE_SIZES: Readonly<Record<number, { from: number; to: number; step: number } | readonly number[]>> = {
  256: [512, 1024, 2048],
  512: [1024, 2048, 3072, 4096],
  1024: [2048, 3072, 4096, 5120, 6144, 7168, 8192],
  2048: { from: 4096, to: 16_384, step: 1024 },
  4096: { from: 8192, to: 30_720, step: 1024 },
  8192: { from: 16_384, to: 61_440, step: 4096 },
  16_384: { from: 32_768, to: 122_880, step: 8192 },
};

/** The memory sizes (MiB) Fargate accepts with `cpu` units; empty when `cpu` is not a Fargate CPU value. */
export function fargateMemoryChoices(cpu: number): number[] {
  const sizes = FARGATE_SIZES[cpu];
  if (sizes === undefined) return [];
  if (Array.isArray(sizes)) return [...(sizes as readonly number[])];
  const { from, to, step } = sizes as { from: number; to: number; step: number };
  const choices: number[] = [];
  for (let mb = from; mb <= to; mb += step) choices.push(mb);
  return choices;
}

/**
 * A container's `stopTimeout` on Fargate is at most 120 s (default 30 s): SIGKILL follows SIGTERM after it (ECS API
 * reference, ContainerDefinition.stopTimeout).
 */
export const FARGATE_STOP_TIMEOUT_MAX_SECONDS = 120;

/**
 * A container health check's settings, in seconds and counts: interval 5-300, timeout 2-60, retries 1-10, startPeriod
 * 0-300 (ECS API reference, HealthCheck).
 */
export const ECS_HEALTH_CHECK_RANGES = { interval: [5, 300], timeout: [2, 60], retries: [1, 10], startPeriod: [0, 300] } as const;

/** A redrive policy's maxReceiveCount is 1 to 1000 (SQS developer guide, "Using dead-letter queues"; SetQueueAttributes RedrivePolicy). */
export const SQS_MAX_RECEIVE_COUNT = { min: 1, max: 1000 } as const;

/** ReceiveMessage long-polls at most 20 s (SQS API reference, ReceiveMessage WaitTimeSeconds; ReceiveMessageWaitTimeSeconds 0-20). */
export const SQS_MAX_WAIT_SECONDS = 20;

/** A message is at most 1 MiB, 1,048,576 bytes (SQS API reference, SendMessage MessageBody; MaximumMessageSize 1024-1048576). */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;

/**
 * Room in a job for everything but the carried context: the user's message (API Gateway refuses WebSocket messages
 * over 128 KB) and the job's own fields.
 */
export const JOB_ENVELOPE_BYTES = 131_072;

/**
 * The context budget whose history still fits one SQS message. runtime/chat/context.ts counts at least one token
 * per UTF-8 byte, so a budget of N tokens is at most N bytes of text; JSON doubles a quote, backslash or newline,
 * hence two bytes per token.
 */
export function maxContextTokensPerJob(): number {
  return Math.floor((SQS_MAX_MESSAGE_BYTES - JOB_ENVELOPE_BYTES) / 2);
}
