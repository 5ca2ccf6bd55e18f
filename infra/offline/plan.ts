/**
 * The offline plan (`npm run plan -- --stack <name>`): the program run under mocks with a stack file's config,
 * rendered as Markdown for a reviewer: the resources by region and component (type and name), and a Mermaid
 * diagram of the request path, browser → CloudFront → each region's API → functions → tables / Bedrock / guardrail.
 * No cloud and no credentials: ids and ARNs are the mocks' placeholders; `pulumi preview` is the authority on
 * what changes in an account.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ENV } from "../../runtime/env";
import { CONFIG_NAMESPACE, readConfig } from "../config";
import { createStack } from "../stack";
import { runMocked, type MockedRun, type RecordedResource } from "./mocked-run";
import { readStackConfig, stackFilePath } from "./stack-file";

const T = {
  provider: "pulumi:providers:aws",
  api: "aws:apigatewayv2/api:Api",
  integration: "aws:apigatewayv2/integration:Integration",
  authorizer: "aws:apigatewayv2/authorizer:Authorizer",
  function: "aws:lambda/function:Function",
  distribution: "aws:cloudfront/distribution:Distribution",
  table: "aws:dynamodb/table:Table",
  guardrail: "aws:bedrock/guardrail:Guardrail",
  userPool: "aws:cognito/userPool:UserPool",
  bucket: "aws:s3/bucket:Bucket",
  queue: "aws:sqs/queue:Queue",
  taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
} as const;

/** Runs the program for `stack` (its Pulumi.<stack>.yaml) under mocks. The functions' code is not built. */
export async function planStack(stack: string, root?: string): Promise<MockedRun> {
  const config = readStackConfig(stack, root);
  const noCode = () => new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset("exports.handler = async () => undefined;") });
  const noServiceCode = () => ({ code: "", sha256: "0".repeat(64) });
  return runMocked(() => createStack(readConfig(), { bundle: noCode, workerServiceBundle: noServiceCode }), config, { project: CONFIG_NAMESPACE, stack });
}

export function renderPlan(stack: string, run: MockedRun): string {
  const view = new PlanView(run.resources);
  const regions = view.regions();
  const custom = run.resources.filter((r) => r.type !== T.provider && !r.type.startsWith(`${CONFIG_NAMESPACE}:`));
  const models = (run.outputs.regions ?? {}) as Record<string, { modelId?: string }>;
  const lines = [
    `## Offline plan: stack \`${stack}\``,
    "",
    `\`npm run plan -- --stack ${stack}\` ran the program with ${path.basename(stackFilePath(stack))} under Pulumi mocks: no cloud, ` +
      "no credentials. Ids and ARNs are placeholders; `pulumi preview` shows what would change in the account.",
    "",
    `${custom.length} resources in ${regions.length} region(s); primary ${String(run.outputs.primaryRegion)}.`,
    "",
    "| region | resources | model |",
    "| --- | --- | --- |",
    ...regions.map((region) => `| ${region} | ${custom.filter((r) => view.regionOf(r) === region).length} | \`${models[region]?.modelId ?? "—"}\` |`),
    "",
    "```mermaid",
    ...diagram(view, regions),
    "```",
    "",
    ...regions.flatMap((region) => resourcesOf(view, region, custom)),
  ];
  return lines.join("\n");
}

function resourcesOf(view: PlanView, region: string, custom: RecordedResource[]): string[] {
  const inRegion = custom.filter((r) => view.regionOf(r) === region);
  const byComponent = new Map<string, RecordedResource[]>();
  for (const resource of inRegion) {
    const component = view.componentPath(resource);
    byComponent.set(component, [...(byComponent.get(component) ?? []), resource]);
  }
  return [
    `<details><summary><b>${region}</b>: ${inRegion.length} resources</summary>`,
    "",
    ...[...byComponent].sort(([a], [b]) => a.localeCompare(b)).flatMap(([component, resources]) => [
      `**${component}**`,
      ...resources.map((r) => `- \`${r.type}\` ${r.name}`),
      "",
    ]),
    "</details>",
    "",
  ];
}

/** Mermaid node ids: letters, digits and underscores. */
const node = (...parts: string[]) => parts.join("_").replace(/[^A-Za-z0-9_]/g, "_");
const label = (text: string) => `"${text.replace(/"/g, "'")}"`;

function diagram(view: PlanView, regions: string[]): string[] {
  const lines = ["flowchart LR", `  browser([Browser])`];
  const tables = view.ofType(T.table);
  const pool = view.ofType(T.userPool)[0];
  for (const distribution of view.ofType(T.distribution)) {
    const cdn = node("cdn", distribution.name);
    lines.push(`  browser -- "https, wss" --> ${cdn}[${label(`CloudFront ${distribution.name}`)}]`);
    const origins = (distribution.inputs.origins ?? []) as { originId: string; domainName: string }[];
    for (const bucket of view.ofType(T.bucket)) {
      if (origins.some((o) => o.domainName === bucket.state.bucketRegionalDomainName)) {
        lines.push(`  ${cdn} -- "/" --> ${node("bucket", bucket.name)}[(${label(`S3 ${bucket.name}`)})]`);
      }
    }
    for (const region of regions) {
      for (const api of view.inRegion(T.api, region)) {
        if (origins.some((o) => o.domainName === `${api.id}.execute-api.${region}.amazonaws.com`)) {
          lines.push(`  ${cdn} -- ${label(`/ws/${region}`)} --> ${node("api", region)}`);
        }
      }
    }
  }
  const outside: string[] = [];
  for (const region of regions) {
    lines.push(`  subgraph ${node("region", region)} [${label(region)}]`);
    const functions = view.inRegion(T.function, region);
    const authorizerUris = view.inRegion(T.authorizer, region).map((a) => a.inputs.authorizerUri);
    for (const api of view.inRegion(T.api, region)) {
      lines.push(`    ${node("api", region)}[${label(`API Gateway WebSocket ${api.name}`)}]`);
      const routed = view.inRegion(T.integration, region).map((i) => i.inputs.integrationUri);
      for (const fn of functions) {
        if (authorizerUris.includes(fn.state.invokeArn)) lines.push(`    ${node("api", region)} -- "$connect authorizer" --> ${node("fn", fn.name)}`);
        else if (routed.includes(fn.state.invokeArn)) lines.push(`    ${node("api", region)} --> ${node("fn", fn.name)}`);
      }
    }
    for (const fn of functions) lines.push(`    ${node("fn", fn.name)}[${label(`λ ${fn.name}`)}]`);
    // With chat:worker ecs: the job queues, and the worker service whose task role consumes them.
    const queues = view.inRegion(T.queue, region);
    for (const queue of queues) lines.push(`    ${node("queue", queue.name)}[/${label(`SQS ${queue.name}`)}/]`);
    // A task definition stands in for its task role (`role`), so the grants below read the same way as a function's.
    const services = view.inRegion(T.taskDefinition, region).map((task): RecordedResource => {
      const platform = (task.inputs.runtimePlatform ?? {}) as { cpuArchitecture?: string };
      lines.push(`    ${node("svc", task.name)}[${label(`ECS Fargate ${task.name} (${String(platform.cpuArchitecture)}, ${String(task.inputs.cpu)} CPU units)`)}]`);
      return { ...task, inputs: { ...task.inputs, role: task.inputs.taskRoleArn } };
    });
    for (const queue of queues) {
      const redrive = typeof queue.inputs.redrivePolicy === "string" ? (JSON.parse(queue.inputs.redrivePolicy) as { deadLetterTargetArn?: string }) : {};
      for (const target of queues.filter((q) => q.state.arn === redrive.deadLetterTargetArn)) {
        lines.push(`    ${node("queue", queue.name)} -. "dead letters" .-> ${node("queue", target.name)}`);
      }
    }
    // What a function or task reaches is what its role's policy grants (infra/permissions.ts), not what its environment names.
    for (const fn of [...functions, ...services]) {
      const grants = view.grantsOf(fn);
      for (const queue of queues) {
        const on = (action: string) => grants.some((g) => g.actions.includes(action) && g.resources.includes(String(queue.state.arn)));
        if (on("sqs:SendMessage")) lines.push(`    ${node("fn", fn.name)} -- job --> ${node("queue", queue.name)}`);
        if (on("sqs:ReceiveMessage")) lines.push(`    ${node("queue", queue.name)} -- "long poll" --> ${node("svc", fn.name)}`);
      }
      const self = services.includes(fn) ? node("svc", fn.name) : node("fn", fn.name);
      const reaches = (action: string, arn: string) => grants.some((g) => g.actions.includes(action) && g.resources.some((r) => r === arn || r.startsWith(`${arn}/`)));
      for (const worker of functions.filter((f) => f !== fn && reaches("lambda:InvokeFunction", String(f.state.arn)))) {
        lines.push(`    ${self} -- invoke --> ${node("fn", worker.name)}`);
      }
      if (grants.some((g) => g.actions.includes("bedrock:InvokeModelWithResponseStream"))) {
        const model = String(fn.inputs.environment?.variables?.[ENV.modelId] ?? view.containerVariable(fn, ENV.modelId) ?? "model");
        lines.push(`    ${self} -- stream --> ${node("bedrock", region)}[[${label(`Bedrock ${model}`)}]]`);
      }
      for (const guardrail of view.inRegion(T.guardrail, region).filter((g) => reaches("bedrock:ApplyGuardrail", String(g.state.guardrailArn)))) {
        lines.push(`    ${self} --> ${node("guardrail", region)}{{${label(`Guardrail ${guardrail.name}`)}}}`);
      }
      const tableArn = (table: RecordedResource) => `arn:aws:dynamodb:${region}:${String(table.state.arn).split(":")[4]}:table/${String(table.state.name)}`;
      for (const table of tables.filter((t) => grants.some((g) => g.actions.some((a) => a.startsWith("dynamodb:")) && g.resources.some((r) => r.startsWith(tableArn(t)))))) {
        outside.push(`  ${self} --> ${node("table", table.name)}`);
      }
      if (pool && authorizerUris.includes(fn.state.invokeArn)) outside.push(`  ${node("fn", fn.name)} -. "verifies tokens of" .-> ${node("pool", pool.name)}`);
    }
    lines.push("  end");
  }
  for (const table of tables) {
    const replicas = ((table.inputs.replicas ?? []) as { regionName: string }[]).map((r) => r.regionName);
    lines.push(`  ${node("table", table.name)}[(${label(`DynamoDB global table ${table.name}: ${[view.regionOf(table), ...replicas].join(", ")}`)})]`);
  }
  if (pool) lines.push(`  ${node("pool", pool.name)}[${label(`Cognito ${pool.name}`)}]`);
  return [...lines, ...outside];
}

interface Grant {
  actions: string[];
  resources: string[];
}

/** Region and component lookups over one run's record. */
class PlanView {
  private readonly byUrn: Map<string, RecordedResource>;
  private readonly providerRegion: Map<string, string>;

  constructor(readonly resources: RecordedResource[]) {
    this.byUrn = new Map(resources.filter((r) => r.urn !== undefined).map((r) => [r.urn!, r]));
    this.providerRegion = new Map(resources.filter((r) => r.type === T.provider).map((p) => [p.id, String(p.inputs.region)]));
  }

  ofType(type: string): RecordedResource[] {
    return this.resources.filter((r) => r.type === type);
  }

  regionOf(resource: RecordedResource): string | undefined {
    return resource.provider === undefined ? undefined : this.providerRegion.get(resource.provider.split("::").pop() ?? "");
  }

  /** The Allow statements of a function's role policies. */
  grantsOf(fn: RecordedResource): Grant[] {
    const role = this.ofType("aws:iam/role:Role").find((r) => r.state.arn === fn.inputs.role);
    if (!role) return [];
    return this.ofType("aws:iam/rolePolicy:RolePolicy")
      .filter((p) => p.inputs.role === role.id || p.inputs.role === role.state.name)
      .flatMap((p) => [(JSON.parse(String(p.inputs.policy)) as { Statement: unknown }).Statement].flat())
      .map((statement) => statement as { Effect?: string; Action?: string | string[]; Resource?: string | string[] })
      .filter((statement) => statement.Effect === "Allow")
      .map((statement) => ({ actions: [statement.Action ?? []].flat(), resources: [statement.Resource ?? []].flat() }));
  }

  /** An environment variable of a task definition's first container. */
  containerVariable(task: RecordedResource, name: string): string | undefined {
    if (typeof task.inputs.containerDefinitions !== "string") return undefined;
    const [container] = JSON.parse(task.inputs.containerDefinitions) as { environment?: { name: string; value: string }[] }[];
    return container?.environment?.find((v) => v.name === name)?.value;
  }

  inRegion(type: string, region: string): RecordedResource[] {
    return this.ofType(type).filter((r) => this.regionOf(r) === region);
  }

  /** Configured regions in provider order (the primary first). */
  regions(): string[] {
    return [...new Set(this.ofType(T.provider).map((p) => String(p.inputs.region)))];
  }

  /** `RegionalChat chat-us-east-1 › ChatFunction chat-us-east-1-worker`: the components a resource sits in. */
  componentPath(resource: RecordedResource): string {
    const chain: string[] = [];
    for (let parent = this.parentOf(resource); parent !== undefined; parent = this.parentOf(parent)) {
      chain.unshift(`${parent.type.split(":").pop() ?? parent.type} ${parent.name}`);
    }
    return chain.join(" › ") || "(stack)";
  }

  private parentOf(resource: RecordedResource): RecordedResource | undefined {
    return resource.parent === undefined ? undefined : this.byUrn.get(resource.parent);
  }
}
