/**
 * List prices of the default model (infra/config.ts: `us.anthropic.claude-haiku-4-5-20251001-v1:0`, a US
 * geographic cross-region inference profile), on-demand, per million tokens.
 * Source: Anthropic's published price for Claude Haiku 4.5 ($1 input, $5 output per million tokens, October 2025)
 * and Amazon Bedrock's pricing page (https://aws.amazon.com/bedrock/pricing/), where geographic and regional
 * endpoints of Claude 4.5 models cost 10% more than global ones. Recorded from the published figures without
 * network access on the benchmark machine: check the page before quoting the result.
 */
export const MODEL_PRICES = {
  label: "Claude Haiku 4.5 on Bedrock, US geographic profile",
  inputPerMillion: 1.1,
  outputPerMillion: 5.5,
  source: "Anthropic list price +10% for geographic profiles (aws.amazon.com/bedrock/pricing)",
} as const;

export function modelCostUsd(inputTokens: number, outputTokens: number): number {
  return (inputTokens * MODEL_PRICES.inputPerMillion + outputTokens * MODEL_PRICES.outputPerMillion) / 1_000_000;
}
