import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import * as yaml from "js-yaml";
import { CONFIG_KEYS, ConfigError, DEFAULT_FILTERS, DEFAULT_MODEL_ID, parseConfig, type RawConfig } from "../../infra/config";
import { modelLabel } from "../../infra/stack";
import { buildStack } from "./harness";
import { bundleOptions } from "./fixtures";

const root = path.join(__dirname, "..", "..");

interface SchemaEntry {
  type: "string" | "integer" | "boolean" | "array";
  default?: unknown;
  description?: string;
  items?: { type: string };
}

function projectSchema(): Record<string, SchemaEntry> {
  const project = yaml.load(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as { config: Record<string, SchemaEntry> };
  return project.config;
}

function failure(raw: RawConfig): string {
  try {
    parseConfig(raw);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be rejected`);
}

describe("infra config: Pulumi.yaml declares every key", () => {
  const schema = projectSchema();

  it("declares each key config.ts reads, with a type, a description and a default", () => {
    for (const key of CONFIG_KEYS) {
      const entry = schema[`chat:${key}`];
      expect(entry, `chat:${key}`).to.be.an("object");
      expect(["string", "integer", "boolean", "array"], `chat:${key} type`).to.include(entry!.type);
      expect(entry!.description ?? "", `chat:${key} description`).to.match(/\w{3,}/);
      expect(entry, `chat:${key} default`).to.have.property("default");
      if (entry!.type === "array") expect(entry!.items?.type, `chat:${key} items`).to.equal("string");
    }
  });

  it("declares nothing config.ts does not read", () => {
    const declared = Object.keys(schema).filter((key) => key.startsWith("chat:")).map((key) => key.slice(5));
    expect(declared.sort()).to.deep.equal([...CONFIG_KEYS].sort());
  });

  it("declares the same defaults that config.ts applies", () => {
    const fromSchema = Object.fromEntries(CONFIG_KEYS.map((key) => [key, schema[`chat:${key}`]!.default])) as RawConfig;
    expect(parseConfig(fromSchema)).to.deep.equal(parseConfig({}));
    expect(schema["chat:guardrailFilters"]!.default).to.deep.equal([...DEFAULT_FILTERS]);
  });

  it("has a dev stack with two regions that validates", () => {
    const stack = yaml.load(fs.readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
    const raw = Object.fromEntries(
      Object.entries(stack.config)
        .filter(([key]) => key.startsWith("chat:"))
        .map(([key, value]) => [key.slice(5), value]),
    ) as RawConfig;
    const config = parseConfig(raw);
    expect(config.regions).to.have.length(2);
    expect(config.environment).to.equal("dev");
    expect(config.modelId).to.match(/^us\./);
  });
});

describe("infra config: validation", () => {
  it("applies defaults and keeps region order (first = primary)", () => {
    const config = parseConfig({ regions: ["eu-west-1", "eu-central-1"] });
    expect(config.primaryRegion).to.equal("eu-west-1");
    expect(config.regions).to.deep.equal(["eu-west-1", "eu-central-1"]);
    expect(config.modelApi).to.equal("InvokeModelWithResponseStream");
    // Production-safe by default: protection stays on unless a stack says dev.
    expect(config.environment).to.equal("prod");
    expect(config.protectData).to.equal(true);
    expect(parseConfig({ environment: "dev" }).protectData).to.equal(false);
    expect(parseConfig({ environment: "staging" }).protectData).to.equal(true);
    expect(config.guardrail.filters.find((f) => f.category === "PROMPT_ATTACK")).to.deep.equal({
      category: "PROMPT_ATTACK",
      inputStrength: "HIGH",
      outputStrength: "NONE",
    });
  });

  it("reads values as Pulumi hands them over (strings, JSON lists)", () => {
    const config = parseConfig({
      regions: '["us-east-1","us-west-2"]',
      maxOutputTokens: "2048",
      apiGatewayLoggingRole: "false",
      modelIdOverrides: '["us-west-2=anthropic.claude-3-haiku-20240307-v1:0"]',
      guardrailDeniedTopics: ["Medical advice | Diagnosis or treatment of a condition. | What dose should I take?"],
      environment: "prod",
    });
    expect(config.regions).to.deep.equal(["us-east-1", "us-west-2"]);
    expect(config.maxOutputTokens).to.equal(2048);
    expect(config.apiGatewayLoggingRole).to.equal(false);
    expect(config.modelIdByRegion).to.deep.equal({ "us-east-1": DEFAULT_MODEL_ID, "us-west-2": "anthropic.claude-3-haiku-20240307-v1:0" });
    expect(config.guardrail.deniedTopics).to.deep.equal([
      { name: "Medical advice", definition: "Diagnosis or treatment of a condition.", examples: ["What dose should I take?"] },
    ]);
    expect(config.protectData).to.equal(true);
  });

  it("accepts model ids, inference profile ids and their ARNs", () => {
    for (const modelId of [
      "anthropic.claude-3-haiku-20240307-v1:0",
      "us.anthropic.claude-3-5-haiku-20241022-v1:0",
      "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
      "amazon.nova-lite-v1:0",
      "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0",
      "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
    ]) {
      expect(parseConfig({ modelId }).modelId).to.equal(modelId);
    }
    // Any model that Converse serves is fine with ConverseStream.
    expect(parseConfig({ modelId: "meta.llama3-8b-instruct-v1:0", modelApi: "ConverseStream" }).modelApi).to.equal("ConverseStream");
  });

  const HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0";

  it("defaults to a model every commercial region can call (the global. profile), the same id in each", () => {
    const regions = ["us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1", "ap-northeast-1", "ca-central-1"];
    const config = parseConfig({ regions });
    expect(DEFAULT_MODEL_ID).to.equal(`global.${HAIKU}`);
    expect(config.modelIdByRegion).to.deep.equal(Object.fromEntries(regions.map((r) => [r, DEFAULT_MODEL_ID])));
  });

  it("gives each region its own geographic profile through overrides, and labels the page with the model and routes", () => {
    const config = parseConfig({ regions: ["us-east-1", "eu-west-1"], modelId: `us.${HAIKU}`, modelIdOverrides: [`eu-west-1=eu.${HAIKU}`] });
    expect(config.modelIdByRegion).to.deep.equal({ "us-east-1": `us.${HAIKU}`, "eu-west-1": `eu.${HAIKU}` });
    expect(modelLabel(config)).to.equal(`${HAIKU} (us-east-1: us., eu-west-1: eu.)`);
    expect(modelLabel(parseConfig({ regions: ["us-east-1", "us-west-2"], modelId: `us.${HAIKU}` }))).to.equal(`us.${HAIKU}`);
  });

  const outside: [string, RawConfig, RegExp][] = [
    ["a US profile in an EU region", { regions: ["us-east-1", "eu-west-1"], modelId: `us.${HAIKU}` }, new RegExp(`chat:modelId .*inference profile of the US geography, called only from US Regions, not eu-west-1; from eu-west-1 use eu[.]${HAIKU} or global[.]${HAIKU}.*chat:modelIdOverrides "eu-west-1=<id>"`)],
    ["an override outside its geography", { regions: ["us-east-1", "ap-southeast-2"], modelIdOverrides: [`ap-southeast-2=eu.${HAIKU}`] }, new RegExp(`chat:modelIdOverrides .*inference profile of the EU geography.*not ap-southeast-2; from ap-southeast-2 use au[.]${HAIKU} or apac[.]${HAIKU} or global[.]${HAIKU}`)],
    ["an EU profile in Tokyo", { regions: ["ap-northeast-1"], modelId: `eu.${HAIKU}` }, new RegExp(`use jp[.]${HAIKU} or apac[.]${HAIKU} or global[.]${HAIKU}`)],
    ["a global profile outside the commercial regions", { regions: ["us-gov-west-1"] }, new RegExp(`chat:modelId .*a global inference profile, called only from commercial Regions, not us-gov-west-1; from us-gov-west-1 use us-gov[.]${HAIKU}`)],
    ["a profile ARN of another region", { regions: ["us-west-2"], modelId: `arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.${HAIKU}` }, /chat:modelId .*ARN in us-east-1, which us-west-2 cannot call/],
    ["a foundation-model ARN of another region", { regions: ["eu-west-1"], modelId: "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0" }, /chat:modelId .*ARN in us-east-1/],
  ];
  for (const [label, raw, message] of outside) {
    it(`refuses ${label}, naming the key, the region and the ids that would work`, () => {
      expect(failure(raw)).to.match(message);
    });
  }

  const bad: [string, RawConfig, RegExp][] = [
    ["regions: empty", { regions: [] }, /chat:regions .*non-empty list/],
    ["regions: not a region", { regions: ["us-east-1", "mars-north-1x"] }, /chat:regions .*AWS region names/],
    ["regions: duplicate", { regions: ["us-east-1", "us-west-2", "us-east-1"] }, /chat:regions .*at most once/],
    ["regions: not a list", { regions: "us-east-1" }, /chat:regions .*list of strings/],
    ["modelId", { modelId: "claude please" }, /chat:modelId .*Bedrock model id/],
    ["modelId: application profile ARN", { modelId: "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc" }, /chat:modelId/],
    ["modelApi: Invoke with a model whose body format the runtime does not speak", { modelId: "meta.llama3-8b-instruct-v1:0" }, /chat:modelApi .*ConverseStream for meta\.llama3/],
    ["modelIdOverrides: unknown region", { modelIdOverrides: ["eu-west-1=anthropic.claude-3-haiku-20240307-v1:0"] }, /chat:modelIdOverrides .*chat:regions/],
    ["modelIdOverrides: format", { modelIdOverrides: ["us-east-1"] }, /chat:modelIdOverrides .*<region>=<model id>/],
    ["modelApi", { modelApi: "InvokeModel" }, /chat:modelApi .*InvokeModelWithResponseStream \| ConverseStream/],
    ["guardrailFilters: category", { guardrailFilters: ["GORE=HIGH/HIGH", "PROMPT_ATTACK=HIGH/NONE"] }, /chat:guardrailFilters .*CATEGORY/],
    ["guardrailFilters: strength", { guardrailFilters: ["HATE=EXTREME/HIGH", "PROMPT_ATTACK=HIGH/NONE"] }, /chat:guardrailFilters/],
    ["guardrailFilters: prompt attack on output", { guardrailFilters: ["PROMPT_ATTACK=HIGH/HIGH"] }, /chat:guardrailFilters .*PROMPT_ATTACK output must be NONE/],
    ["guardrailFilters: prompt attack off", { guardrailFilters: ["HATE=HIGH/HIGH"] }, /chat:guardrailFilters .*PROMPT_ATTACK input filter/],
    ["guardrailFilters: twice", { guardrailFilters: ["HATE=HIGH/HIGH", "HATE=LOW/LOW", "PROMPT_ATTACK=HIGH/NONE"] }, /chat:guardrailFilters/],
    ["guardrailDeniedTopics: no definition", { guardrailDeniedTopics: ["Politics"] }, /chat:guardrailDeniedTopics .*<name> \| <definition>/],
    ["guardrailDeniedTopics: long definition", { guardrailDeniedTopics: [`Politics | ${"x".repeat(201)}`] }, /chat:guardrailDeniedTopics/],
    ["guardrailBlockedInputMessage", { guardrailBlockedInputMessage: "x".repeat(501) }, /chat:guardrailBlockedInputMessage .*1 to 500/],
    ["guardrailBlockedOutputMessage", { guardrailBlockedOutputMessage: 42 }, /chat:guardrailBlockedOutputMessage .*a string/],
    ["guardrailStreamMode", { guardrailStreamMode: "batch" }, /chat:guardrailStreamMode .*sync \| async/],
    ["maxOutputTokens", { maxOutputTokens: 0 }, /chat:maxOutputTokens .*integer from 1/],
    ["contextBudgetTokens", { contextBudgetTokens: "lots" }, /chat:contextBudgetTokens .*integer/],
    ["flushIntervalMs", { flushIntervalMs: 2.5 }, /chat:flushIntervalMs .*integer/],
    ["stopPollMs", { stopPollMs: 5 }, /chat:stopPollMs .*integer from 20/],
    ["historyRetentionDays", { historyRetentionDays: -1 }, /chat:historyRetentionDays/],
    ["throttleBurstLimit", { throttleBurstLimit: 0 }, /chat:throttleBurstLimit/],
    ["throttleRateLimit", { throttleRateLimit: 1e9 }, /chat:throttleRateLimit/],
    ["messagesPerMinute", { messagesPerMinute: 0 }, /chat:messagesPerMinute/],
    ["maxConcurrentPerConnection", { maxConcurrentPerConnection: 50 }, /chat:maxConcurrentPerConnection .*1 to 20/],
    ["maxConcurrentPerUser", { maxConcurrentPerUser: 0 }, /chat:maxConcurrentPerUser .*integer from 1 to 100/],
    ["dailyTokenBudget: negative", { dailyTokenBudget: -5 }, /chat:dailyTokenBudget .*integer from 0 to 1000000000/],
    ["dailyTokenBudget: not a number", { dailyTokenBudget: "lots" }, /chat:dailyTokenBudget .*integer/],
    ["logRetentionDays", { logRetentionDays: 10 }, /chat:logRetentionDays .*one of 1, 3, 5, 7, 14, 30/],
    ["logLevel", { logLevel: "TRACE" }, /chat:logLevel .*DEBUG \| INFO \| WARN \| ERROR/],
    ["systemLogLevel", { systemLogLevel: "ERROR" }, /chat:systemLogLevel .*DEBUG \| INFO \| WARN/],
    ["environment", { environment: "production" }, /chat:environment .*dev \| staging \| prod/],
    ["apiGatewayLoggingRole", { apiGatewayLoggingRole: "yes" }, /chat:apiGatewayLoggingRole .*true or false/],
    ["selfSignUpDomains: not a domain", { selfSignUpDomains: ["example.com,evil.net"] }, /chat:selfSignUpDomains .*e-mail domains such as example.com/],
    ["selfSignUpDomains: an address", { selfSignUpDomains: ["ana@example.com"] }, /chat:selfSignUpDomains/],
    ["threatProtection", { threatProtection: "full" }, /chat:threatProtection .*off \| audit \| enforced/],
    ["workerReservedConcurrency", { workerReservedConcurrency: 1000 }, /chat:workerReservedConcurrency .*integer from 0 to 900/],
    ["hourlyTokenAlarm", { hourlyTokenAlarm: 0 }, /chat:hourlyTokenAlarm .*integer from 1000/],
    ["monthlyBudgetUsd", { monthlyBudgetUsd: -1 }, /chat:monthlyBudgetUsd .*integer from 0/],
    ["alarmEmail", { alarmEmail: "ops at example.com" }, /chat:alarmEmail .*e-mail address/],
    ["authDomainPrefix", { authDomainPrefix: "my-aws-chat" }, /chat:authDomainPrefix .*without aws\/amazon\/cognito/],
    ["domainName", { domainName: "Chat.Example", hostedZoneId: "Z123" }, /chat:domainName .*DNS name/],
    ["hostedZoneId missing", { domainName: "chat.example.com" }, /chat:hostedZoneId .*required/],
    ["certificateArn region", { domainName: "chat.example.com", hostedZoneId: "Z1", certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/abc" }, /chat:certificateArn .*us-east-1/],
    ["certificateArn without domain", { certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/abc" }, /chat:domainName/],
  ];
  for (const [label, raw, message] of bad) {
    it(`rejects ${label}, naming the key and what is accepted`, () => {
      expect(failure(raw)).to.match(message);
    });
  }

  it("fails the program (not only parseConfig) with the key's name", async () => {
    let message = "";
    try {
      await buildStack({ regions: ["us-east-1"], modelApi: "Converse" }, bundleOptions());
    } catch (error) {
      message = String(error);
    }
    expect(message).to.match(/chat:modelApi is invalid \(got "Converse"\): expected one of InvokeModelWithResponseStream \| ConverseStream/);
  });
});
