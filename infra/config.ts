/**
 * The stack configuration (`chat:*`), read and validated once. Components receive the typed `ChatConfig` and
 * never read `pulumi.Config` themselves. Every key is declared in `Pulumi.yaml` (type, default, description);
 * a bad value throws a `ConfigError` naming the key and what is accepted.
 *
 * Pulumi's project config schema only knows string, integer, boolean and array
 * (https://www.pulumi.com/docs/iac/concepts/projects/project-file/#config-options), so structured settings
 * (per-region model overrides, guardrail filters, denied topics) are arrays of small delimited strings.
 */
import * as pulumi from "@pulumi/pulumi";
import { regionMismatch } from "./model-routing";
import {
  FARGATE_STOP_TIMEOUT_MAX_SECONDS,
  fargateMemoryChoices,
  maxContextTokensPerJob,
  SQS_MAX_RECEIVE_COUNT,
} from "./worker-limits";

/** The project's name in Pulumi.yaml: the CLI allows typed, defaulted keys only in the project's own namespace. */
export const CONFIG_NAMESPACE = "chat";

export const MODEL_APIS = ["InvokeModelWithResponseStream", "ConverseStream"] as const;
export type ModelApi = (typeof MODEL_APIS)[number];

/** Bedrock Guardrails content filter categories and strengths (CreateGuardrail API, contentPolicyConfig). */
export const FILTER_CATEGORIES = ["SEXUAL", "VIOLENCE", "HATE", "INSULTS", "MISCONDUCT", "PROMPT_ATTACK"] as const;
export type FilterCategory = (typeof FILTER_CATEGORIES)[number];
export const FILTER_STRENGTHS = ["NONE", "LOW", "MEDIUM", "HIGH"] as const;
export type FilterStrength = (typeof FILTER_STRENGTHS)[number];

export const STREAM_MODES = ["sync", "async"] as const;
export type StreamMode = (typeof STREAM_MODES)[number];

export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** Cognito threat protection (UserPoolAddOns.AdvancedSecurityMode); audit and enforced need the Plus feature plan. */
export const THREAT_PROTECTION_MODES = ["off", "audit", "enforced"] as const;
export type ThreatProtectionMode = (typeof THREAT_PROTECTION_MODES)[number];

/** Where generation runs: the worker Lambda (default) or the ECS Fargate worker service fed by an SQS queue. */
export const WORKER_MODES = ["lambda", "ecs"] as const;
export type WorkerMode = (typeof WORKER_MODES)[number];

/** The worker service's networking: public subnets without NAT (default), or private subnets behind a NAT gateway. */
export const WORKER_NETWORKS = ["public", "nat"] as const;
export type WorkerNetwork = (typeof WORKER_NETWORKS)[number];

export const LOG_LEVELS = ["DEBUG", "INFO", "WARN", "ERROR"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** Lambda's system log levels (LoggingConfig.SystemLogLevel accepts DEBUG, INFO, WARN). */
export const SYSTEM_LOG_LEVELS = ["DEBUG", "INFO", "WARN"] as const;
export type SystemLogLevel = (typeof SYSTEM_LOG_LEVELS)[number];

/** CloudWatch Logs accepts only these retention periods (PutRetentionPolicy). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export interface ContentFilter {
  category: FilterCategory;
  inputStrength: FilterStrength;
  outputStrength: FilterStrength;
}

export interface DeniedTopic {
  name: string;
  definition: string;
  examples: string[];
}

export interface GuardrailSettings {
  filters: ContentFilter[];
  deniedTopics: DeniedTopic[];
  blockedInputMessage: string;
  blockedOutputMessage: string;
  streamProcessingMode: StreamMode;
}

export interface CustomDomain {
  /** Viewer-facing name, e.g. `chat.example.com`. */
  name: string;
  /** Route 53 public hosted zone that holds `name`. */
  hostedZoneId: string;
  /** An ACM certificate in us-east-1 for `name`; when absent the program requests and DNS-validates one. */
  certificateArn?: string;
}

/** The ECS worker service (`chat:worker: ecs`), validated against the AWS limits in worker-limits.ts. */
export interface WorkerServiceSettings {
  /** Task CPU units and memory (MiB): one of Fargate's combinations. */
  cpu: number;
  memoryMb: number;
  /** Turns one task generates at once (WORKER_TURNS_PER_TASK); the scaling target is a share of it. */
  turnsPerTask: number;
  minTasks: number;
  maxTasks: number;
  network: WorkerNetwork;
  /** After SIGTERM, how long turns may go on (WORKER_DRAIN_MS), strictly below stopTimeoutSeconds. */
  drainSeconds: number;
  /** ECS sends SIGKILL this long after SIGTERM (container stopTimeout, at most 120 s on Fargate). */
  stopTimeoutSeconds: number;
  /** Receives before a job goes to the dead-letter queue (redrive maxReceiveCount and WORKER_QUEUE_MAX_RECEIVES). */
  queueMaxReceives: number;
}

export interface ChatConfig {
  /** Regions in order of preference; the first is the primary (Cognito, web bucket, table home). */
  regions: string[];
  primaryRegion: string;
  /** Model id or inference profile id/ARN used in every region without an override. */
  modelId: string;
  /** Every region → the model id it calls (`modelId` unless overridden), each one callable from its region. */
  modelIdByRegion: Record<string, string>;
  modelApi: ModelApi;
  guardrail: GuardrailSettings;
  maxOutputTokens: number;
  contextBudgetTokens: number;
  flushIntervalMs: number;
  stopPollMs: number;
  /** 0 keeps history forever. */
  historyRetentionDays: number;
  throttling: { burstLimit: number; rateLimit: number };
  quotas: {
    messagesPerMinute: number;
    maxConcurrentPerConnection: number;
    /** Answers one user may generate at once, across connections and regions. */
    maxConcurrentPerUser: number;
    /** Input + output tokens per user per UTC day; 0 = unlimited. */
    dailyTokenBudget: number;
  };
  logRetentionDays: number;
  /** The functions' application log level (Lambda filters below it; Powertools follows it). */
  logLevel: LogLevel;
  /** Lambda's own platform log lines (START, END, REPORT …) at or above this level. */
  systemLogLevel: SystemLogLevel;
  environment: Environment;
  /** Deletion protection on tables and the user pool; on everywhere but `dev`. */
  protectData: boolean;
  /** Set the account's API Gateway CloudWatch Logs role in every region (off by default; retained on delete). */
  apiGatewayLoggingRole: boolean;
  /** Cognito hosted UI domain prefix; derived from project, stack and account when absent. */
  authDomainPrefix?: string;
  /** The stack's ceiling: the worker's reserved concurrency, token alarms, the monthly budget and who hears of them. */
  ceiling: {
    /** Reserved concurrency of each region's worker (answers generating at once in that region); 0 = none. */
    workerReservedConcurrency: number;
    /** Input tokens, and output tokens, per hour and region above which an alarm fires. */
    hourlyTokenAlarm: number;
    /** Monthly cost budget of the account in USD (AWS Budgets); 0 = no budget. */
    monthlyBudgetUsd: number;
    /** Where alarms and the budget's notifications are e-mailed (an SNS subscription); none when absent. */
    alarmEmail?: string;
  };
  /** E-mail domains whose people may sign up by themselves; empty = invite-only (the operator creates users). */
  selfSignUpDomains: string[];
  /** Cognito threat protection: off (Essentials plan), audit or enforced (Plus plan). */
  threatProtection: ThreatProtectionMode;
  /**
   * Which generation of the secret CloudFront sends to the WebSocket APIs (X-Origin-Verify); raising it by one
   * rotates the secret (infra/origin-secret.ts).
   */
  originSecretVersion: number;
  domain?: CustomDomain;
  /** Where generation runs; `service` is set exactly when `mode` is `ecs`. */
  worker: { mode: WorkerMode; service?: WorkerServiceSettings };
}

export class ConfigError extends Error {
  constructor(key: string, accepted: string, got: unknown) {
    super(`${CONFIG_NAMESPACE}:${key} is invalid (got ${JSON.stringify(got)}): expected ${accepted}`);
    this.name = "ConfigError";
  }
}

/**
 * Claude Haiku 4.5 through its global cross-Region inference profile, which every commercial Region may call (Bedrock
 * user guide, "Supported Regions and models for inference profiles"), so the default answers in any region listed.
 * For data residency, choose geographic profiles (`us.`, `eu.`, `apac.` …) per region instead.
 */
export const DEFAULT_MODEL_ID = "global.anthropic.claude-haiku-4-5-20251001-v1:0";

/** The defaults, also declared in Pulumi.yaml (a test keeps the two in step). */
export const DEFAULT_FILTERS: readonly string[] = [
  "SEXUAL=HIGH/HIGH",
  "VIOLENCE=HIGH/HIGH",
  "HATE=HIGH/HIGH",
  "INSULTS=HIGH/HIGH",
  "MISCONDUCT=HIGH/HIGH",
  "PROMPT_ATTACK=HIGH/NONE",
];

/** Every key this module reads, so a test can check that Pulumi.yaml declares each of them. */
export const CONFIG_KEYS = [
  "regions",
  "modelId",
  "modelIdOverrides",
  "modelApi",
  "guardrailFilters",
  "guardrailDeniedTopics",
  "guardrailBlockedInputMessage",
  "guardrailBlockedOutputMessage",
  "guardrailStreamMode",
  "maxOutputTokens",
  "contextBudgetTokens",
  "flushIntervalMs",
  "stopPollMs",
  "historyRetentionDays",
  "throttleBurstLimit",
  "throttleRateLimit",
  "messagesPerMinute",
  "maxConcurrentPerConnection",
  "maxConcurrentPerUser",
  "dailyTokenBudget",
  "logRetentionDays",
  "logLevel",
  "systemLogLevel",
  "environment",
  "apiGatewayLoggingRole",
  "authDomainPrefix",
  "selfSignUpDomains",
  "threatProtection",
  "originSecretVersion",
  "workerReservedConcurrency",
  "hourlyTokenAlarm",
  "monthlyBudgetUsd",
  "alarmEmail",
  "domainName",
  "hostedZoneId",
  "certificateArn",
  "worker",
  "workerCpu",
  "workerMemory",
  "workerTurnsPerTask",
  "workerMinTasks",
  "workerMaxTasks",
  "workerNetwork",
  "workerDrainSeconds",
  "workerStopTimeoutSeconds",
  "workerQueueMaxReceives",
] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];

/** Raw values as the Pulumi config hands them over: strings, or JSON-decoded values for arrays. */
export type RawConfig = Partial<Record<ConfigKey, unknown>>;

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
// Bedrock model ids (`anthropic.claude-…-v1:0`), inference profile ids (`us.anthropic.…`, `global.…`) and ARNs.
const MODEL_ID = /^(arn:aws[a-z-]*:bedrock:[a-z0-9-]+:(\d{12})?:(inference-profile|foundation-model)\/[A-Za-z0-9.:_-]+|[a-z0-9-]+(\.[A-Za-z0-9_-]+)+(:\d+)?(:[0-9a-z]+)?)$/;
const TOPIC_NAME = /^[0-9A-Za-z_ !?.-]{1,100}$/;

/** Reads `chat:*` from the running Pulumi program. */
export function readConfig(): ChatConfig {
  const config = new pulumi.Config(CONFIG_NAMESPACE);
  const raw: RawConfig = {};
  for (const key of CONFIG_KEYS) {
    const text = config.get(key);
    if (text !== undefined) raw[key] = text;
  }
  return parseConfig(raw);
}

/** Validates raw values (defaults applied) into a `ChatConfig`. Pure: tests call it directly. */
export function parseConfig(raw: RawConfig): ChatConfig {
  const regions = stringList(raw, "regions", ["us-east-1"]);
  if (regions.length === 0) throw new ConfigError("regions", "a non-empty list of AWS region names", regions);
  for (const region of regions) {
    if (!REGION.test(region)) throw new ConfigError("regions", "AWS region names such as us-east-1", region);
  }
  const duplicate = regions.find((r, i) => regions.indexOf(r) !== i);
  if (duplicate) throw new ConfigError("regions", "each region at most once", duplicate);

  const modelId = modelIdValue("modelId", str(raw, "modelId", DEFAULT_MODEL_ID));
  const overrides: Record<string, string> = {};
  for (const entry of stringList(raw, "modelIdOverrides", [])) {
    const [region, id, ...rest] = entry.split("=");
    if (!region || !id || rest.length > 0 || !regions.includes(region.trim())) {
      throw new ConfigError("modelIdOverrides", `"<region>=<model id>" with a region from ${CONFIG_NAMESPACE}:regions`, entry);
    }
    overrides[region.trim()] = modelIdValue("modelIdOverrides", id.trim());
  }
  // Each region calls its own id, and only an id it can call (a geographic profile answers only in its geography).
  const modelIdByRegion: Record<string, string> = {};
  for (const region of regions) {
    const id = overrides[region] ?? modelId;
    const mismatch = regionMismatch(id, region);
    if (mismatch !== undefined) {
      const key = overrides[region] !== undefined ? "modelIdOverrides" : "modelId";
      throw new ConfigError(key, `a model id callable from every region it serves: ${mismatch} (set it for one region with ${CONFIG_NAMESPACE}:modelIdOverrides "${region}=<id>")`, id);
    }
    modelIdByRegion[region] = id;
  }

  // Production-safe unless a stack says otherwise: a stack made without the key keeps its data protected.
  const environment = oneOf(raw, "environment", ENVIRONMENTS, "prod");
  const domainName = optionalStr(raw, "domainName");
  const hostedZoneId = optionalStr(raw, "hostedZoneId");
  const certificateArn = optionalStr(raw, "certificateArn");
  if (domainName !== undefined && !/^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/.test(domainName)) {
    throw new ConfigError("domainName", "a lower-case DNS name such as chat.example.com", domainName);
  }
  if (domainName !== undefined && hostedZoneId === undefined) {
    throw new ConfigError("hostedZoneId", "the Route 53 hosted zone id of chat:domainName (required with it)", null);
  }
  if (certificateArn !== undefined && !/^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]+$/.test(certificateArn)) {
    throw new ConfigError("certificateArn", "an ACM certificate ARN in us-east-1 (CloudFront requires us-east-1)", certificateArn);
  }
  if (domainName === undefined && (certificateArn !== undefined || hostedZoneId !== undefined)) {
    throw new ConfigError("domainName", "a domain name whenever chat:certificateArn or chat:hostedZoneId is set", null);
  }
  const authDomainPrefix = optionalStr(raw, "authDomainPrefix");
  if (authDomainPrefix !== undefined && (!/^[a-z0-9](-?[a-z0-9])*$/.test(authDomainPrefix) || /aws|amazon|cognito/.test(authDomainPrefix) || authDomainPrefix.length > 63)) {
    throw new ConfigError("authDomainPrefix", "lower-case letters, digits and hyphens without aws/amazon/cognito", authDomainPrefix);
  }

  const selfSignUpDomains = stringList(raw, "selfSignUpDomains", []).map((d) => d.trim().toLowerCase());
  for (const domain of selfSignUpDomains) {
    // Commas separate the domains in the trigger's environment; a domain has none.
    if (!/^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/.test(domain)) {
      throw new ConfigError("selfSignUpDomains", "a list of e-mail domains such as example.com (empty: invite-only)", domain);
    }
  }

  const alarmEmail = optionalStr(raw, "alarmEmail");
  if (alarmEmail !== undefined && !/^[^@\s]+@([a-z0-9-]+\.)+[a-z]{2,}$/i.test(alarmEmail)) {
    throw new ConfigError("alarmEmail", "an e-mail address (or empty for none)", alarmEmail);
  }

  const modelApi = oneOf(raw, "modelApi", MODEL_APIS, "InvokeModelWithResponseStream");
  // InvokeModelWithResponseStream's body is model-specific: the runtime speaks Anthropic Claude's and Amazon Nova's.
  for (const id of new Set([modelId, ...Object.values(modelIdByRegion)])) {
    if (modelApi === "InvokeModelWithResponseStream" && !/(^|[.:/])(anthropic\.|amazon\.nova-)/.test(id)) {
      throw new ConfigError("modelApi", `ConverseStream for ${id} (InvokeModelWithResponseStream is spoken for Anthropic Claude and Amazon Nova models)`, modelApi);
    }
  }

  const worker = workerSettings(raw);
  const contextBudgetTokens = int(raw, "contextBudgetTokens", 8000, 256, 1_000_000);
  // With the worker service the turn's context travels in the SQS job, which must fit SQS's message size.
  if (worker.mode === "ecs" && contextBudgetTokens > maxContextTokensPerJob()) {
    throw new ConfigError("contextBudgetTokens", `an integer from 256 to ${maxContextTokensPerJob()} with ${CONFIG_NAMESPACE}:worker ecs (the context travels in an SQS message of at most 1 MiB)`, contextBudgetTokens);
  }

  return {
    regions,
    primaryRegion: regions[0]!,
    modelId,
    modelIdByRegion,
    modelApi,
    guardrail: {
      filters: parseFilters(stringList(raw, "guardrailFilters", DEFAULT_FILTERS)),
      deniedTopics: stringList(raw, "guardrailDeniedTopics", []).map(parseTopic),
      blockedInputMessage: message(raw, "guardrailBlockedInputMessage", "Sorry, I can't help with that request."),
      blockedOutputMessage: message(raw, "guardrailBlockedOutputMessage", "Sorry, I can't provide that answer."),
      streamProcessingMode: oneOf(raw, "guardrailStreamMode", STREAM_MODES, "sync"),
    },
    maxOutputTokens: int(raw, "maxOutputTokens", 1024, 1, 64_000),
    contextBudgetTokens,
    flushIntervalMs: int(raw, "flushIntervalMs", 50, 0, 2000),
    stopPollMs: int(raw, "stopPollMs", 100, 20, 2000),
    historyRetentionDays: int(raw, "historyRetentionDays", 90, 0, 3650),
    throttling: {
      burstLimit: int(raw, "throttleBurstLimit", 200, 1, 5000),
      rateLimit: int(raw, "throttleRateLimit", 100, 1, 10_000),
    },
    quotas: {
      messagesPerMinute: int(raw, "messagesPerMinute", 20, 1, 1000),
      maxConcurrentPerConnection: int(raw, "maxConcurrentPerConnection", 2, 1, 20),
      maxConcurrentPerUser: int(raw, "maxConcurrentPerUser", 2, 1, 100),
      dailyTokenBudget: int(raw, "dailyTokenBudget", 0, 0, 1_000_000_000),
    },
    logRetentionDays: logRetention(raw),
    logLevel: oneOf(raw, "logLevel", LOG_LEVELS, "INFO"),
    systemLogLevel: oneOf(raw, "systemLogLevel", SYSTEM_LOG_LEVELS, "INFO"),
    environment,
    protectData: environment !== "dev",
    apiGatewayLoggingRole: bool(raw, "apiGatewayLoggingRole", false),
    ...(authDomainPrefix !== undefined ? { authDomainPrefix } : {}),
    ceiling: {
      // Lambda keeps at least 100 of the account's concurrency unreserved (Lambda developer guide, "Configuring
      // reserved concurrency"), and the default account quota is 1000: at most 900 per region, less where other
      // functions reserve some or the quota is lower.
      workerReservedConcurrency: int(raw, "workerReservedConcurrency", 50, 0, 900),
      hourlyTokenAlarm: int(raw, "hourlyTokenAlarm", 2_000_000, 1000, 1_000_000_000),
      monthlyBudgetUsd: int(raw, "monthlyBudgetUsd", 100, 0, 1_000_000),
      ...(alarmEmail !== undefined ? { alarmEmail } : {}),
    },
    selfSignUpDomains: [...new Set(selfSignUpDomains)],
    threatProtection: oneOf(raw, "threatProtection", THREAT_PROTECTION_MODES, "audit"),
    originSecretVersion: int(raw, "originSecretVersion", 1, 1, 1_000_000),
    ...(domainName !== undefined && hostedZoneId !== undefined
      ? { domain: { name: domainName, hostedZoneId, ...(certificateArn !== undefined ? { certificateArn } : {}) } }
      : {}),
    worker,
  };
}

/** `chat:worker` and, with `ecs`, the worker service's settings; the worker* keys are read only then. */
function workerSettings(raw: RawConfig): ChatConfig["worker"] {
  const mode = oneOf(raw, "worker", WORKER_MODES, "lambda");
  if (mode === "lambda") return { mode };
  const cpu = int(raw, "workerCpu", 512, 256, 16_384);
  const memoryChoices = fargateMemoryChoices(cpu);
  if (memoryChoices.length === 0) {
    throw new ConfigError("workerCpu", "Fargate task CPU units: 256, 512, 1024, 2048, 4096, 8192 or 16384", cpu);
  }
  const memoryMb = int(raw, "workerMemory", 1024, 512, 122_880);
  if (!memoryChoices.includes(memoryMb)) {
    throw new ConfigError("workerMemory", `MiB that Fargate pairs with ${cpu} CPU units: ${describeChoices(memoryChoices)}`, memoryMb);
  }
  const minTasks = int(raw, "workerMinTasks", 1, 1, 100);
  const maxTasks = int(raw, "workerMaxTasks", 4, 1, 100);
  if (maxTasks < minTasks) throw new ConfigError("workerMaxTasks", `an integer from ${CONFIG_NAMESPACE}:workerMinTasks (${minTasks}) to 100`, maxTasks);
  const stopTimeoutSeconds = int(raw, "workerStopTimeoutSeconds", FARGATE_STOP_TIMEOUT_MAX_SECONDS, 2, FARGATE_STOP_TIMEOUT_MAX_SECONDS);
  const drainSeconds = int(raw, "workerDrainSeconds", 100, 1, FARGATE_STOP_TIMEOUT_MAX_SECONDS);
  // Turns still running when the drain ends are closed with turn.done before ECS sends SIGKILL.
  if (drainSeconds >= stopTimeoutSeconds) {
    throw new ConfigError("workerDrainSeconds", `an integer from 1 to ${stopTimeoutSeconds - 1} (below ${CONFIG_NAMESPACE}:workerStopTimeoutSeconds, ${stopTimeoutSeconds})`, drainSeconds);
  }
  return {
    mode,
    service: {
      cpu,
      memoryMb,
      turnsPerTask: int(raw, "workerTurnsPerTask", 100, 1, 1000),
      minTasks,
      maxTasks,
      network: oneOf(raw, "workerNetwork", WORKER_NETWORKS, "public"),
      drainSeconds,
      stopTimeoutSeconds,
      queueMaxReceives: int(raw, "workerQueueMaxReceives", 5, SQS_MAX_RECEIVE_COUNT.min, SQS_MAX_RECEIVE_COUNT.max),
    },
  };
}

/** `1024, 2048, 3072` or `4096 to 16384 in steps of 1024`. */
function describeChoices(choices: readonly number[]): string {
  if (choices.length <= 4) return choices.join(", ");
  return `${choices[0]} to ${choices[choices.length - 1]} in steps of ${choices[1]! - choices[0]!}`;
}

function parseFilters(entries: string[]): ContentFilter[] {
  const accepted = `"<CATEGORY>=<INPUT>/<OUTPUT>" with CATEGORY in ${FILTER_CATEGORIES.join("|")} and strengths ${FILTER_STRENGTHS.join("|")} (PROMPT_ATTACK output must be NONE)`;
  const filters: ContentFilter[] = [];
  for (const entry of entries) {
    const match = /^([A-Z_]+)=([A-Z]+)\/([A-Z]+)$/.exec(entry.trim());
    const [, category, input, output] = match ?? [];
    if (
      !isOneOf(category, FILTER_CATEGORIES) ||
      !isOneOf(input, FILTER_STRENGTHS) ||
      !isOneOf(output, FILTER_STRENGTHS) ||
      // Prompt attacks are only detected in input (Bedrock Guardrails content filters documentation).
      (category === "PROMPT_ATTACK" && output !== "NONE") ||
      filters.some((f) => f.category === category)
    ) {
      throw new ConfigError("guardrailFilters", accepted, entry);
    }
    filters.push({ category, inputStrength: input, outputStrength: output });
  }
  if (!filters.some((f) => f.category === "PROMPT_ATTACK" && f.inputStrength !== "NONE")) {
    throw new ConfigError("guardrailFilters", "a list that keeps a PROMPT_ATTACK input filter (e.g. PROMPT_ATTACK=HIGH/NONE)", entries);
  }
  return filters;
}

/** `"<name> | <definition> | <example> | <example>…"` (Bedrock limits: name ≤ 100, definition ≤ 200, ≤ 5 examples of ≤ 100). */
function parseTopic(entry: string): DeniedTopic {
  const [name, definition, ...examples] = entry.split("|").map((part) => part.trim());
  if (
    name === undefined ||
    !TOPIC_NAME.test(name) ||
    definition === undefined ||
    definition.length === 0 ||
    definition.length > 200 ||
    examples.length > 5 ||
    examples.some((e) => e.length === 0 || e.length > 100)
  ) {
    throw new ConfigError(
      "guardrailDeniedTopics",
      `"<name> | <definition> | <example>…" (name: letters, digits, spaces, _-!?. up to 100; definition up to 200 chars; up to 5 examples of up to 100 chars)`,
      entry,
    );
  }
  return { name, definition, examples };
}

function logRetention(raw: RawConfig): number {
  const days = int(raw, "logRetentionDays", 30, 1, 3653);
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(days)) {
    throw new ConfigError("logRetentionDays", `one of ${LOG_RETENTION_DAYS.join(", ")}`, days);
  }
  return days;
}

function modelIdValue(key: ConfigKey, id: string): string {
  if (!MODEL_ID.test(id)) {
    throw new ConfigError(key, "a Bedrock model id (anthropic.claude-…), a cross-region inference profile id (us.anthropic.…), or the ARN of either", id);
  }
  return id;
}

function message(raw: RawConfig, key: ConfigKey, fallback: string): string {
  const value = str(raw, key, fallback);
  // Bedrock accepts blocked messaging of 1-500 characters.
  if (value.length === 0 || value.length > 500) throw new ConfigError(key, "a message of 1 to 500 characters", value);
  return value;
}

function isOneOf<T extends string>(value: unknown, accepted: readonly T[]): value is T {
  return typeof value === "string" && (accepted as readonly string[]).includes(value);
}

function oneOf<T extends string>(raw: RawConfig, key: ConfigKey, accepted: readonly T[], fallback: T): T {
  const value = raw[key] ?? fallback;
  if (!isOneOf(value, accepted)) throw new ConfigError(key, `one of ${accepted.join(" | ")}`, value);
  return value;
}

function str(raw: RawConfig, key: ConfigKey, fallback: string): string {
  return optionalStr(raw, key) ?? fallback;
}

function optionalStr(raw: RawConfig, key: ConfigKey): string | undefined {
  const value = raw[key];
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") throw new ConfigError(key, "a string", value);
  return value;
}

function bool(raw: RawConfig, key: ConfigKey, fallback: boolean): boolean {
  const value = raw[key] ?? fallback;
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  throw new ConfigError(key, "true or false", value);
}

function int(raw: RawConfig, key: ConfigKey, fallback: number, min: number, max: number): number {
  const value = raw[key] ?? fallback;
  const number = typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== "number" || !Number.isInteger(number) || number < min || number > max) {
    throw new ConfigError(key, `an integer from ${min} to ${max}`, value);
  }
  return number;
}

function stringList(raw: RawConfig, key: ConfigKey, fallback: readonly string[]): string[] {
  const value = decodeList(raw[key] ?? fallback);
  if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
    throw new ConfigError(key, "a list of strings", value);
  }
  return [...(value as string[])];
}

/** Pulumi hands a list value to the program as its JSON text. */
function decodeList(value: unknown): unknown {
  if (typeof value !== "string" || !value.trimStart().startsWith("[")) return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}
