/** The worker's dependencies: the stores, the @connections sender and the Bedrock model stream. */
import { bedrockRuntime } from "../aws/bedrock-client";
import { systemClock } from "../chat/clock";
import { DEFAULT_GENERATE_SETTINGS, type GenerateDeps } from "../chat/generate";
import { createMetrics } from "../metrics";
import { BedrockModelStream } from "../model/bedrock";
import { runtimeConfig, runtimeLog } from "./base";
import { stores } from "./stores";

let generateDeps: GenerateDeps | undefined;

export function generateDependencies(): GenerateDeps {
  if (generateDeps) return generateDeps;
  const cfg = runtimeConfig();
  const { connections, history, sender, ledger } = stores(cfg);
  generateDeps = {
    connections,
    ledger,
    history,
    sender,
    model: new BedrockModelStream(bedrockRuntime, cfg.model),
    clock: systemClock,
    log: runtimeLog(),
    metrics: createMetrics(),
    settings: {
      ...DEFAULT_GENERATE_SETTINGS,
      flushIntervalMs: cfg.flushIntervalMs,
      stopPollMs: cfg.stopPollMs,
      contextBudgetTokens: cfg.contextBudgetTokens,
      maxOutputTokens: cfg.model.maxOutputTokens,
      deadlineMarginMs: cfg.deadlineMarginMs,
    },
  };
  return generateDeps;
}

export function resetWorker(): void {
  generateDeps = undefined;
}
