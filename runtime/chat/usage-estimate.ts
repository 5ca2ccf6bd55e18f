/**
 * Usage for a generation whose model did not report it all. Bedrock reports usage at the end of a stream (Claude's
 * output tokens in its last `message_delta`; Nova's and ConverseStream's in the final metadata), so a stream cut before
 * its end (a stop, the Lambda deadline, a failure) has none of it, or only Claude's input tokens. A stopped answer counts
 * what it used (../shared/ARCHITECTURE.md, "Budgets"): what was not reported is estimated as the admission checks
 * estimate, in UTF-8 bytes (./context.ts), an upper bound, so stopping an answer just before its end never goes around
 * the daily token budget. A generation that produced no text is left as reported: the model may never have run.
 */
import type { Usage } from "../protocol";
import { estimateTokens, utf8Bytes } from "./context";
import type { ModelMessage } from "./ports";

export interface ReportedUsage {
  usage: Usage;
  /** Whether the model reported each count (a count of 0 can be a report). */
  input: boolean;
  output: boolean;
}

export function usageWithEstimates(reported: ReportedUsage, sent: readonly ModelMessage[], generated: string): Usage {
  if (generated.length === 0) return reported.usage;
  return {
    inputTokens: reported.input ? reported.usage.inputTokens : sent.reduce((sum, m) => sum + estimateTokens(m.text), 0),
    outputTokens: reported.output ? reported.usage.outputTokens : utf8Bytes(generated),
  };
}
