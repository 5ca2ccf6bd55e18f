/**
 * The composition root: builds the use cases' dependencies from the config and the AWS adapters, once per
 * container (module scope, lazily), so warm invocations reuse config, clients and the JWKS cache.
 */
import { bedrockRuntime, dynamo, lambdaClient, managementApi, resetClients } from "./aws/clients";
import { LambdaGenerationQueue } from "./aws/worker-queue";
import { createCognitoVerifier, type TokenVerifier } from "./auth/verifier";
import { systemClock } from "./chat/clock";
import type { ConnectDeps } from "./chat/connect";
import type { MessageDeps } from "./chat/dispatch";
import { DEFAULT_GENERATE_SETTINGS, type GenerateDeps } from "./chat/generate";
import type { Log } from "./chat/ports";
import { loadAuthConfig, loadConfig, type RuntimeConfig } from "./config";
import { ApiGatewayConnectionSender } from "./connections/sender";
import { createLog } from "./log";
import { createMetrics } from "./metrics";
import { BedrockModelStream } from "./model/bedrock";
import { DynamoConnectionStore } from "./store/dynamo-connections";
import { DynamoHistoryStore } from "./store/dynamo-history";
import { DynamoUserLedger } from "./store/dynamo-ledger";

const LOG_LEVELS = ["DEBUG", "INFO", "WARN", "ERROR", "SILENT"] as const;

let config: RuntimeConfig | undefined;
let verifier: TokenVerifier | undefined;
let log: Log | undefined;

export function runtimeConfig(): RuntimeConfig {
  config ??= loadConfig(process.env);
  return config;
}

export function runtimeLog(): Log {
  const level = (process.env.LOG_LEVEL ?? "INFO").toUpperCase();
  log ??= createLog(LOG_LEVELS.find((l) => l === level) ?? "INFO");
  return log;
}

export function tokenVerifier(): TokenVerifier {
  verifier ??= createCognitoVerifier(loadAuthConfig(process.env));
  return verifier;
}

function stores(cfg: RuntimeConfig) {
  return {
    connections: new DynamoConnectionStore(dynamo, cfg.connectionsTable),
    history: new DynamoHistoryStore(dynamo, cfg.historyTable, cfg.historyRetentionDays),
    ledger: new DynamoUserLedger(dynamo, cfg.historyTable),
    sender: new ApiGatewayConnectionSender(() => managementApi(cfg.connectionsEndpoint)),
  };
}

let connectDeps: ConnectDeps | undefined;
export function connectDependencies(): ConnectDeps {
  const cfg = runtimeConfig();
  connectDeps ??= { connections: new DynamoConnectionStore(dynamo, cfg.connectionsTable), clock: systemClock };
  return connectDeps;
}

let messageDeps: MessageDeps | undefined;
export function messageDependencies(): MessageDeps {
  if (messageDeps) return messageDeps;
  const cfg = runtimeConfig();
  messageDeps = {
    ...stores(cfg),
    queue: new LambdaGenerationQueue(lambdaClient, cfg.workerFunctionName),
    clock: systemClock,
    log: runtimeLog(),
    metrics: createMetrics(),
    settings: {
      region: cfg.region,
      modelId: cfg.model.modelId,
      messagesPerMinute: cfg.messagesPerMinute,
      maxConcurrentPerConnection: cfg.maxConcurrentPerConnection,
    },
  };
  return messageDeps;
}

let generateDeps: GenerateDeps | undefined;
export function generateDependencies(): GenerateDeps {
  if (generateDeps) return generateDeps;
  const cfg = runtimeConfig();
  const { connections, history, sender } = stores(cfg);
  generateDeps = {
    connections,
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

/**
 * Forgets config, clients and dependencies so the next invocation reads the environment again. Lambda never
 * needs it; a process that starts several local stacks with different endpoints (tests) does.
 */
export function resetRuntime(): void {
  config = undefined;
  verifier = undefined;
  log = undefined;
  connectDeps = undefined;
  messageDeps = undefined;
  generateDeps = undefined;
  resetClients();
}
