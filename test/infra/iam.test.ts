/**
 * The IAM policies the program renders, evaluated with an IAM policy simulator (@cloud-copilot/iam-simulate):
 * for every function in every region, its role can do exactly what its handler needs on the named resources, and
 * is denied the near misses (another table, another region's replica, another API or stage, another model, the
 * non-streaming model call, another region's guardrail, another function, table administration, Scan).
 *
 * The expected access below is written from the design (what each handler in runtime/env.ts HANDLERS does: connect
 * stores the connection, message validates and hands off to the worker, the worker streams the model's answer), not
 * read from infra/permissions.ts, so the two are checked against each other. Request ARNs are built from what the
 * mocks harness recorded (tables, API ids, stages, function and guardrail ARNs).
 *
 * The resource side too: each role's trust policy, each function's invoke permissions (by source ARN) and the web
 * bucket's policy are evaluated as resource policies.
 */
import { expect } from "chai";
import { anonymousPrincipal, runSimulation } from "@cloud-copilot/iam-simulate";
import { HANDLERS, type HandlerName } from "../../runtime/env";
import { buildStack, regionOfProvider, type RecordedResource } from "./harness";
import { MOCK_ACCOUNT } from "../../infra/offline/mock-state";

const A = MOCK_ACCOUNT;

type Decision = "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied";

interface PolicyDocument {
  Version?: string;
  Statement: unknown[];
}

/** One function of the rendered stack with everything its requests name. */
interface RenderedFunction {
  handler: HandlerName;
  region: string;
  roleArn: string;
  policy: PolicyDocument;
  functionArn: string;
  logGroupName: string;
}

/** The stack's named resources per region, as recorded under mocks. */
interface Topology {
  regions: string[];
  connectionsTable: string;
  historyTable: string;
  historyIndexes: string[];
  api: Map<string, { apiId: string; stage: string }>;
  guardrailArn: Map<string, string>;
  functions: RenderedFunction[];
}

const byRegion = (resources: RecordedResource[], type: string) =>
  resources.filter((r) => r.type === type).map((r) => ({ resource: r, region: regionOfProvider(r.provider) ?? "?" }));

function handlerOf(fn: RecordedResource): HandlerName {
  const words = `${fn.name} ${String(fn.inputs.description ?? "")}`;
  const found = HANDLERS.filter((h) => new RegExp(`\\b${h}\\b`).test(words));
  if (found.length !== 1) throw new Error(`cannot tell the handler of function ${fn.name} (matches: ${found.join(", ") || "none"})`);
  return found[0];
}

function parse(policy: unknown): PolicyDocument {
  const document = (typeof policy === "string" ? JSON.parse(policy) : policy) as PolicyDocument;
  if (!document || !Array.isArray(document.Statement)) throw new Error(`not a policy document: ${JSON.stringify(policy)}`);
  return document;
}

/** Reads the topology the program rendered; fails loudly when a piece the expectations need is missing. */
function topologyOf(resources: RecordedResource[], regions: string[]): Topology {
  const tables = resources.filter((r) => r.type === "aws:dynamodb/table:Table");
  const tableNamed = (hashKey: string) => {
    const table = tables.find((t) => t.inputs.hashKey === hashKey);
    if (!table) throw new Error(`no table with hash key ${hashKey}`);
    return table;
  };
  const history = tableNamed("pk");
  const api = new Map<string, { apiId: string; stage: string }>();
  for (const { resource, region } of byRegion(resources, "aws:apigatewayv2/api:Api")) {
    const stage = byRegion(resources, "aws:apigatewayv2/stage:Stage").find((s) => s.region === region && s.resource.inputs.apiId === resource.id);
    if (!stage) throw new Error(`no stage for the API in ${region}`);
    api.set(region, { apiId: resource.id, stage: String(stage.resource.inputs.name) });
  }
  const guardrailArn = new Map(
    byRegion(resources, "aws:bedrock/guardrail:Guardrail").map(({ resource, region }) => [region, String(resource.state.guardrailArn)]),
  );
  const roles = resources.filter((r) => r.type === "aws:iam/role:Role");
  const rolePolicies = resources.filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy");
  const functions = byRegion(resources, "aws:lambda/function:Function").map(({ resource: fn, region }): RenderedFunction => {
    const role = roles.find((r) => r.state.arn === fn.inputs.role);
    if (!role) throw new Error(`no role for function ${fn.name}`);
    const attached = rolePolicies.filter((p) => p.inputs.role === role.id || p.inputs.role === role.state.name);
    expect(attached, `inline policies of ${role.name}`).to.have.length(1);
    expect(role.inputs.managedPolicyArns ?? [], `managed policies of ${role.name}`).to.deep.equal([]);
    return {
      handler: handlerOf(fn),
      region,
      roleArn: String(role.state.arn),
      policy: parse(attached[0].inputs.policy),
      functionArn: String(fn.state.arn),
      logGroupName: String(fn.inputs.loggingConfig?.logGroup),
    };
  });
  return {
    regions,
    connectionsTable: String(tableNamed("connectionId").state.name),
    historyTable: String(history.state.name),
    historyIndexes: (history.inputs.globalSecondaryIndexes ?? []).map((i: { name: string }) => i.name),
    api,
    guardrailArn,
    functions,
  };
}

async function decide(fn: RenderedFunction, action: string, resource: string, context: Record<string, string | string[]> = {}): Promise<Decision> {
  const response = await runSimulation(
    {
      identityPolicies: [{ name: "inline", policy: fn.policy }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: { action, principal: fn.roleArn, resource: { accountId: A, resource }, contextVariables: context },
    },
    {},
  );
  // A malformed request is a test bug, never a "deny".
  if (response.resultType === "error") throw new Error(`simulation error for ${action} on ${resource}: ${JSON.stringify(response.errors)}`);
  return response.overallResult as Decision;
}

/** A request and why it matters. */
interface Probe {
  action: string;
  resource: string;
  context?: Record<string, string | string[]>;
  why: string;
}

const table = (region: string, name: string) => `arn:aws:dynamodb:${region}:${A}:table/${name}`;
const otherRegion = (t: Topology, region: string) => t.regions.find((r) => r !== region) ?? (region === "us-west-2" ? "us-east-2" : "us-west-2");

/** Bedrock model/profile ARNs a worker in `region` must be able to stream from, for the configured model id. */
function modelTargets(modelId: string, region: string): { allowed: Probe[]; denied: Probe[] } {
  const action = "bedrock:InvokeModelWithResponseStream";
  const profile = /^(us|eu|apac|global)\.(.+)$/.exec(modelId);
  if (!profile) {
    const model = `arn:aws:bedrock:${region}::foundation-model/${modelId}`;
    return {
      allowed: [{ action, resource: model, why: "streams from the configured model" }],
      denied: [
        { action: "bedrock:InvokeModel", resource: model, why: "non-streaming invoke is not needed" },
        { action, resource: `arn:aws:bedrock:${region}::foundation-model/amazon.titan-text-express-v1`, why: "another model" },
        { action: "bedrock:InvokeModel", resource: `arn:aws:bedrock:${region}::foundation-model/amazon.titan-text-express-v1`, why: "another model, non-streaming" },
      ],
    };
  }
  const profileArn = `arn:aws:bedrock:${region}:${A}:inference-profile/${modelId}`;
  // One of the regions the profile routes to (the policy cannot know which; the condition pins the profile).
  // A global profile routes to any commercial Region (the simulator knows no Region-less foundation-model ARN).
  const destinationRegion = profile[1] === "eu" ? "eu-central-1" : profile[1] === "global" ? "sa-east-1" : "us-west-2";
  const destination = `arn:aws:bedrock:${destinationRegion}::foundation-model/${profile[2]}`;
  return {
    allowed: [
      { action, resource: profileArn, why: "streams through the configured inference profile" },
      { action, resource: destination, context: { "bedrock:InferenceProfileArn": profileArn }, why: "the profile's destination model" },
    ],
    denied: [
      { action, resource: destination, why: "the destination model directly, bypassing the profile" },
      { action: "bedrock:InvokeModel", resource: profileArn, why: "non-streaming invoke is not needed" },
      { action, resource: `arn:aws:bedrock:${region}:${A}:inference-profile/${profile[1]}.amazon.nova-pro-v1:0`, why: "another profile" },
      {
        action,
        resource: `arn:aws:bedrock:${destinationRegion}::foundation-model/amazon.nova-pro-v1:0`,
        context: { "bedrock:InferenceProfileArn": profileArn },
        why: "another model, even through the profile",
      },
    ],
  };
}

/** What each handler must be able to do, and the near misses it must be denied. */
function probesFor(fn: RenderedFunction, t: Topology, modelIdOf: (region: string) => string): { allowed: Probe[]; denied: Probe[] } {
  const { region } = fn;
  const elsewhere = otherRegion(t, region);
  const { apiId, stage } = t.api.get(region) ?? { apiId: "missing", stage: "missing" };
  const connections = table(region, t.connectionsTable);
  const history = table(region, t.historyTable);
  const post = (api: string, onStage: string, method = "POST") =>
    `arn:aws:execute-api:${region}:${A}:${api}/${onStage}/${method}/@connections/L0SM9cOFvHcCIhw=`;
  const worker = t.functions.find((f) => f.region === region && f.handler === "worker");
  const ownStream = `arn:aws:logs:${region}:${A}:log-group:${fn.logGroupName}:log-stream:2026/01/01/x`;
  const allowed: Probe[] = [
    { action: "logs:CreateLogStream", resource: ownStream, why: "its own log group" },
    { action: "logs:PutLogEvents", resource: ownStream, why: "its own log group" },
  ];
  const denied: Probe[] = [
    { action: "logs:PutLogEvents", resource: `arn:aws:logs:${region}:${A}:log-group:/aws/lambda/another:log-stream:x`, why: "another log group" },
    { action: "dynamodb:DeleteTable", resource: connections, why: "table administration" },
    { action: "dynamodb:DeleteTable", resource: history, why: "table administration" },
    { action: "dynamodb:Scan", resource: history, why: "history is read by Query only" },
    { action: "dynamodb:Scan", resource: connections, why: "connections are read by key" },
    { action: "dynamodb:PutItem", resource: table(region, "another-table"), why: "another table" },
    { action: "dynamodb:UpdateItem", resource: table(region, "another-table"), why: "another table" },
    { action: "dynamodb:PutItem", resource: table(elsewhere, t.connectionsTable), why: "another region's replica" },
    { action: "dynamodb:Query", resource: table(elsewhere, t.historyTable), why: "another region's replica" },
    { action: "iam:PassRole", resource: `arn:aws:iam::${A}:role/admin`, why: "no IAM" },
  ];
  const allowIf = (condition: boolean, probes: Probe[]) => (condition ? allowed : denied).push(...probes);

  allowIf(fn.handler === "connect", [{ action: "dynamodb:PutItem", resource: connections, why: "connect stores the connection" }]);
  // The calls each handler makes are listed in runtime/README.md ("What each handler calls"), from runtime/store/dynamo-*.ts.
  allowIf(fn.handler === "disconnect" || fn.handler === "worker", [
    { action: "dynamodb:DeleteItem", resource: connections, why: "removes a closed connection" },
  ]);
  allowIf(fn.handler === "message", [
    { action: "dynamodb:GetItem", resource: connections, why: "looks up the connection" },
    { action: "execute-api:ManageConnections", resource: post(apiId, stage, "DELETE"), why: "closes a connection whose token expired" },
  ]);
  allowIf(fn.handler === "message" || fn.handler === "worker", [
    { action: "dynamodb:UpdateItem", resource: connections, why: "takes or releases a generation slot" },
    { action: "dynamodb:Query", resource: history, why: "reads a session's turns" },
    { action: "dynamodb:GetItem", resource: history, why: "reads a turn" },
    { action: "dynamodb:UpdateItem", resource: history, why: "updates a turn" },
    { action: "execute-api:ManageConnections", resource: post(apiId, stage), why: "posts frames to its own API stage" },
  ]);
  allowIf(fn.handler === "message" || fn.handler === "worker", [
    { action: "dynamodb:PutItem", resource: history, why: "writes turns and sessions, resume watchers and the worker's acknowledgements" },
    { action: "dynamodb:BatchWriteItem", resource: history, why: "erases a deleted session's items (message) or its generating turn's (worker)" },
  ]);
  allowIf(fn.handler === "message", [
    ...t.historyIndexes.map((index) => ({ action: "dynamodb:Query", resource: `${history}/index/${index}`, why: "lists a user's sessions" })),
    { action: "dynamodb:DeleteItem", resource: history, why: "releases an idempotency claim" },
    { action: "lambda:InvokeFunction", resource: worker?.functionArn ?? "missing-worker", why: "hands generation to the worker" },
  ]);
  allowIf(fn.handler === "worker", [
    ...modelTargets(modelIdOf(region), region).allowed,
    { action: "bedrock:ApplyGuardrail", resource: t.guardrailArn.get(region) ?? "missing-guardrail", why: "its region's guardrail" },
  ]);
  if (fn.handler !== "worker") denied.push(...modelTargets(modelIdOf(region), region).allowed.map((p) => ({ ...p, why: `only the worker calls the model (${p.why})` })));
  else denied.push(...modelTargets(modelIdOf(region), region).denied);

  denied.push(
    { action: "execute-api:ManageConnections", resource: post("zzzzzzzzzz", stage), why: "another API" },
    { action: "execute-api:ManageConnections", resource: post(apiId, "another-stage"), why: "another stage" },
    { action: "lambda:InvokeFunction", resource: `arn:aws:lambda:${region}:${A}:function:another-function`, why: "another function" },
    { action: "bedrock:ApplyGuardrail", resource: `arn:aws:bedrock:${elsewhere}:${A}:guardrail/zzzzzzzzzzzz`, why: "another region's guardrail" },
  );
  if (fn.handler !== "message") {
    denied.push({ action: "execute-api:ManageConnections", resource: post(apiId, stage, "DELETE"), why: "only the message handler closes connections" });
  }
  // The per-user budget counters live in the primary region's replica (HOME_REGION), read and written from every
  // region, and only the `USER#<id>` items there (dynamodb:LeadingKeys).
  const home = t.regions[0]!;
  if (region !== home) {
    const homeHistory = table(home, t.historyTable);
    const user = { "dynamodb:LeadingKeys": ["USER#3f1c"] };
    allowIf(fn.handler === "message", [
      { action: "dynamodb:GetItem", resource: homeHistory, context: user, why: "reads a user's slots and tokens in the home region" },
    ]);
    allowIf(fn.handler === "message" || fn.handler === "worker", [
      { action: "dynamodb:UpdateItem", resource: homeHistory, context: user, why: "counts a user's budget in the home region" },
    ]);
    denied.push(
      { action: "dynamodb:UpdateItem", resource: homeHistory, context: { "dynamodb:LeadingKeys": ["OPERATOR"] }, why: "the home region's kill switch" },
      { action: "dynamodb:UpdateItem", resource: homeHistory, context: { "dynamodb:LeadingKeys": ["SESSION#1"] }, why: "the home region's turns and sessions" },
      { action: "dynamodb:UpdateItem", resource: homeHistory, why: "a request that names no partition key" },
      { action: "dynamodb:PutItem", resource: homeHistory, context: user, why: "counters are updated, never replaced" },
      { action: "dynamodb:DeleteItem", resource: homeHistory, context: user, why: "counters expire by TTL" },
      { action: "dynamodb:Query", resource: homeHistory, context: user, why: "counters are read by key" },
      { action: "dynamodb:UpdateItem", resource: table(home, "another-table"), context: user, why: "another table in the home region" },
      { action: "dynamodb:UpdateItem", resource: table(home, t.connectionsTable), context: user, why: "the home region's connections" },
    );
    if (fn.handler === "worker") denied.push({ action: "dynamodb:GetItem", resource: homeHistory, context: user, why: "the worker only adds to the counters" });
    if (fn.handler !== "message" && fn.handler !== "worker") {
      denied.push({ action: "dynamodb:GetItem", resource: homeHistory, context: user, why: "only message and worker touch the budget" });
    }
  }
  const otherWorker = t.functions.find((f) => f.region !== region && f.handler === "worker");
  if (otherWorker) denied.push({ action: "lambda:InvokeFunction", resource: otherWorker.functionArn, why: "another region's worker" });
  const otherGuardrail = [...t.guardrailArn].find(([r]) => r !== region)?.[1];
  if (otherGuardrail) denied.push({ action: "bedrock:ApplyGuardrail", resource: otherGuardrail, why: "another region's guardrail" });
  // The worker posts to a client that resumed its turn in another region of the stack (through that region's API).
  for (const [otherRegion, otherApi] of [...t.api].filter(([r]) => r !== region)) {
    const otherArn = (method: string) => `arn:aws:execute-api:${otherRegion}:${A}:${otherApi.apiId}/${otherApi.stage}/${method}/@connections/x`;
    allowIf(fn.handler === "worker", [{ action: "execute-api:ManageConnections", resource: otherArn("POST"), why: "posts to a client that resumed the turn in another region" }]);
    denied.push({ action: "execute-api:ManageConnections", resource: otherArn("DELETE"), why: "another region's API, closing" });
    denied.push({ action: "execute-api:ManageConnections", resource: `arn:aws:execute-api:${otherRegion}:${A}:${otherApi.apiId}/another-stage/POST/@connections/x`, why: "another region's API, another stage" });
  }
  return { allowed, denied };
}

/** The probes the simulator decides differently from the expectation, as readable lines (empty = as expected). */
async function misjudged(fn: RenderedFunction, t: Topology, modelIdOf: (region: string) => string): Promise<string[]> {
  const { allowed, denied } = probesFor(fn, t, modelIdOf);
  const wrong: string[] = [];
  for (const probe of allowed) {
    const decision = await decide(fn, probe.action, probe.resource, probe.context);
    if (decision !== "Allowed") wrong.push(`should allow ${probe.action} on ${probe.resource} (${probe.why}): ${decision}`);
  }
  for (const probe of denied) {
    const decision = await decide(fn, probe.action, probe.resource, probe.context);
    if (decision === "Allowed") wrong.push(`should deny ${probe.action} on ${probe.resource} (${probe.why})`);
  }
  return wrong;
}

/** Every action a document allows, sorted (the "exactly" half: nothing beyond what the probes name). */
function allowedActions(document: PolicyDocument): string[] {
  const actions = document.Statement.flatMap((s) => {
    const statement = s as { Effect: string; Action: string | string[] };
    return statement.Effect === "Allow" ? [statement.Action].flat() : [];
  });
  return [...new Set(actions)].sort();
}

const CONFIGS: { title: string; config: Record<string, unknown>; modelIdOf: (region: string) => string }[] = [
  {
    title: "one region, a foundation model id",
    config: { regions: ["us-east-1"], modelId: "anthropic.claude-3-5-haiku-20241022-v1:0" },
    modelIdOf: () => "anthropic.claude-3-5-haiku-20241022-v1:0",
  },
  {
    title: "three regions, inference profiles with a per-region override",
    config: {
      regions: ["us-east-1", "eu-west-1", "us-west-2"],
      modelId: "us.anthropic.claude-3-5-haiku-20241022-v1:0",
      modelIdOverrides: ["eu-west-1=eu.anthropic.claude-3-5-haiku-20241022-v1:0"],
    },
    modelIdOf: (region) => (region === "eu-west-1" ? "eu.anthropic.claude-3-5-haiku-20241022-v1:0" : "us.anthropic.claude-3-5-haiku-20241022-v1:0"),
  },
  {
    title: "two regions, the default global inference profile",
    config: { regions: ["us-east-1", "ap-southeast-2"] },
    modelIdOf: () => "global.anthropic.claude-haiku-4-5-20251001-v1:0",
  },
];

for (const { title, config, modelIdOf } of CONFIGS) {
  describe(`IAM of the rendered stack (${title})`, function () {
    this.timeout(120_000);
    let topology: Topology;

    before(async () => {
      const { resources } = await buildStack(config);
      topology = topologyOf(resources, config.regions as string[]);
    });

    it("has one function per handler in every region, each with its own role", () => {
      for (const region of topology.regions) {
        const handlers = topology.functions.filter((f) => f.region === region).map((f) => f.handler).sort();
        expect(handlers, region).to.deep.equal([...HANDLERS].sort());
      }
      expect(new Set(topology.functions.map((f) => f.roleArn)).size).to.equal(topology.functions.length);
    });

    it("names a literal API id in every execute-api resource (the simulator mis-evaluates a wildcard API id)", () => {
      // @cloud-copilot/iam-simulate 0.1.173 denies `arn:…:execute-api:r:a:*/live/POST/@connections/*` for a request
      // that real IAM would allow; with literal API ids that mis-evaluation cannot hide a grant.
      for (const fn of topology.functions) {
        for (const statement of fn.policy.Statement as { Resource?: string | string[] }[]) {
          for (const resource of [statement.Resource ?? []].flat().filter((r) => r.includes(":execute-api:"))) {
            expect(resource.split(":")[5], resource).to.match(/^[a-z0-9]{10}\//);
          }
        }
      }
    });

    it("the probes bite: a widened worker policy is caught on the near misses", async () => {
      const worker = topology.functions.find((f) => f.handler === "worker")!;
      const widen = (edit: (statement: { Sid?: string; Action: string[]; Resource: string[] }) => void): RenderedFunction => {
        const policy = structuredClone(worker.policy) as { Statement: { Sid?: string; Action: string[]; Resource: string[] }[] };
        policy.Statement.forEach(edit);
        return { ...worker, policy };
      };
      const anyTable = widen((s) => (s.Resource = s.Resource.map((r) => r.replace(/:table\/[^/]+/, ":table/*"))));
      expect((await misjudged(anyTable, topology, modelIdOf)).join("\n")).to.match(/should deny dynamodb:UpdateItem on .*another-table/);
      const anyModel = widen((s) => (s.Resource = s.Resource.map((r) => r.replace(/(foundation-model|inference-profile)\/.*/, "$1/*"))));
      expect((await misjudged(anyModel, topology, modelIdOf)).join("\n")).to.match(/should deny bedrock:InvokeModelWithResponseStream .*another (model|profile)/);
      const anyStage = widen((s) => (s.Resource = s.Resource.map((r) => r.replace(/(execute-api:.*?\/)[^/]+\/POST/, "$1*/POST"))));
      expect((await misjudged(anyStage, topology, modelIdOf)).join("\n")).to.match(/should deny execute-api:ManageConnections .*another stage/);
      const anyApi = widen((s) => (s.Resource = s.Resource.map((r) => r.replace(/(execute-api:[^:]+:\d+:).*/, "$1*"))));
      expect((await misjudged(anyApi, topology, modelIdOf)).join("\n")).to.match(/should deny execute-api:ManageConnections .*another API/);
      const invokeToo = widen((s) => (s.Action = s.Action.map((a) => (a === "bedrock:InvokeModelWithResponseStream" ? "bedrock:InvokeModel*" : a))));
      expect((await misjudged(invokeToo, topology, modelIdOf)).join("\n")).to.match(/should deny bedrock:InvokeModel on/);
    });

    for (const handler of HANDLERS) {
      it(`${handler}: allowed exactly what it needs, denied the near misses`, async () => {
        for (const fn of topology.functions.filter((f) => f.handler === handler)) {
          expect(await misjudged(fn, topology, modelIdOf), `${handler} in ${fn.region}`).to.deep.equal([]);
          const expectedActions = [...new Set(probesFor(fn, topology, modelIdOf).allowed.map((p) => p.action))].sort();
          expect(allowedActions(fn.policy), `actions granted to ${handler} in ${fn.region}`).to.deep.equal(expectedActions);
        }
      });
    }
  });
}

/** Lambda's resource policy as it renders `aws.lambda.Permission`s: one statement per permission. */
function lambdaResourcePolicy(permissions: RecordedResource[]): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: permissions.map((p) => ({
      Effect: "Allow",
      Principal: { Service: p.inputs.principal },
      Action: p.inputs.action,
      Resource: p.inputs.function,
      ...(p.inputs.sourceArn ? { Condition: { ArnLike: { "AWS:SourceArn": p.inputs.sourceArn } } } : {}),
    })),
  };
}

async function decideAsService(resourcePolicy: PolicyDocument, service: string, action: string, resource: string, sourceArn?: string): Promise<Decision> {
  const response = await runSimulation(
    {
      identityPolicies: [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy,
      request: { action, principal: service, resource: { accountId: A, resource }, contextVariables: sourceArn ? { "aws:SourceArn": sourceArn } : {} },
    },
    {},
  );
  if (response.resultType === "error") throw new Error(`simulation error for ${action} on ${resource}: ${JSON.stringify(response.errors)}`);
  return response.overallResult as Decision;
}

describe("resource and trust policies of the rendered stack (two regions)", function () {
  this.timeout(120_000);
  let resources: RecordedResource[];
  const regions = ["us-east-1", "eu-west-1"];

  before(async () => {
    ({ resources } = await buildStack({ regions }));
  });

  it("only Lambda may assume a function's role", async () => {
    const functionRoles = resources
      .filter((r) => r.type === "aws:lambda/function:Function")
      .map((fn) => resources.find((r) => r.type === "aws:iam/role:Role" && r.state.arn === fn.inputs.role)!);
    expect(functionRoles).to.have.length(regions.length * HANDLERS.length);
    for (const role of functionRoles) {
      const trust = parse(role.inputs.assumeRolePolicy);
      const arn = String(role.state.arn);
      expect(await decideAsService(trust, "lambda.amazonaws.com", "sts:AssumeRole", arn), role.name).to.equal("Allowed");
      for (const other of ["apigateway.amazonaws.com", "edgelambda.amazonaws.com", `arn:aws:iam::${A}:root`]) {
        expect(await decideAsService(trust, other, "sts:AssumeRole", arn), `${role.name} by ${other}`).to.not.equal("Allowed");
      }
    }
  });

  it("API Gateway may invoke each function only from its own API's routes or authorizer", async () => {
    for (const region of regions) {
      const api = byRegion(resources, "aws:apigatewayv2/api:Api").find((a) => a.region === region)!.resource;
      const authorizer = byRegion(resources, "aws:apigatewayv2/authorizer:Authorizer").find((a) => a.region === region)!.resource;
      const stage = String(byRegion(resources, "aws:apigatewayv2/stage:Stage").find((s) => s.region === region)!.resource.inputs.name);
      const execution = String(api.state.executionArn);
      const otherApi = execution.replace(api.id, "zzzzzzzzzz");
      const functions = byRegion(resources, "aws:lambda/function:Function").filter((f) => f.region === region).map((f) => f.resource);
      const invoke = async (handler: HandlerName, sourceArn: string) => {
        const fn = functions.find((f) => handlerOf(f) === handler)!;
        const permissions = resources.filter((r) => r.type === "aws:lambda/permission:Permission" && r.inputs.function === fn.state.arn);
        return decideAsService(lambdaResourcePolicy(permissions), "apigateway.amazonaws.com", "lambda:InvokeFunction", String(fn.state.arn), sourceArn);
      };
      const expectations: [HandlerName, string, Decision | "denied"][] = [
        ["authorizer", `${execution}/authorizers/${authorizer.id}`, "Allowed"],
        ["authorizer", `${execution}/authorizers/another`, "denied"],
        ["authorizer", `${otherApi}/authorizers/${authorizer.id}`, "denied"],
        ["connect", `${execution}/${stage}/$connect`, "Allowed"],
        ["connect", `${execution}/${stage}/$default`, "denied"],
        ["connect", `${otherApi}/${stage}/$connect`, "denied"],
        ["disconnect", `${execution}/${stage}/$disconnect`, "Allowed"],
        ["message", `${execution}/${stage}/$default`, "Allowed"],
        ["message", `${execution}/${stage}/send`, "Allowed"],
        ["message", `${execution}/another-stage/send`, "denied"],
        ["message", `${execution}/${stage}/$connect`, "denied"],
        ["worker", `${execution}/${stage}/$default`, "denied"],
      ];
      for (const [handler, sourceArn, expected] of expectations) {
        const decision = await invoke(handler, sourceArn);
        if (expected === "Allowed") expect(decision, `${handler} from ${sourceArn}`).to.equal("Allowed");
        else expect(decision, `${handler} from ${sourceArn}`).to.not.equal("Allowed");
      }
    }
  });

  it("the web bucket serves objects to this distribution only, and to no one else", async () => {
    const bucketPolicy = resources.find((r) => r.type === "aws:s3/bucketPolicy:BucketPolicy")!;
    const bucket = resources.find((r) => r.type === "aws:s3/bucket:Bucket" && r.id === bucketPolicy.inputs.bucket)!;
    const distribution = resources.find((r) => r.type === "aws:cloudfront/distribution:Distribution")!;
    const policy = parse(bucketPolicy.inputs.policy);
    const object = `arn:aws:s3:::${bucket.id}/index.html`;
    const cloudfront = (action: string, resource: string, sourceArn: string) => decideAsService(policy, "cloudfront.amazonaws.com", action, resource, sourceArn);
    expect(await cloudfront("s3:GetObject", object, String(distribution.state.arn))).to.equal("Allowed");
    expect(await cloudfront("s3:GetObject", object, `arn:aws:cloudfront::${A}:distribution/EANOTHER000000`)).to.not.equal("Allowed");
    expect(await cloudfront("s3:GetObject", object, "arn:aws:cloudfront::999999999999:distribution/EANOTHER000000")).to.not.equal("Allowed");
    expect(await cloudfront("s3:PutObject", object, String(distribution.state.arn))).to.not.equal("Allowed");
    expect(await cloudfront("s3:ListBucket", `arn:aws:s3:::${bucket.id}`, String(distribution.state.arn))).to.not.equal("Allowed");
    const anonymous = await runSimulation(
      {
        identityPolicies: [],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: policy,
        request: { action: "s3:GetObject", principal: anonymousPrincipal, resource: { accountId: A, resource: object }, contextVariables: {} },
      },
      {},
    );
    // A simulation error is a test bug, not a refusal: the request must have been evaluated.
    if (anonymous.resultType === "error") expect.fail(`simulation error: ${JSON.stringify(anonymous.errors)}`);
    expect(anonymous.overallResult).to.not.equal("Allowed");
  });
});
