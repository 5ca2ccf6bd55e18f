/**
 * What mocks accept and AWS refuses: names and their lengths, ARNs the program builds by hand, settings that only
 * work in pairs, reserved names and size limits. One stack with the longest region names, a long stack name, a
 * custom domain and the account's logging role, so every optional resource is there. Each limit cites its source;
 * infra/README.md lists them with the tests that hold them.
 */
import { expect } from "chai";
import { Stack, TYPES } from "./query";
import { bundleOptions } from "./fixtures";
import { buildStack } from "./harness";
import { DEFAULT_MODEL_ID } from "../../infra/config";
import { MOCK_ACCOUNT } from "../../infra/offline/mock-state";
import { modelStatements } from "../../infra/permissions";

const REGIONS = ["ap-southeast-2", "ap-northeast-1", "eu-central-1"];
const STACK_NAME = "customer-production-eu";

/** Physical names as AWS would get them: the given name, else Pulumi's autoname `<logical>-<7 random chars>`. */
const NAME_RULES: { type: string; field: string; max: number; pattern: RegExp; source: string }[] = [
  // Lambda API CreateFunction, FunctionName: 1-64 of letters, digits, hyphens, underscores.
  { type: TYPES.function, field: "name", max: 64, pattern: /^[A-Za-z0-9_-]+$/, source: "Lambda CreateFunction FunctionName" },
  // IAM API CreateRole, RoleName: 1-64 of [\w+=,.@-].
  { type: TYPES.role, field: "name", max: 64, pattern: /^[\w+=,.@-]+$/, source: "IAM CreateRole RoleName" },
  // IAM API PutRolePolicy, PolicyName: 1-128 of [\w+=,.@-].
  { type: TYPES.rolePolicy, field: "name", max: 128, pattern: /^[\w+=,.@-]+$/, source: "IAM PutRolePolicy PolicyName" },
  // CloudWatch Logs CreateLogGroup, logGroupName: 1-512 of [.\-_/#A-Za-z0-9].
  { type: TYPES.logGroup, field: "name", max: 512, pattern: /^[.\-_/#A-Za-z0-9]+$/, source: "CloudWatch Logs CreateLogGroup" },
  // Bedrock CreateGuardrail, name: 1-50 of [0-9a-zA-Z-_].
  { type: TYPES.guardrail, field: "name", max: 50, pattern: /^[0-9a-zA-Z_-]+$/, source: "Bedrock CreateGuardrail name" },
  // S3 bucket naming rules: 3-63 of lower-case letters, digits, dots, hyphens; starts and ends with a letter or digit.
  { type: TYPES.bucket, field: "bucket", max: 63, pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, source: "S3 bucket naming rules" },
  // CloudFront CreateFunction, Name: 1-64 of [a-zA-Z0-9-_].
  { type: TYPES.cloudfrontFunction, field: "name", max: 64, pattern: /^[a-zA-Z0-9_-]+$/, source: "CloudFront CreateFunction Name" },
  // DynamoDB CreateTable, TableName: 3-255 of [a-zA-Z0-9_.-].
  { type: TYPES.table, field: "name", max: 255, pattern: /^[a-zA-Z0-9_.-]{3,}$/, source: "DynamoDB CreateTable TableName" },
  // CloudWatch PutMetricAlarm, AlarmName: 1-255.
  { type: TYPES.alarm, field: "name", max: 255, pattern: /^[\x20-\x7e]+$/, source: "CloudWatch PutMetricAlarm AlarmName" },
  // API Gateway v2 CreateStage, StageName: 1-128 of [A-Za-z0-9_-] ($default aside).
  { type: TYPES.stage, field: "name", max: 128, pattern: /^[A-Za-z0-9_-]+$/, source: "API Gateway CreateStage StageName" },
];

/**
 * Environment variable names Lambda reserves (Lambda developer guide, "Defined runtime environment variables":
 * reserved keys cannot be set in a function's configuration).
 */
const RESERVED_ENV = /^(_HANDLER|_X_AMZN_TRACE_ID|AWS_DEFAULT_REGION|AWS_REGION|AWS_EXECUTION_ENV|AWS_LAMBDA_\w+|AWS_ACCESS_KEY(_ID)?|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|LAMBDA_TASK_ROOT|LAMBDA_RUNTIME_DIR)$/;

describe("infra: what AWS refuses that mocks accept", function () {
  this.timeout(120_000);
  let stack: Stack;

  before(async () => {
    const config = { regions: REGIONS, apiGatewayLoggingRole: true, domainName: "chat.example.com", hostedZoneId: "Z0123456789ABCDEFGHIJ" };
    stack = new Stack((await buildStack(config, { ...bundleOptions(), stack: STACK_NAME })).resources);
  });

  for (const rule of NAME_RULES) {
    it(`${rule.type.split(":").pop()} names fit ${rule.source} (≤ ${rule.max}, ${rule.pattern})`, () => {
      const resources = stack.ofType(rule.type);
      expect(resources, rule.type).to.have.length.above(0);
      for (const resource of resources) {
        const name = String(resource.inputs[rule.field] ?? resource.state[rule.field] ?? resource.state.name);
        expect(name.length, name).to.be.at.most(rule.max);
        expect(name, resource.name).to.match(rule.pattern);
      }
    });
  }

  it("builds ARNs by hand exactly as AWS returns them (the worker's, the routes' source ARNs)", () => {
    for (const region of REGIONS) {
      const worker = stack.fn(region, "worker");
      const message = stack.fn(region, "message");
      // The message handler is told the worker's name, and its policy the worker's ARN, before the worker exists.
      expect(message.inputs.environment.variables.WORKER_FUNCTION_NAME).to.equal(worker.state.name);
      const policy = JSON.parse(String(stack.one(TYPES.rolePolicy, `chat-${region}-message-policy`).inputs.policy)) as { Statement: { Sid: string; Resource: string[] }[] };
      expect(policy.Statement.find((s) => s.Sid === "InvokeWorker")!.Resource).to.deep.equal([worker.state.arn]);
      // Lambda permissions for API Gateway: arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/<routeKey> or
      // …/authorizers/<authorizerId> (API Gateway developer guide, "Control access to a WebSocket API").
      const api = stack.inRegion(TYPES.api, region)[0]!;
      for (const permission of stack.inRegion(TYPES.permission, region)) {
        expect(permission.inputs.sourceArn, permission.name).to.match(
          new RegExp(`^arn:aws:execute-api:${region}:${MOCK_ACCOUNT}:${api.id}/(live/[$]?[a-z]+|authorizers/[^/]+)$`),
        );
      }
    }
  });

  it("lets the default global profile reach its destination model under either ARN form, only through the profile", () => {
    const [, destinations] = modelStatements(DEFAULT_MODEL_ID, "eu-central-1", MOCK_ACCOUNT);
    const model = DEFAULT_MODEL_ID.replace(/^global\./, "");
    expect(destinations!.Resource).to.deep.equal([`arn:aws:bedrock:*::foundation-model/${model}`, `arn:aws:bedrock:::foundation-model/${model}`]);
    expect(destinations!.Condition).to.deep.equal({ StringEquals: { "bedrock:InferenceProfileArn": `arn:aws:bedrock:eu-central-1:${MOCK_ACCOUNT}:inference-profile/${DEFAULT_MODEL_ID}` } });
  });

  it("sets no environment variable Lambda reserves, and stays under its 4 KB environment limit", () => {
    for (const fn of stack.ofType(TYPES.function)) {
      const variables = fn.inputs.environment.variables as Record<string, string>;
      for (const key of Object.keys(variables)) expect(key, fn.name).to.not.match(RESERVED_ENV);
      // Lambda quotas: "Environment variables: 4 KB, for all environment variables associated with the function".
      const size = Object.entries(variables).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
      expect(size, fn.name).to.be.below(4096);
      // Lambda quotas: timeout 1-900 s, memory 128-10240 MB.
      expect(fn.inputs.timeout).to.be.within(1, 900);
      expect(fn.inputs.memorySize).to.be.within(128, 10240);
    }
  });

  it("keeps the pairs AWS requires: $connect CUSTOM with an authorizer, the rest NONE without one", () => {
    for (const route of stack.ofType(TYPES.route)) {
      if (route.inputs.routeKey === "$connect") {
        expect(route.inputs).to.include({ authorizationType: "CUSTOM" }).and.have.property("authorizerId").that.is.a("string");
      } else {
        // API Gateway accepts authorization only on $connect for WebSocket APIs (CreateRoute, AuthorizationType).
        expect(route.inputs.authorizationType, route.name).to.equal("NONE");
        expect(route.inputs.authorizerId, route.name).to.equal(undefined);
      }
    }
  });

  it("declares only key attributes on the global tables, with the streams replicas need", () => {
    for (const table of stack.ofType(TYPES.table)) {
      // DynamoDB refuses an attribute definition that no key schema uses (CreateTable, AttributeDefinitions).
      const keys = new Set<string>([table.inputs.hashKey, table.inputs.rangeKey, ...table.inputs.globalSecondaryIndexes.flatMap((i: { keySchemas: { attributeName: string }[] }) => i.keySchemas.map((k) => k.attributeName))]);
      for (const attribute of table.inputs.attributes as { name: string }[]) expect(keys.has(attribute.name), attribute.name).to.equal(true);
      // Global tables version 2019.11.21 replicate through streams of new and old images.
      expect(table.inputs).to.include({ streamEnabled: true, streamViewType: "NEW_AND_OLD_IMAGES" });
      expect((table.inputs.replicas as { regionName: string }[]).map((r) => r.regionName)).to.deep.equal(REGIONS.slice(1));
    }
  });

  it("puts a custom domain on CloudFront only with a us-east-1 certificate over SNI, and alias records without TTL", () => {
    const distribution = stack.ofType(TYPES.distribution)[0]!;
    expect(distribution.inputs.aliases).to.deep.equal(["chat.example.com"]);
    expect(distribution.inputs.viewerCertificate).to.include({ sslSupportMethod: "sni-only" }).and.not.have.property("cloudfrontDefaultCertificate");
    // CloudFront uses certificates from us-east-1 only (CloudFront developer guide, "Requirements for using SSL/TLS certificates").
    const certificates = stack.ofType(TYPES.certificate).filter((c) => c.inputs.domainName === "chat.example.com");
    expect(certificates.map((c) => stack.regionOf(c))).to.deep.equal(["us-east-1"]);
    // Route 53 refuses TTL and records on an alias record (ChangeResourceRecordSets, AliasTarget).
    for (const record of stack.ofType(TYPES.record).filter((r) => r.inputs.aliases !== undefined)) {
      expect(record.inputs, record.name).to.not.have.any.keys("ttl", "records");
    }
  });

  it("keeps CloudFront Functions under 10 KB and Cognito's hosted domain prefix and callback URLs as Cognito accepts them", () => {
    // CloudFront quotas: "Maximum size of a function" 10 KB.
    for (const fn of stack.ofType(TYPES.cloudfrontFunction)) expect(Buffer.byteLength(String(fn.inputs.code)), fn.name).to.be.at.most(10 * 1024);
    // Cognito developer guide, "Using the Amazon Cognito prefix domain": lower-case letters, digits, hyphens, at most
    // 63, not starting or ending with a hyphen, and without "aws", "amazon" or "cognito".
    for (const domain of stack.ofType(TYPES.userPoolDomain)) {
      expect(domain.inputs.domain).to.match(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/).and.not.match(/aws|amazon|cognito/);
    }
    // CreateUserPoolClient: callback and sign-out URLs use HTTPS (plain HTTP only for localhost).
    for (const client of stack.ofType(TYPES.userPoolClient)) {
      for (const url of [...client.inputs.callbackUrls, ...client.inputs.logoutUrls] as string[]) expect(url).to.match(/^https:\/\/[^/]+\//);
    }
  });

  it("gives the asynchronous worker invocation settings Lambda accepts", () => {
    for (const config of stack.ofType("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")) {
      // PutFunctionEventInvokeConfig: MaximumRetryAttempts 0-2, MaximumEventAgeInSeconds 60-21600.
      expect(config.inputs.maximumRetryAttempts).to.be.within(0, 2);
      expect(config.inputs.maximumEventAgeInSeconds).to.be.within(60, 21600);
    }
  });
});
