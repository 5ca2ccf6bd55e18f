/**
 * The CrossGuard pack end to end, the way `pulumi preview --policy-pack infra/policy` runs it: the Pulumi CLI starts
 * `@pulumi/pulumi/cmd/run-policy-pack` in the pack's folder (ts-node, type-checked with the pack's tsconfig), reads
 * the gRPC port it prints, and calls the Analyzer service. This test does the same with a gRPC client, so the
 * wiring in `infra/policy/index.ts` (policy names, enforcement levels, how props and dependencies reach the rules,
 * preview-time unknowns) is exercised by the real @pulumi/policy server.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { expect } from "chai";
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct, type JavaScriptValue } from "google-protobuf/google/protobuf/struct_pb";
import {
  AnalyzeRequest,
  AnalyzeStackRequest,
  AnalyzerPropertyDependencies,
  AnalyzerProviderResource,
  AnalyzerResource,
  AnalyzerResourceOptions,
  EnforcementLevel,
  type AnalyzeDiagnostic,
  type AnalyzeResponse,
  type AnalyzerInfo,
} from "@pulumi/pulumi/proto/analyzer_pb";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import { resourceRules, stackRules, TYPES as T } from "../../infra/policy/rules";

const PACK_DIR = path.resolve(__dirname, "../../infra/policy");
const RUN_POLICY_PACK = require.resolve("@pulumi/pulumi/cmd/run-policy-pack");
/** What the Pulumi engine sends for a value that is unknown during preview (a string output of a new resource). */
const UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

interface ResourceSpec {
  type: string;
  name: string;
  props: Record<string, JavaScriptValue>;
  dependsOn?: Record<string, string[]>;
  /** The region of the resource's (explicit) AWS provider. */
  region?: string;
}

const urnOf = (spec: ResourceSpec) => `urn:pulumi:test::chat::${spec.type}::${spec.name}`;

function analyzerResource(spec: ResourceSpec): AnalyzerResource {
  const resource = new AnalyzerResource()
    .setType(spec.type)
    .setName(spec.name)
    .setUrn(urnOf(spec))
    .setProperties(Struct.fromJavaScript(spec.props))
    .setOptions(new AnalyzerResourceOptions());
  if (spec.region) {
    resource.setProvider(
      new AnalyzerProviderResource()
        .setType("pulumi:providers:aws")
        .setName(`aws-${spec.region}`)
        .setUrn(`urn:pulumi:test::chat::pulumi:providers:aws::aws-${spec.region}`)
        .setProperties(Struct.fromJavaScript({ region: spec.region })),
    );
  }
  for (const [property, urns] of Object.entries(spec.dependsOn ?? {})) {
    resource.getPropertydependenciesMap().set(property, new AnalyzerPropertyDependencies().setUrnsList(urns));
  }
  return resource;
}

type Callback<Res> = (error: grpc.ServiceError | null, response: Res) => void;

/** Promisifies one unary call; `call` picks the overload, so the response type is inferred. */
function unary<Res>(call: (callback: Callback<Res>) => unknown): Promise<Res> {
  return new Promise((resolve, reject) => call((error, response) => (error ? reject(error) : resolve(response))));
}

/** Starts the pack as the CLI does and resolves with the port it prints. */
function startPack(): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RUN_POLICY_PACK, "127.0.0.1:0", "."], { cwd: PACK_DIR, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`policy pack did not start within 45 s\n${stderr}`));
    }, 45_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /^(\d+)\s*$/m.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve({ child, port: Number(match[1]) });
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`policy pack exited with ${code}\n${stdout}\n${stderr}`));
    });
  });
}

describe("CrossGuard policy pack served over the Analyzer gRPC API", function () {
  this.timeout(60_000);
  let pack: ChildProcess | undefined;
  let client: AnalyzerClient;

  before(async () => {
    const started = await startPack();
    pack = started.child;
    client = new AnalyzerClient(`127.0.0.1:${started.port}`, grpc.credentials.createInsecure());
  });

  after(() => {
    client?.close();
    if (pack?.pid !== undefined && pack.exitCode === null) {
      pack.removeAllListeners("exit");
      pack.kill();
    }
  });

  const analyze = async (spec: ResourceSpec): Promise<AnalyzeDiagnostic[]> => {
    const request = new AnalyzeRequest()
      .setType(spec.type)
      .setName(spec.name)
      .setUrn(urnOf(spec))
      .setProperties(Struct.fromJavaScript(spec.props))
      .setOptions(new AnalyzerResourceOptions());
    return (await unary<AnalyzeResponse>((done) => client.analyze(request, done))).getDiagnosticsList();
  };
  const analyzeStack = async (specs: ResourceSpec[]): Promise<AnalyzeDiagnostic[]> => {
    const request = new AnalyzeStackRequest().setResourcesList(specs.map(analyzerResource));
    return (await unary<AnalyzeResponse>((done) => client.analyzeStack(request, done))).getDiagnosticsList();
  };

  it("serves every rule as a mandatory policy under the pack's name and package.json version", async () => {
    const info = await unary<AnalyzerInfo>((done) => client.getAnalyzerInfo(new Empty(), done));
    expect(info.getName()).to.equal("chat-policies");
    expect(info.getVersion()).to.equal("0.1.0");
    const policies = info.getPoliciesList();
    expect(policies.map((p) => p.getName()).sort()).to.deep.equal([...resourceRules, ...stackRules].map((r) => r.name).sort());
    for (const policy of policies) expect(policy.getEnforcementlevel(), policy.getName()).to.equal(EnforcementLevel.MANDATORY);
  });

  it("reports a mandatory violation for a bad resource and none for a good one", async () => {
    const fn = (runtime: string): ResourceSpec => ({ type: T.lambdaFunction, name: "worker", props: { runtime, architectures: ["arm64"] } });
    const bad = await analyze(fn("nodejs20.x"));
    expect(bad.map((d) => [d.getPolicyname(), d.getEnforcementlevel()])).to.deep.equal([["lambda-runtime-nodejs22", EnforcementLevel.MANDATORY]]);
    // The CLI shows the policy's description, then the rule's message.
    expect(bad[0].getMessage()).to.match(/\nruntime is nodejs20\.x, expected nodejs22\.x$/);
    expect(await analyze(fn("nodejs22.x"))).to.deep.equal([]);
  });

  it("in a preview, judges a resource whose unrelated values are unknown, and defers one whose judged value is", async () => {
    const pitr = { pointInTimeRecovery: { enabled: true }, serverSideEncryption: { enabled: true } };
    expect(await analyze({ type: T.table, name: "history", props: { ...pitr, arn: UNKNOWN_STRING } })).to.deep.equal([]);
    const deferred = await analyze({ type: T.logGroup, name: "logs", props: { retentionInDays: UNKNOWN_STRING } });
    expect(deferred).to.have.length(1);
    expect(deferred[0].getMessage()).to.match(/can't run policy 'log-group-retention'.*during preview/);
    expect(deferred[0].getEnforcementlevel()).to.equal(EnforcementLevel.ADVISORY);
  });

  it("links a $connect route to its authorizer by dependency URN while their ids are unknown (preview)", async () => {
    const api: ResourceSpec = { type: T.api, name: "api", props: { protocolType: "WEBSOCKET", routeSelectionExpression: "$request.body.action" } };
    const authorizer: ResourceSpec = {
      type: T.authorizer,
      name: "authorizer",
      props: { apiId: UNKNOWN_STRING, authorizerType: "REQUEST" },
      dependsOn: { apiId: [urnOf(api)] },
    };
    const connect = (authorizationType: string): ResourceSpec => ({
      type: T.route,
      name: "connect",
      props: { apiId: UNKNOWN_STRING, routeKey: "$connect", authorizationType, authorizerId: UNKNOWN_STRING },
      dependsOn: { apiId: [urnOf(api)], authorizerId: [urnOf(authorizer)] },
    });
    expect(await analyzeStack([api, authorizer, connect("CUSTOM")])).to.deep.equal([]);
    const open = await analyzeStack([api, authorizer, connect("NONE")]);
    expect(open.map((d) => [d.getPolicyname(), d.getUrn(), d.getEnforcementlevel()])).to.deep.equal([
      ["websocket-connect-authorized", urnOf(connect("NONE")), EnforcementLevel.MANDATORY],
    ]);
  });

  it("defers model-callers-guarded to `pulumi up` for an unguarded function whose role's policy is unknown (preview)", async () => {
    const role: ResourceSpec = { type: T.role, name: "worker-role", props: { arn: UNKNOWN_STRING, name: UNKNOWN_STRING } };
    const policy: ResourceSpec = { type: T.rolePolicy, name: "worker-policy", props: { role: UNKNOWN_STRING, policy: UNKNOWN_STRING }, dependsOn: { role: [urnOf(role)] } };
    const logs: ResourceSpec = { type: T.logGroup, name: "worker-logs", props: { name: "worker-logs-5e1f0c2", retentionInDays: 30 } };
    const fn: ResourceSpec = {
      type: T.lambdaFunction,
      name: "worker",
      props: { role: UNKNOWN_STRING, environment: { variables: { MODEL_ID: "m" } }, loggingConfig: { logFormat: "JSON", logGroup: "worker-logs-5e1f0c2" } },
      dependsOn: { role: [urnOf(role)], loggingConfig: [urnOf(logs)] },
    };
    const diagnostics = await analyzeStack([role, policy, logs, fn]);
    expect(diagnostics.map((d) => [d.getPolicyname(), d.getEnforcementlevel()])).to.deep.equal([["model-callers-guarded", EnforcementLevel.ADVISORY]]);
    expect(diagnostics[0].getMessage()).to.match(/can't run policy 'model-callers-guarded'.*during preview/);
    // A function that carries the guardrail passes without its role's policy being read.
    const guardrail = { GUARDRAIL_ID: UNKNOWN_STRING, GUARDRAIL_VERSION: UNKNOWN_STRING };
    const guarded = { ...fn, props: { ...fn.props, environment: { variables: { MODEL_ID: "m", ...guardrail } } } };
    expect(await analyzeStack([role, policy, logs, guarded])).to.deep.equal([]);
  });

  it("reads each resource's region from its provider: a worker naming another region's guardrail fails (preview)", async () => {
    const guardrail = (region: string): ResourceSpec => ({ type: T.guardrail, name: `guardrail-${region}`, region, props: { guardrailId: UNKNOWN_STRING } });
    const worker = (region: string, guardrailRegion: string): ResourceSpec => ({
      type: T.lambdaFunction,
      name: `worker-${region}`,
      region,
      props: { environment: { variables: { GUARDRAIL_ID: UNKNOWN_STRING, GUARDRAIL_VERSION: UNKNOWN_STRING } } },
      dependsOn: { environment: [urnOf(guardrail(guardrailRegion))] },
    });
    const guardrails = [guardrail("us-east-1"), guardrail("eu-west-1")];
    // Only this rule's findings (the fixtures have no log groups, which lambda-logs-retained would report).
    const guardrailFindings = async (specs: ResourceSpec[]) => (await analyzeStack(specs)).filter((d) => d.getPolicyname() === "model-callers-guarded");
    expect(await guardrailFindings([...guardrails, worker("us-east-1", "us-east-1"), worker("eu-west-1", "eu-west-1")])).to.deep.equal([]);
    const crossed = await guardrailFindings([...guardrails, worker("us-east-1", "us-east-1"), worker("eu-west-1", "us-east-1")]);
    expect(crossed.map((d) => [d.getPolicyname(), d.getUrn(), d.getEnforcementlevel()])).to.deep.equal([
      ["model-callers-guarded", urnOf(worker("eu-west-1", "us-east-1")), EnforcementLevel.MANDATORY],
    ]);
    expect(crossed[0].getMessage()).to.match(/worker-eu-west-1 \(Function\) in eu-west-1 names guardrail-us-east-1 \(Guardrail\) in us-east-1/);
  });
});
