/**
 * Logging wiring that mocks accept whatever it is, checked against what AWS does: the account-wide API Gateway
 * CloudWatch role (never reset by this stack's destroy), the stage's execution-log group (the program's, with
 * retention, before the stage), and Lambda's log levels (applied by Lambda's advanced logging controls).
 */
import { expect } from "chai";
import { Stack, TYPES } from "./query";
import { bundleOptions } from "./fixtures";
import { buildStack, type RecordedResource } from "./harness";
import { MOCK_ACCOUNT } from "../../infra/offline/mock-state";

const ACCOUNT = "aws:apigateway/account:Account";
const ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment";
const REGIONS = ["us-east-1", "eu-west-1"];

describe("infra logging: the account's API Gateway CloudWatch role", function () {
  this.timeout(120_000);

  it("is left alone by default: no account setting, no role for it", async () => {
    const stack = new Stack((await buildStack({ regions: REGIONS }, bundleOptions())).resources);
    expect(stack.ofType(ACCOUNT)).to.deep.equal([]);
    expect(stack.ofType(TYPES.role).filter((r) => String(r.inputs.assumeRolePolicy).includes("apigateway"))).to.deep.equal([]);
  });

  describe("with chat:apiGatewayLoggingRole", () => {
    let stack: Stack;
    before(async () => {
      stack = new Stack((await buildStack({ regions: REGIONS, apiGatewayLoggingRole: true }, bundleOptions())).resources);
    });

    it("sets it once per region, and `pulumi destroy` keeps the setting, the role and its policy", () => {
      for (const region of REGIONS) {
        const [account, ...more] = stack.inRegion(ACCOUNT, region);
        expect(more, region).to.deep.equal([]);
        const role = stack.one(TYPES.role, `chat-${region}-apigw-logs-role`);
        const attachment = stack.one(ATTACHMENT, `chat-${region}-apigw-logs-policy`);
        expect(account!.inputs.cloudwatchRoleArn).to.equal(role.state.arn);
        for (const retained of [account!, role, attachment]) expect(retained.retainOnDelete, retained.name).to.equal(true);
        expect(attachment.inputs.policyArn).to.equal("arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs");
      }
    });

    it("trusts API Gateway only when it acts for this account (aws:SourceAccount)", () => {
      for (const region of REGIONS) {
        const trust = JSON.parse(String(stack.one(TYPES.role, `chat-${region}-apigw-logs-role`).inputs.assumeRolePolicy));
        expect(trust.Statement).to.deep.equal([
          { Effect: "Allow", Principal: { Service: "apigateway.amazonaws.com" }, Action: "sts:AssumeRole", Condition: { StringEquals: { "aws:SourceAccount": MOCK_ACCOUNT } } },
        ]);
      }
    });

    it("is in place before the stage that logs through it", () => {
      for (const region of REGIONS) {
        const stage = stack.inRegion(TYPES.stage, region)[0]!;
        expect(stage.dependencies).to.include(stack.inRegion(ACCOUNT, region)[0]!.urn);
      }
    });
  });
});

describe("infra logging: levels and log groups as configured", function () {
  this.timeout(120_000);
  let stack: Stack;
  before(async () => {
    stack = new Stack((await buildStack({ regions: REGIONS, logLevel: "DEBUG", systemLogLevel: "WARN", logRetentionDays: 14 }, bundleOptions())).resources);
  });

  it("gives every function Lambda's application and system log levels, which need the JSON format", () => {
    const functions = stack.ofType(TYPES.function);
    expect(functions).to.have.length(10);
    for (const fn of functions) {
      expect(fn.inputs.loggingConfig, fn.name).to.include({ logFormat: "JSON", applicationLogLevel: "DEBUG", systemLogLevel: "WARN" });
      // The runtime's own setting agrees, so Powertools never warns that it is below Lambda's (AWS_LAMBDA_LOG_LEVEL).
      expect(fn.inputs.environment.variables.LOG_LEVEL, fn.name).to.equal("DEBUG");
    }
  });

  it("creates each stage's execution-log group under API Gateway's name, with retention, before the stage", () => {
    for (const region of REGIONS) {
      const stage = stack.inRegion(TYPES.stage, region)[0]!;
      const group = executionLogGroupOf(stack, stage);
      expect(group, `${region} execution logs`).to.not.equal(undefined);
      expect(group!.inputs.name).to.match(/^API-Gateway-Execution-Logs_[a-z0-9]{10}\/live$/);
      expect(group!.inputs.retentionInDays).to.equal(14);
      expect(stack.regionOf(group!)).to.equal(region);
      expect(stage.dependencies).to.include(group!.urn);
    }
  });

  it("defaults to INFO for both levels (Lambda's own defaults, now explicit)", async () => {
    const defaults = new Stack((await buildStack({ regions: ["us-east-1"] }, bundleOptions())).resources);
    for (const fn of defaults.ofType(TYPES.function)) expect(fn.inputs.loggingConfig).to.include({ applicationLogLevel: "INFO", systemLogLevel: "INFO" });
  });
});

function executionLogGroupOf(stack: Stack, stage: RecordedResource): RecordedResource | undefined {
  return stack.ofType(TYPES.logGroup).find((g) => g.inputs.name === `API-Gateway-Execution-Logs_${String(stage.inputs.apiId)}/${String(stage.inputs.name)}`);
}
