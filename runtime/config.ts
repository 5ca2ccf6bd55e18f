/**
 * The runtime's configuration, read from the environment (names in ./env.ts) once per container.
 * A bad or missing value fails fast with an error that names the variable and what it accepts.
 */
import { ENV, type EnvName } from "./env";

export type ModelApi = "InvokeModelWithResponseStream" | "ConverseStream";
export type ModelFamily = "anthropic" | "nova";
export type GuardrailStreamMode = "sync" | "async";
export type LogLevel = "DEBUG" | "INFO" | "WARN" | "ERROR" | "SILENT";

export interface GuardrailConfig {
  id: string;
  version: string;
  streamMode: GuardrailStreamMode;
}

export interface ModelConfig {
  modelId: string;
  api: ModelApi;
  /** Body format for InvokeModelWithResponseStream (unused by ConverseStream). */
  family: ModelFamily | undefined;
  guardrail: GuardrailConfig | undefined;
  maxOutputTokens: number;
}

export interface AuthConfig {
  userPoolId: string;
  userPoolClientId: string;
}

export type WorkerMode = "lambda" | "ecs";

/** Where the message handler hands a turn to, and how the ECS worker service runs (runtime/worker-service/). */
export interface WorkerConfig {
  mode: WorkerMode;
  /** `lambda`: the worker function the message handler invokes asynchronously. */
  functionName: string;
  /** `ecs`: the SQS queue the message handler sends jobs to and the worker service long-polls. */
  queueUrl: string;
  /** The queue's redrive maxReceiveCount: the receive on which a job that cannot be claimed is told to the client. */
  maxReceives: number;
  /** Turns one worker-service process generates at once. */
  turnsPerTask: number;
  /** After SIGTERM, how long turns may run before they are ended cleanly. */
  drainMs: number;
}

export interface RuntimeConfig extends AuthConfig {
  region: string;
  connectionsTable: string;
  historyTable: string;
  connectionsEndpoint: string;
  workerFunctionName: string;
  worker: WorkerConfig;
  model: ModelConfig;
  contextBudgetTokens: number;
  flushIntervalMs: number;
  stopPollMs: number;
  historyRetentionDays: number;
  messagesPerMinute: number;
  maxConcurrentPerConnection: number;
  maxConcurrentPerUser: number;
  /** 0 = unlimited. */
  dailyTokenBudget: number;
  /** Where the per-user counters live; `endpoint` only when it differs from the SDK's DynamoDB endpoint. */
  home: { region: string; dynamoEndpoint: string | undefined };
  frameBudget: { burst: number; perSecond: number; strikesBeforeClose: number };
  operatorSwitchCacheMs: number;
  deadlineMarginMs: number;
  logLevel: LogLevel;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

type Env = Record<string, string | undefined>;

function value(env: Env, name: EnvName): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === "" ? undefined : raw.trim();
}

function required(env: Env, name: EnvName, missing: string[]): string {
  const v = value(env, name);
  if (v === undefined) missing.push(name);
  return v ?? "";
}

function integer(env: Env, name: EnvName, fallback: number, min: number, max: number): number {
  const v = value(env, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name}=${JSON.stringify(v)} is not valid: expected an integer from ${min} to ${max}`);
  }
  return n;
}

function oneOf<T extends string>(env: Env, name: EnvName, accepted: readonly T[], fallback: T | undefined): T | undefined {
  const v = value(env, name);
  if (v === undefined) return fallback;
  const match = accepted.find((a) => a.toLowerCase() === v.toLowerCase());
  if (!match) {
    throw new ConfigError(`${name}=${JSON.stringify(v)} is not valid: expected one of ${accepted.join(", ")}`);
  }
  return match;
}

/** The InvokeModel body format follows the model provider, which ids and system inference profiles name. */
export function inferModelFamily(modelId: string): ModelFamily | undefined {
  if (/(^|[.:/])anthropic\./.test(modelId)) return "anthropic";
  if (/(^|[.:/])amazon\.nova-/.test(modelId)) return "nova";
  return undefined;
}

/** Only what the authorizer needs, so it does not depend on the chat's tables and model settings. */
export function loadAuthConfig(env: Env = process.env): AuthConfig {
  const missing: string[] = [];
  const userPoolId = required(env, ENV.userPoolId, missing);
  const userPoolClientId = required(env, ENV.userPoolClientId, missing);
  if (missing.length) throw new ConfigError(`missing environment variable(s): ${missing.join(", ")}`);
  return { userPoolId, userPoolClientId };
}

export function loadConfig(env: Env = process.env): RuntimeConfig {
  const missing: string[] = [];
  const connectionsTable = required(env, ENV.connectionsTable, missing);
  const historyTable = required(env, ENV.historyTable, missing);
  const connectionsEndpoint = required(env, ENV.connectionsEndpoint, missing);
  const modelId = required(env, ENV.modelId, missing);
  const workerMode = oneOf(env, ENV.workerMode, ["lambda", "ecs"] as const, "lambda")!;
  // Each mode needs only its own hand-off target: the worker function, or the job queue.
  const workerFunctionName = workerMode === "lambda" ? required(env, ENV.workerFunctionName, missing) : (value(env, ENV.workerFunctionName) ?? "");
  const workerQueueUrl = workerMode === "ecs" ? required(env, ENV.workerQueueUrl, missing) : (value(env, ENV.workerQueueUrl) ?? "");
  const userPoolId = required(env, ENV.userPoolId, missing);
  const userPoolClientId = required(env, ENV.userPoolClientId, missing);
  const guardrailId = value(env, ENV.guardrailId);
  const guardrailVersion = value(env, ENV.guardrailVersion);
  if (guardrailId !== undefined && guardrailVersion === undefined) missing.push(ENV.guardrailVersion);
  if (missing.length) throw new ConfigError(`missing environment variable(s): ${missing.join(", ")}`);

  if (workerMode === "ecs" && !/^https?:\/\/[^/]+\/.+/.test(workerQueueUrl)) {
    throw new ConfigError(
      `${ENV.workerQueueUrl}=${JSON.stringify(workerQueueUrl)} is not valid: expected https://sqs.<region>.amazonaws.com/<account>/<queue>`,
    );
  }
  if (!/^https?:\/\/[^/]+/.test(connectionsEndpoint)) {
    throw new ConfigError(
      `${ENV.connectionsEndpoint}=${JSON.stringify(connectionsEndpoint)} is not valid: expected https://<apiId>.execute-api.<region>.amazonaws.com/<stage>`,
    );
  }
  const api = oneOf(env, ENV.modelApi, ["InvokeModelWithResponseStream", "ConverseStream"] as const, "InvokeModelWithResponseStream")!;
  const family = oneOf(env, ENV.modelFamily, ["anthropic", "nova"] as const, undefined) ?? inferModelFamily(modelId);
  if (api === "InvokeModelWithResponseStream" && family === undefined) {
    throw new ConfigError(
      `${ENV.modelId}=${JSON.stringify(modelId)} does not name an Anthropic Claude or Amazon Nova model: set ${ENV.modelFamily} (anthropic, nova) or ${ENV.modelApi}=ConverseStream`,
    );
  }
  const streamMode = oneOf(env, ENV.guardrailStreamMode, ["sync", "async"] as const, "sync")!;

  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1";
  const homeRegion = value(env, ENV.homeRegion) ?? region;
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(homeRegion)) {
    throw new ConfigError(`${ENV.homeRegion}=${JSON.stringify(homeRegion)} is not valid: expected a region name such as us-east-1`);
  }
  const homeDynamoEndpoint = value(env, ENV.homeDynamoEndpoint);
  if (homeDynamoEndpoint !== undefined && !/^https?:\/\/[^/]+/.test(homeDynamoEndpoint)) {
    throw new ConfigError(`${ENV.homeDynamoEndpoint}=${JSON.stringify(homeDynamoEndpoint)} is not valid: expected an http(s) URL`);
  }

  return {
    region,
    connectionsTable,
    historyTable,
    connectionsEndpoint,
    workerFunctionName,
    worker: {
      mode: workerMode,
      functionName: workerFunctionName,
      queueUrl: workerQueueUrl,
      // SQS accepts a maxReceiveCount from 1 to 1,000 (SQS Developer Guide, "Using dead-letter queues").
      maxReceives: integer(env, ENV.workerQueueMaxReceives, 5, 1, 1000),
      turnsPerTask: integer(env, ENV.workerTurnsPerTask, 100, 1, 10_000),
      // ECS stops a container at most 120 s after SIGTERM (stopTimeout), so the drain ends before that.
      drainMs: integer(env, ENV.workerDrainMs, 100_000, 0, 120_000),
    },
    userPoolId,
    userPoolClientId,
    model: {
      modelId,
      api,
      family,
      guardrail: guardrailId ? { id: guardrailId, version: guardrailVersion!, streamMode } : undefined,
      // An answer is saved as one DynamoDB item (400 KB limit); 64k tokens are ~260 KB of typical text. Same bound as
      // the stack config (infra/config.ts), so a value the program accepts never fails here.
      maxOutputTokens: integer(env, ENV.maxOutputTokens, 1024, 1, 64_000),
    },
    contextBudgetTokens: integer(env, ENV.contextBudgetTokens, 8000, 100, 1_000_000),
    flushIntervalMs: integer(env, ENV.flushIntervalMs, 50, 0, 5000),
    stopPollMs: integer(env, ENV.stopPollMs, 100, 10, 5000),
    historyRetentionDays: integer(env, ENV.historyRetentionDays, 90, 0, 36500),
    messagesPerMinute: integer(env, ENV.messagesPerMinute, 20, 1, 100_000),
    maxConcurrentPerConnection: integer(env, ENV.maxConcurrentPerConnection, 2, 1, 100),
    maxConcurrentPerUser: integer(env, ENV.maxConcurrentPerUser, 2, 1, 100),
    dailyTokenBudget: integer(env, ENV.dailyTokenBudget, 0, 0, 1_000_000_000),
    home: { region: homeRegion, dynamoEndpoint: homeDynamoEndpoint },
    frameBudget: {
      burst: integer(env, ENV.frameBurst, 30, 1, 10_000),
      perSecond: integer(env, ENV.framesPerSecond, 5, 1, 10_000),
      strikesBeforeClose: integer(env, ENV.frameStrikes, 20, 1, 10_000),
    },
    operatorSwitchCacheMs: integer(env, ENV.operatorSwitchCacheMs, 15_000, 0, 300_000),
    deadlineMarginMs: integer(env, ENV.deadlineMarginMs, 10_000, 0, 600_000),
    logLevel: oneOf(env, ENV.logLevel, ["DEBUG", "INFO", "WARN", "ERROR", "SILENT"] as const, "INFO")!,
  };
}
