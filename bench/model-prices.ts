/**
 * List prices of the program's default model (infra/config.ts DEFAULT_MODEL_ID:
 * `global.anthropic.claude-haiku-4-5-20251001-v1:0`, the global cross-Region inference profile), on-demand, per
 * million tokens. Source: Anthropic's published price for Claude Haiku 4.5 ($1 input, $5 output per million tokens,
 * October 2025) and Amazon Bedrock's pricing page (https://aws.amazon.com/bedrock/pricing/), where global
 * cross-Region inference costs the list price and geographic or in-Region endpoints of Claude 4.5 models 10% more.
 * Recorded from the published figures without network access on the benchmark machine: check the page before
 * quoting the result.
 */
import { DEFAULT_MODEL_ID } from "../infra/config";

export const MODEL_PRICES = {
  modelId: DEFAULT_MODEL_ID,
  label: "Claude Haiku 4.5 on Bedrock, global cross-Region profile",
  inputPerMillion: 1,
  outputPerMillion: 5,
  source: "Anthropic list price; global cross-Region inference on Bedrock (aws.amazon.com/bedrock/pricing)",
} as const;

export function modelCostUsd(inputTokens: number, outputTokens: number): number {
  return (inputTokens * MODEL_PRICES.inputPerMillion + outputTokens * MODEL_PRICES.outputPerMillion) / 1_000_000;
}
