/**
 * Published prices (us-east-1, first pricing tier), checked on 2026-11-25, and the cost of answers that follows.
 * - Amazon API Gateway pricing, WebSocket APIs: https://aws.amazon.com/api-gateway/pricing/ — $1.00 per million
 *   messages (first 1 billion), $0.25 per million connection minutes; "messages sent and received", "metered in
 *   32 KB increments".
 * - AWS Lambda pricing: https://aws.amazon.com/lambda/pricing/ — Arm: $0.0000133334 per GB-second (first 7.5
 *   billion GB-seconds), $0.20 per million requests.
 */
export const PRICES = {
  websocketMessage: 1.0 / 1_000_000,
  websocketMessageMeterBytes: 32 * 1024,
  connectionMinute: 0.25 / 1_000_000,
  lambdaArmGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1_000_000,
  checkedOn: "2026-11-25",
  sources: ["https://aws.amazon.com/api-gateway/pricing/", "https://aws.amazon.com/lambda/pricing/"],
} as const;

/** Memory (MB) of the functions as infra/regional-chat.ts FUNCTION_SIZES declares them (message 512, worker 1024). */
export const FUNCTION_MEMORY_MB = { message: 512, worker: 1024 } as const;

export interface AnswerUsage {
  /** Byte sizes of every WebSocket message of the answer, both directions (send frame, turn.started, deltas, turn.done). */
  messageBytes: number[];
  /** Client connection time attributable to the answer, in ms (send → turn.done). */
  connectionMs: number;
  /** Lambda invocations and their wall time, in ms, by function. */
  lambdaMs: { message: number; worker: number };
}

export interface AnswerCost {
  messages: number;
  messagesUsd: number;
  connectionUsd: number;
  lambdaUsd: number;
  totalUsd: number;
}

/** Metered WebSocket messages: each message counts once per started 32 KB. */
export function meteredMessages(messageBytes: readonly number[]): number {
  return messageBytes.reduce((sum, bytes) => sum + Math.max(1, Math.ceil(bytes / PRICES.websocketMessageMeterBytes)), 0);
}

export function answerCost(usage: AnswerUsage): AnswerCost {
  const messages = meteredMessages(usage.messageBytes);
  const messagesUsd = messages * PRICES.websocketMessage;
  const connectionUsd = (usage.connectionMs / 60_000) * PRICES.connectionMinute;
  const gbSeconds =
    (FUNCTION_MEMORY_MB.message / 1024) * (usage.lambdaMs.message / 1000) + (FUNCTION_MEMORY_MB.worker / 1024) * (usage.lambdaMs.worker / 1000);
  const lambdaUsd = gbSeconds * PRICES.lambdaArmGbSecond + 2 * PRICES.lambdaRequest;
  return { messages, messagesUsd, connectionUsd, lambdaUsd, totalUsd: messagesUsd + connectionUsd + lambdaUsd };
}
