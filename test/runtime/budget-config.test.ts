import { expect } from "chai";
import { ConfigError, loadConfig } from "../../runtime/config";

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
