import { expect } from "chai";
import { ConfigError, inferModelFamily, loadAuthConfig, loadConfig } from "../../runtime/config";

const BASE = {
  CONNECTIONS_TABLE: "chat-connections",
  HISTORY_TABLE: "chat-history",
  CONNECTIONS_ENDPOINT: "https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
  MODEL_ID: "eu.anthropic.claude-3-5-sonnet-20240620-v1:0",
  USER_POOL_ID: "eu-west-1_abc",
  USER_POOL_CLIENT_ID: "client",
  WORKER_FUNCTION_NAME: "chat-worker",
  AWS_REGION: "eu-west-1",
};

function error(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).to.be.instanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("config was accepted");
}

describe("runtime/config", () => {
  it("reads the environment with documented defaults", () => {
    const cfg = loadConfig(BASE);
    expect(cfg).to.deep.include({ region: "eu-west-1", flushIntervalMs: 50, stopPollMs: 100, contextBudgetTokens: 8000, maxConcurrentPerConnection: 2, deadlineMarginMs: 10_000 });
    expect(cfg.model).to.deep.equal({ modelId: BASE.MODEL_ID, api: "InvokeModelWithResponseStream", family: "anthropic", guardrail: undefined, maxOutputTokens: 1024 });
  });

  it("reads the guardrail, the API and numbers", () => {
    const cfg = loadConfig({ ...BASE, GUARDRAIL_ID: "gr-1", GUARDRAIL_VERSION: "2", GUARDRAIL_STREAM_MODE: "async", MODEL_API: "ConverseStream", FLUSH_INTERVAL_MS: "25" });
    expect(cfg.model.guardrail).to.deep.equal({ id: "gr-1", version: "2", streamMode: "async" });
    expect(cfg.model.api).to.equal("ConverseStream");
    expect(cfg.flushIntervalMs).to.equal(25);
  });

  it("names every missing variable", () => {
    expect(error({})).to.include("CONNECTIONS_TABLE").and.include("HISTORY_TABLE").and.include("MODEL_ID").and.include("WORKER_FUNCTION_NAME");
    expect(error({ ...BASE, GUARDRAIL_ID: "gr-1" })).to.include("GUARDRAIL_VERSION");
  });

  it("names a bad value and what it accepts", () => {
    expect(error({ ...BASE, FLUSH_INTERVAL_MS: "fast" })).to.match(/^FLUSH_INTERVAL_MS="fast" is not valid: expected an integer from 0 to 5000$/);
    expect(error({ ...BASE, MODEL_API: "InvokeModel" })).to.include("MODEL_API").and.include("ConverseStream");
    expect(error({ ...BASE, GUARDRAIL_ID: "g", GUARDRAIL_VERSION: "1", GUARDRAIL_STREAM_MODE: "maybe" })).to.include("GUARDRAIL_STREAM_MODE");
    expect(error({ ...BASE, CONNECTIONS_ENDPOINT: "abc123" })).to.include("CONNECTIONS_ENDPOINT");
    expect(error({ ...BASE, MODEL_ID: "arn:aws:bedrock:us-east-1:123:application-inference-profile/xyz" })).to.include("MODEL_FAMILY");
  });

  it("infers the Invoke body format from model ids and inference profiles; MODEL_FAMILY overrides", () => {
    expect(inferModelFamily("anthropic.claude-3-haiku-20240307-v1:0")).to.equal("anthropic");
    expect(inferModelFamily("us.anthropic.claude-3-5-haiku-20241022-v1:0")).to.equal("anthropic");
    expect(inferModelFamily("arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-v2")).to.equal("anthropic");
    expect(inferModelFamily("amazon.nova-lite-v1:0")).to.equal("nova");
    expect(inferModelFamily("eu.amazon.nova-pro-v1:0")).to.equal("nova");
    expect(inferModelFamily("meta.llama3-8b-instruct-v1:0")).to.equal(undefined);
    const arn = "arn:aws:bedrock:us-east-1:123:application-inference-profile/xyz";
    expect(loadConfig({ ...BASE, MODEL_ID: arn, MODEL_FAMILY: "nova" }).model.family).to.equal("nova");
    expect(loadConfig({ ...BASE, MODEL_ID: arn, MODEL_API: "ConverseStream" }).model.family).to.equal(undefined);
  });

  it("the authorizer needs only the user pool settings", () => {
    expect(loadAuthConfig({ USER_POOL_ID: "p", USER_POOL_CLIENT_ID: "c" })).to.deep.equal({ userPoolId: "p", userPoolClientId: "c", originSecrets: [] });
    const a = "a".repeat(32);
    const b = "b".repeat(40);
    expect(loadAuthConfig({ USER_POOL_ID: "p", USER_POOL_CLIENT_ID: "c", ORIGIN_VERIFY_SECRETS: ` ${a}, ,${b} ` }).originSecrets).to.deep.equal([a, b]);
    expect(() => loadAuthConfig({ USER_POOL_ID: "p", USER_POOL_CLIENT_ID: "c", ORIGIN_VERIFY_SECRETS: `${a},short` })).to.throw(
      ConfigError,
      "ORIGIN_VERIFY_SECRETS is not valid: every secret must be at least 32 characters",
    );
    expect(() => loadAuthConfig({ USER_POOL_ID: "p" })).to.throw(ConfigError, "USER_POOL_CLIENT_ID");
  });
  it("the worker mode: lambda by default (the worker function), ecs with its queue and the worker service's settings", () => {
    expect(loadConfig(BASE).worker).to.deep.equal({ mode: "lambda", functionName: "chat-worker", queueUrl: "", maxReceives: 5, turnsPerTask: 100, drainMs: 100_000 });
    const { WORKER_FUNCTION_NAME: _unused, ...noFunction } = BASE;
    void _unused;
    const queueUrl = "https://sqs.eu-west-1.amazonaws.com/123456789012/chat-jobs";
    const ecs = loadConfig({ ...noFunction, WORKER_MODE: "ecs", WORKER_QUEUE_URL: queueUrl, WORKER_QUEUE_MAX_RECEIVES: "3", WORKER_TURNS_PER_TASK: "200", WORKER_DRAIN_MS: "60000" });
    expect(ecs.worker).to.deep.equal({ mode: "ecs", functionName: "", queueUrl, maxReceives: 3, turnsPerTask: 200, drainMs: 60_000 });
    expect(error({ ...noFunction, WORKER_MODE: "ecs" })).to.contain("WORKER_QUEUE_URL");
    expect(error(noFunction)).to.contain("WORKER_FUNCTION_NAME");
    expect(error({ ...BASE, WORKER_MODE: "fargate" })).to.match(/WORKER_MODE="fargate" is not valid: expected one of lambda, ecs/);
    expect(error({ ...BASE, WORKER_MODE: "ecs", WORKER_QUEUE_URL: "chat-jobs" })).to.contain("WORKER_QUEUE_URL");
    expect(error({ ...BASE, WORKER_DRAIN_MS: "130000" })).to.contain("WORKER_DRAIN_MS");
    expect(error({ ...BASE, WORKER_TURNS_PER_TASK: "0" })).to.contain("WORKER_TURNS_PER_TASK");
  });
});

describe("runtime/config: budgets, home region, frame budget, kill switch cache", () => {
  it("defaults: 2 answers at once per user, no daily budget, home = this region, 30 frames burst at 5/s, 15 s switch cache", () => {
    const cfg = loadConfig(BASE);
    expect(cfg).to.deep.include({
      maxConcurrentPerUser: 2,
      dailyTokenBudget: 0,
      home: { region: "eu-west-1", dynamoEndpoint: undefined },
      frameBudget: { burst: 30, perSecond: 5, strikesBeforeClose: 20 },
      operatorSwitchCacheMs: 15_000,
    });
  });

  it("reads each setting, and names the variable and what it accepts when a value is bad", () => {
    const cfg = loadConfig({
      ...BASE,
      MAX_CONCURRENT_PER_USER: "3",
      DAILY_TOKEN_BUDGET: "200000",
      HOME_REGION: "us-east-1",
      HOME_DYNAMODB_ENDPOINT: "http://127.0.0.1:4567",
      FRAME_BURST: "50",
      FRAMES_PER_SECOND: "10",
      FRAME_STRIKES_BEFORE_CLOSE: "40",
      OPERATOR_SWITCH_CACHE_MS: "0",
    });
    expect(cfg).to.deep.include({
      maxConcurrentPerUser: 3,
      dailyTokenBudget: 200_000,
      home: { region: "us-east-1", dynamoEndpoint: "http://127.0.0.1:4567" },
      frameBudget: { burst: 50, perSecond: 10, strikesBeforeClose: 40 },
      operatorSwitchCacheMs: 0,
    });
    const bad: [string, string, RegExp][] = [
      ["MAX_CONCURRENT_PER_USER", "0", /MAX_CONCURRENT_PER_USER="0".*1 to 100/],
      ["DAILY_TOKEN_BUDGET", "-1", /DAILY_TOKEN_BUDGET="-1".*0 to/],
      ["HOME_REGION", "home", /HOME_REGION="home".*region name/],
      ["HOME_DYNAMODB_ENDPOINT", "dynamo:8000", /HOME_DYNAMODB_ENDPOINT.*http\(s\) URL/],
      ["FRAMES_PER_SECOND", "0.5", /FRAMES_PER_SECOND/],
    ];
    for (const [name, value, message] of bad) {
      expect(() => loadConfig({ ...BASE, [name]: value })).to.throw(ConfigError, message);
    }
  });
});
