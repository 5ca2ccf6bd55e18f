import { expect } from "chai";
import { HANDLERS } from "../../runtime/env";
import { CLIENT_ACTIONS } from "../../runtime/protocol";
import { historyTable } from "../../runtime/store/schema";
import { MOCK_ACCOUNT } from "../../infra/offline/mock-state";
import { bundleOptions, ONE_REGION, THREE_REGIONS } from "./fixtures";
import { buildStack } from "./harness";
import { Stack, TYPES } from "./query";

interface Statement {
  Sid: string;
  Effect: string;
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

const ROUTE_KEYS = ["$connect", "$disconnect", "$default", ...CLIENT_ACTIONS];
const ROUTE_HANDLER: Record<string, string> = {
  $connect: "connect",
  $disconnect: "disconnect",
  ...Object.fromEntries(["$default", ...CLIENT_ACTIONS].map((key) => [key, "message"])),
};

for (const [label, config] of [
  ["one region", ONE_REGION],
  ["three regions", THREE_REGIONS],
] as const) {
  describe(`infra stack, regional slices (${label})`, function () {
    this.timeout(120_000);
    let stack: Stack;
    const regions = config.regions;

    before(async () => {
      stack = new Stack((await buildStack(config, bundleOptions())).resources);
    });

    it("creates one provider per configured region and every custom resource on an explicit provider", () => {
      expect(stack.ofType(TYPES.provider).map((p) => p.inputs.region)).to.have.members([...regions]);
      for (const provider of stack.ofType(TYPES.provider)) {
        expect(JSON.parse(String(provider.inputs.defaultTags)).tags).to.deep.equal({ app: "bedrock-streaming-chat", "pulumi-project": "chat", "pulumi-stack": "test" });
      }
      for (const resource of stack.custom().filter((r) => r.type !== TYPES.provider)) {
        expect(stack.regionOf(resource), `${resource.type} ${resource.name}`).to.be.a("string");
      }
    });

    it("puts every resource of a region's slice on that region's provider", () => {
      for (const region of regions) {
        const slice = stack.custom().filter((r) => r.name.startsWith(`chat-${region}-`));
        expect(slice.length).to.be.greaterThan(40);
        for (const resource of slice) expect(stack.regionOf(resource), `${resource.type} ${resource.name}`).to.equal(region);
      }
    });

    it("gives each region exactly one WebSocket API selecting routes by $request.body.action", () => {
      for (const region of regions) {
        const apis = stack.inRegion(TYPES.api, region);
        expect(apis).to.have.length(1);
        expect(apis[0]!.inputs.protocolType).to.equal("WEBSOCKET");
        expect(apis[0]!.inputs.routeSelectionExpression).to.equal("$request.body.action");
      }
    });

    it("has exactly the protocol's routes in each region, each integrated with the right function", () => {
      for (const region of regions) {
        const api = stack.inRegion(TYPES.api, region)[0]!;
        const routes = stack.inRegion(TYPES.route, region);
        expect(routes.map((r) => r.inputs.routeKey)).to.have.members(ROUTE_KEYS);
        for (const route of routes) {
          expect(route.inputs.apiId).to.equal(api.id);
          const integrationId = String(route.inputs.target).replace(/^integrations\//, "");
          const integration = stack.inRegion(TYPES.integration, region).find((i) => i.id === integrationId);
          expect(integration, `${region} ${route.inputs.routeKey}`).to.not.equal(undefined);
          expect(integration!.inputs.integrationType).to.equal("AWS_PROXY");
          expect(integration!.inputs.apiId).to.equal(api.id);
          const handler = ROUTE_HANDLER[String(route.inputs.routeKey)]!;
          expect(integration!.inputs.integrationUri).to.equal(stack.fn(region, handler).state.invokeArn);
        }
      }
    });

    it("guards $connect, and only $connect, with a REQUEST authorizer reading the token from Sec-WebSocket-Protocol", () => {
      for (const region of regions) {
        const authorizers = stack.inRegion(TYPES.authorizer, region);
        expect(authorizers).to.have.length(1);
        const authorizer = authorizers[0]!;
        expect(authorizer.inputs.authorizerType).to.equal("REQUEST");
        // The token is the second offered subprotocol (wire protocol, Connect), never a query parameter.
        expect(authorizer.inputs.identitySources).to.deep.equal(["route.request.header.Sec-WebSocket-Protocol"]);
        expect(authorizer.inputs.authorizerUri).to.equal(stack.fn(region, "authorizer").state.invokeArn);
        for (const route of stack.inRegion(TYPES.route, region)) {
          if (route.inputs.routeKey === "$connect") {
            expect(route.inputs.authorizationType).to.equal("CUSTOM");
            expect(route.inputs.authorizerId).to.equal(authorizer.id);
          } else {
            expect(route.inputs.authorizationType, String(route.inputs.routeKey)).to.equal("NONE");
            expect(route.inputs.authorizerId).to.equal(undefined);
          }
        }
      }
    });

    it("lets API Gateway invoke each function only from its own routes and authorizer (source ARNs)", () => {
      for (const region of regions) {
        const executionArn = String(stack.inRegion(TYPES.api, region)[0]!.state.executionArn);
        expect(executionArn).to.equal(`arn:aws:execute-api:${region}:${MOCK_ACCOUNT}:${stack.inRegion(TYPES.api, region)[0]!.id}`);
        const permissions = stack.inRegion(TYPES.permission, region);
        const expected = [
          ...ROUTE_KEYS.map((key) => ({ arn: `${executionArn}/live/${key}`, fn: ROUTE_HANDLER[key]! })),
          { arn: `${executionArn}/authorizers/${stack.inRegion(TYPES.authorizer, region)[0]!.id}`, fn: "authorizer" },
        ];
        expect(permissions.map((p) => p.inputs.sourceArn)).to.have.members(expected.map((e) => e.arn));
        for (const { arn, fn } of expected) {
          const permission = permissions.find((p) => p.inputs.sourceArn === arn)!;
          expect(permission.inputs.action).to.equal("lambda:InvokeFunction");
          expect(permission.inputs.principal).to.equal("apigateway.amazonaws.com");
          expect(permission.inputs.function).to.equal(stack.fn(region, fn).state.arn);
        }
      }
    });

    it("runs every handler on nodejs22.x / arm64 with short timeouts, except the long-running worker", () => {
      for (const region of regions) {
        for (const handler of HANDLERS) {
          const fn = stack.fn(region, handler);
          expect(fn.inputs.runtime).to.equal("nodejs22.x");
          expect(fn.inputs.architectures).to.deep.equal(["arm64"]);
          expect(fn.inputs.handler).to.equal("index.handler");
          expect(fn.inputs.loggingConfig.logFormat).to.equal("JSON");
          if (handler === "worker") expect(fn.inputs.timeout).to.equal(900);
          else expect(fn.inputs.timeout).to.be.at.most(20);
        }
      }
    });

    it("passes this region's guardrail id and published version, endpoints and limits to the handlers", () => {
      for (const region of regions) {
        const guardrail = stack.inRegion(TYPES.guardrail, region);
        const version = stack.inRegion(TYPES.guardrailVersion, region);
        expect(guardrail).to.have.length(1);
        expect(version).to.have.length(1);
        expect(version[0]!.inputs.guardrailArn).to.equal(guardrail[0]!.state.guardrailArn);
        const api = stack.inRegion(TYPES.api, region)[0]!;
        for (const handler of ["connect", "disconnect", "message", "worker"]) {
          const env = stack.fn(region, handler).inputs.environment.variables as Record<string, string>;
          expect(env.GUARDRAIL_ID, handler).to.equal(guardrail[0]!.state.guardrailId);
          expect(env.GUARDRAIL_VERSION, handler).to.equal(version[0]!.state.version);
          expect(env.GUARDRAIL_VERSION).to.not.equal("DRAFT");
          expect(env.CONNECTIONS_ENDPOINT).to.equal(`https://${api.id}.execute-api.${region}.amazonaws.com/live`);
          expect(env.MODEL_ID).to.equal(config.modelId);
          expect(env.MODEL_API).to.equal("InvokeModelWithResponseStream");
          expect(env.GUARDRAIL_STREAM_MODE).to.equal("sync");
          expect(env.MAX_OUTPUT_TOKENS).to.equal("1024");
          expect(env.STOP_POLL_MS).to.equal("100");
          expect(env.WORKER_FUNCTION_NAME).to.equal(stack.fn(region, "worker").inputs.name);
          expect(env.CONNECTIONS_TABLE).to.equal(stack.one(TYPES.table, "chat-tables-connections").state.name);
          expect(env.HISTORY_TABLE).to.equal(stack.one(TYPES.table, "chat-tables-history").state.name);
          // Budgets: the defaults, counted in the primary region from every region.
          expect(env.MAX_CONCURRENT_PER_USER).to.equal("2");
          expect(env.DAILY_TOKEN_BUDGET).to.equal("0");
          expect(env.HOME_REGION).to.equal(regions[0]);
          expect(env.USER_POOL_ID).to.equal(stack.ofType(TYPES.userPool)[0]!.id);
          expect(env.USER_POOL_CLIENT_ID).to.equal(stack.ofType(TYPES.userPoolClient)[0]!.id);
        }
        const authorizerEnv = stack.fn(region, "authorizer").inputs.environment.variables as Record<string, string>;
        expect(Object.keys(authorizerEnv)).to.include.members(["USER_POOL_ID", "USER_POOL_CLIENT_ID"]);
        expect(authorizerEnv).to.not.have.property("MODEL_ID");
      }
    });

    it("configures each guardrail with input and output filters, prompt-attack detection and blocked messages", () => {
      for (const region of regions) {
        const guardrail = stack.inRegion(TYPES.guardrail, region)[0]!;
        const filters = guardrail.inputs.contentPolicyConfig.filtersConfigs as { type: string; inputStrength: string; outputStrength: string }[];
        expect(filters.map((f) => f.type)).to.have.members(["SEXUAL", "VIOLENCE", "HATE", "INSULTS", "MISCONDUCT", "PROMPT_ATTACK"]);
        expect(filters.find((f) => f.type === "PROMPT_ATTACK")).to.include({ inputStrength: "HIGH", outputStrength: "NONE" });
        expect(filters.find((f) => f.type === "HATE")).to.include({ inputStrength: "HIGH", outputStrength: "HIGH" });
        expect(String(guardrail.inputs.blockedInputMessaging)).to.match(/\w/);
        expect(String(guardrail.inputs.blockedOutputsMessaging)).to.match(/\w/);
        const topics = (guardrail.inputs.topicPolicyConfig?.topicsConfigs ?? []) as { name: string; type: string }[];
        expect(topics.map((t) => t.name)).to.deep.equal("guardrailDeniedTopics" in config ? ["Investment advice"] : []);
        for (const topic of topics) expect(topic.type).to.equal("DENY");
      }
    });

    it("gives each function its own role with a scoped policy: no wildcard action, no bare * resource", () => {
      for (const region of regions) {
        for (const handler of HANDLERS) {
          const policy = JSON.parse(stack.one(TYPES.rolePolicy, `chat-${region}-${handler}-policy`).inputs.policy as string) as {
            Statement: Statement[];
          };
          for (const statement of policy.Statement) {
            expect(statement.Effect).to.equal("Allow");
            for (const action of statement.Action) expect(action, `${handler} ${statement.Sid}`).to.not.contain("*");
            for (const resource of statement.Resource) expect(resource, `${handler} ${statement.Sid}`).to.not.equal("*");
          }
          const fn = stack.fn(region, handler);
          const role = stack.one(TYPES.role, `chat-${region}-${handler}-role`);
          expect(fn.inputs.role).to.equal(role.state.arn);
        }
      }
    });

    it("scopes the worker to this region's tables, stage, model profile and guardrail, and the stack's other APIs", () => {
      for (const region of regions) {
        const statements = JSON.parse(stack.one(TYPES.rolePolicy, `chat-${region}-worker-policy`).inputs.policy as string).Statement as Statement[];
        const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
        const api = stack.inRegion(TYPES.api, region)[0]!;
        const connections = String(stack.one(TYPES.table, "chat-tables-connections").state.name);
        const history = String(stack.one(TYPES.table, "chat-tables-history").state.name);
        expect(bySid.ConnectionsTable!.Resource).to.deep.equal([`arn:aws:dynamodb:${region}:${MOCK_ACCOUNT}:table/${connections}`]);
        expect(bySid.HistoryTable!.Resource).to.deep.equal([`arn:aws:dynamodb:${region}:${MOCK_ACCOUNT}:table/${history}`]);
        expect(bySid.HistoryTable!.Action).to.have.members(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:BatchWriteItem"]);
        expect(bySid.ConnectionsTable!.Action).to.have.members(["dynamodb:UpdateItem", "dynamodb:DeleteItem"]);
        expect(bySid.PostToConnections).to.deep.include({
          Action: ["execute-api:ManageConnections"],
          Resource: [`arn:aws:execute-api:${region}:${MOCK_ACCOUNT}:${api.id}/live/POST/@connections/*`],
        });
        // A client that resumed a turn in another region is posted to through that region's API, and no other.
        const peers = regions.filter((r) => r !== region).map((r) => `arn:aws:execute-api:${r}:${MOCK_ACCOUNT}:${stack.inRegion(TYPES.api, r)[0]!.id}/live/POST/@connections/*`);
        if (peers.length === 0) expect(bySid).to.not.have.property("PostToPeerRegions");
        else expect(bySid.PostToPeerRegions).to.deep.include({ Action: ["execute-api:ManageConnections"], Resource: peers });
        expect(bySid.ApplyOwnGuardrail!.Resource).to.deep.equal([stack.inRegion(TYPES.guardrail, region)[0]!.state.guardrailArn]);
        const streamActions = statements.filter((s) => s.Action.includes("bedrock:InvokeModelWithResponseStream"));
        expect(streamActions.flatMap((s) => s.Action)).to.satisfy((actions: string[]) => actions.every((a) => a === "bedrock:InvokeModelWithResponseStream"));
        if (config.modelId.startsWith("us.")) {
          const profileArn = `arn:aws:bedrock:${region}:${MOCK_ACCOUNT}:inference-profile/${config.modelId}`;
          expect(bySid.StreamThroughProfile!.Resource).to.deep.equal([profileArn]);
          expect(bySid.StreamFromProfileDestinations!.Resource).to.deep.equal([
            `arn:aws:bedrock:*::foundation-model/${config.modelId.replace(/^us\./, "")}`,
          ]);
          expect(bySid.StreamFromProfileDestinations!.Condition).to.deep.equal({ StringEquals: { "bedrock:InferenceProfileArn": profileArn } });
        } else {
          expect(bySid.StreamFromModel!.Resource).to.deep.equal([`arn:aws:bedrock:${region}::foundation-model/${config.modelId}`]);
        }
        expect(bySid).to.not.have.property("InvokeWorker");
      }
    });

    it("lets message and worker outside the primary region update only the per-user items of the primary's history table", () => {
      const history = String(stack.one(TYPES.table, "chat-tables-history").state.name);
      for (const region of regions) {
        for (const handler of HANDLERS) {
          const statements = JSON.parse(stack.one(TYPES.rolePolicy, `chat-${region}-${handler}-policy`).inputs.policy as string).Statement as Statement[];
          const home = statements.find((s) => s.Sid === "HomeRegionCounters");
          if (region === regions[0] || handler === "authorizer" || handler === "connect" || handler === "disconnect") {
            expect(home, `${region} ${handler}`).to.equal(undefined);
            continue;
          }
          expect(home!.Resource).to.deep.equal([`arn:aws:dynamodb:${regions[0]}:${MOCK_ACCOUNT}:table/${history}`]);
          expect(home!.Action).to.have.members(handler === "message" ? ["dynamodb:GetItem", "dynamodb:UpdateItem"] : ["dynamodb:UpdateItem"]);
          expect(home!.Condition).to.deep.equal({
            "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["USER#*"] },
            Null: { "dynamodb:LeadingKeys": "false" },
          });
        }
      }
    });

    it("lets only the message handler invoke the worker, and only it query the history index", () => {
      for (const region of regions) {
        for (const handler of HANDLERS) {
          const statements = JSON.parse(stack.one(TYPES.rolePolicy, `chat-${region}-${handler}-policy`).inputs.policy as string).Statement as Statement[];
          const invoke = statements.find((s) => s.Sid === "InvokeWorker");
          const index = statements.find((s) => s.Sid === "HistoryIndexes");
          if (handler === "message") {
            expect(invoke!.Resource).to.deep.equal([stack.fn(region, "worker").state.arn]);
            expect(index!.Resource).to.deep.equal(
              historyTable.globalIndexes.map((i) => `arn:aws:dynamodb:${region}:${MOCK_ACCOUNT}:table/${String(stack.one(TYPES.table, "chat-tables-history").state.name)}/index/${i.name}`),
            );
          } else {
            expect(invoke, handler).to.equal(undefined);
            expect(index, handler).to.equal(undefined);
          }
          if (handler === "authorizer") expect(statements.map((s) => s.Sid)).to.deep.equal(["WriteOwnLogs"]);
        }
      }
    });

    it("deploys a stage with route throttling and JSON access logs that never include the token", () => {
      for (const region of regions) {
        const stages = stack.inRegion(TYPES.stage, region);
        expect(stages).to.have.length(1);
        const stage = stages[0]!;
        expect(stage.inputs.name).to.equal("live");
        expect(stage.inputs.deploymentId).to.equal(stack.inRegion(TYPES.deployment, region)[0]!.id);
        expect(stage.inputs.defaultRouteSettings).to.include({ throttlingBurstLimit: 200, throttlingRateLimit: 100, dataTraceEnabled: false });
        const format = String(stage.inputs.accessLogSettings.format);
        expect(() => JSON.parse(format)).to.not.throw();
        expect(format).to.contain("$context.connectionId").and.contain("$context.routeKey");
        expect(format.toLowerCase()).to.not.contain("querystring");
        expect(format.toLowerCase()).to.not.contain("token");
        const logGroup = stack.inRegion(TYPES.logGroup, region).find((g) => g.state.arn === stage.inputs.accessLogSettings.destinationArn);
        expect(logGroup, "access log group").to.not.equal(undefined);
      }
    });

    it("sets a retention on every log group, and gives each function its own", () => {
      for (const group of stack.ofType(TYPES.logGroup)) expect(group.inputs.retentionInDays, group.name).to.equal(30);
      for (const region of regions) {
        for (const handler of HANDLERS) {
          const group = stack.one(TYPES.logGroup, `chat-${region}-${handler}-logs`);
          expect(stack.fn(region, handler).inputs.loggingConfig.logGroup).to.equal(group.state.name);
        }
      }
    });

    it("invokes the worker asynchronously without retries, and alarms on errors and throttles", () => {
      for (const region of regions) {
        const config = stack.one("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", `chat-${region}-worker-async`);
        expect(config.inputs).to.include({ maximumRetryAttempts: 0, functionName: stack.fn(region, "worker").state.name });
        const metrics = stack.inRegion(TYPES.alarm, region).map((a) => `${a.inputs.namespace}/${a.inputs.metricName}`);
        expect(metrics).to.include.members(["AWS/Lambda/Errors", "AWS/Lambda/Throttles", "AWS/ApiGateway/IntegrationError", "AWS/ApiGateway/ExecutionError"]);
      }
    });

    it("caps the stack: a reserved worker concurrency, hourly Bedrock token alarms, every alarm on an encrypted topic", () => {
      for (const region of regions) {
        expect(stack.fn(region, "worker").inputs.reservedConcurrentExecutions).to.equal(50);
        for (const handler of ["authorizer", "connect", "disconnect", "message"]) {
          expect(stack.fn(region, handler).inputs, handler).to.not.have.property("reservedConcurrentExecutions");
        }
        const topics = stack.inRegion("aws:sns/topic:Topic", region);
        expect(topics).to.have.length(1);
        const key = stack.inRegion("aws:kms/key:Key", region)[0]!;
        expect(topics[0]!.inputs.kmsMasterKeyId).to.equal(key.state.arn);
        expect(key.inputs.enableKeyRotation).to.equal(true);
        const keyPolicy = JSON.parse(String(key.inputs.policy)) as { Statement: { Sid: string; Principal: { Service?: string[] }; Action: string[] }[] };
        const services = keyPolicy.Statement.find((st) => st.Sid === "AlarmServicesEncrypt")!;
        expect(services.Principal.Service).to.include("cloudwatch.amazonaws.com");
        expect(services.Action).to.have.members(["kms:GenerateDataKey*", "kms:Decrypt"]);
        const alarms = stack.inRegion(TYPES.alarm, region);
        for (const alarm of alarms) expect(alarm.inputs.alarmActions, alarm.name).to.deep.equal([topics[0]!.state.arn]);
        for (const metric of ["InputTokenCount", "OutputTokenCount"]) {
          const tokens = alarms.filter((a) => a.inputs.namespace === "AWS/Bedrock" && a.inputs.metricName === metric);
          expect(tokens, metric).to.have.length(1);
          expect(tokens[0]!.inputs).to.deep.include({ statistic: "Sum", period: 3600, threshold: 2_000_000, dimensions: { ModelId: config.modelId } });
        }
        // No e-mail address configured: no subscription.
        expect(stack.inRegion("aws:sns/topicSubscription:TopicSubscription", region)).to.deep.equal([]);
      }
    });

    it("keeps one monthly cost budget for the account, created once through the primary provider, notifying the primary topic", () => {
      const budgets = stack.ofType("aws:budgets/budget:Budget");
      expect(budgets).to.have.length(1);
      expect(stack.regionOf(budgets[0]!)).to.equal(regions[0]);
      expect(budgets[0]!.inputs).to.deep.include({ budgetType: "COST", limitAmount: "100", limitUnit: "USD", timeUnit: "MONTHLY" });
      const topic = stack.inRegion("aws:sns/topic:Topic", regions[0]!)[0]!;
      const notifications = budgets[0]!.inputs.notifications as { notificationType: string; threshold: number; subscriberSnsTopicArns: string[] }[];
      expect(notifications.map((n) => `${n.notificationType} ${n.threshold}`)).to.have.members(["ACTUAL 80", "FORECASTED 100"]);
      for (const n of notifications) expect(n.subscriberSnsTopicArns).to.deep.equal([topic.state.arn]);
      // Budgets may publish to (and encrypt for) the primary topic only.
      const topicPolicy = JSON.parse(String(stack.inRegion("aws:sns/topicPolicy:TopicPolicy", regions[0]!)[0]!.inputs.policy)) as { Statement: { Principal: { Service: string[] } }[] };
      expect(topicPolicy.Statement[0]!.Principal.Service).to.have.members(["cloudwatch.amazonaws.com", "budgets.amazonaws.com"]);
      for (const region of regions.slice(1)) {
        const policy = JSON.parse(String(stack.inRegion("aws:sns/topicPolicy:TopicPolicy", region)[0]!.inputs.policy)) as { Statement: { Principal: { Service: string[] } }[] };
        expect(policy.Statement[0]!.Principal.Service).to.deep.equal(["cloudwatch.amazonaws.com"]);
      }
    });
  });
}

describe("infra stack, the ceiling's options", function () {
  this.timeout(120_000);

  it("subscribes chat:alarmEmail in every region, and reserves nothing and budgets nothing when set to 0", async () => {
    const stack = new Stack(
      (await buildStack({ ...THREE_REGIONS, alarmEmail: "ops@example.com", workerReservedConcurrency: 0, monthlyBudgetUsd: 0 }, bundleOptions())).resources,
    );
    for (const region of THREE_REGIONS.regions) {
      const subscriptions = stack.inRegion("aws:sns/topicSubscription:TopicSubscription", region);
      expect(subscriptions.map((s) => s.inputs)).to.deep.equal([
        { topic: stack.inRegion("aws:sns/topic:Topic", region)[0]!.state.arn, protocol: "email", endpoint: "ops@example.com" },
      ]);
      expect(stack.fn(region, "worker").inputs).to.not.have.property("reservedConcurrentExecutions");
    }
    expect(stack.ofType("aws:budgets/budget:Budget")).to.deep.equal([]);
  });
});

describe("infra stack, guardrail versions", function () {
  this.timeout(120_000);

  it("publishes a new guardrail version when the guardrail's settings change, and uses per-region model overrides", async () => {
    const base = { ...ONE_REGION, regions: ["eu-west-1", "eu-central-1"] };
    const descriptionOf = async (extra: Record<string, unknown>) => {
      const stack = new Stack((await buildStack({ ...base, ...extra }, bundleOptions())).resources);
      return { stack, description: String(stack.inRegion(TYPES.guardrailVersion, "eu-west-1")[0]!.inputs.description) };
    };
    const before = await descriptionOf({});
    const after = await descriptionOf({
      guardrailFilters: ["HATE=MEDIUM/HIGH", "PROMPT_ATTACK=HIGH/NONE"],
      modelIdOverrides: ["eu-central-1=eu.anthropic.claude-3-5-sonnet-20240620-v1:0"],
    });
    expect(after.description).to.not.equal(before.description);
    expect(await descriptionOf({}).then((again) => again.description)).to.equal(before.description);
    const env = (region: string) => after.stack.fn(region, "worker").inputs.environment.variables as Record<string, string>;
    expect(env("eu-west-1").MODEL_ID).to.equal(ONE_REGION.modelId);
    expect(env("eu-central-1").MODEL_ID).to.equal("eu.anthropic.claude-3-5-sonnet-20240620-v1:0");
    const policy = JSON.parse(String(after.stack.one(TYPES.rolePolicy, "chat-eu-central-1-worker-policy").inputs.policy)) as { Statement: Statement[] };
    expect(policy.Statement.find((st) => st.Sid === "StreamThroughProfile")!.Resource).to.deep.equal([
      `arn:aws:bedrock:eu-central-1:${MOCK_ACCOUNT}:inference-profile/eu.anthropic.claude-3-5-sonnet-20240620-v1:0`,
    ]);
  });
});
