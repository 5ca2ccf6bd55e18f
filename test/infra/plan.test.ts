/**
 * `npm run plan`: the offline plan of the dev stack (Pulumi.dev.yaml) lists every resource by region and component
 * and draws the request path from what the program wired (origins, integrations, role policies), not from names.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { expect } from "chai";
import * as fs from "node:fs";
import * as yaml from "js-yaml";
import { planStack, renderPlan } from "../../infra/offline/plan";
import type { MockedRun } from "../../infra/offline/mocked-run";

const root = path.join(__dirname, "..", "..");
const devConfig = yaml.load(fs.readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
const devRegions = devConfig.config["chat:regions"] as string[];
const devModel = devConfig.config["chat:modelId"] as string;
const id = (text: string) => text.replace(/[^A-Za-z0-9_]/g, "_");

describe("offline plan (npm run plan) of the dev stack", function () {
  this.timeout(120_000);
  let run: MockedRun;
  let plan: string;

  before(async () => {
    run = await planStack("dev");
    plan = renderPlan("dev", run);
  });

  it("lists every resource, under its region and the components it sits in, with its type and name", () => {
    const custom = run.resources.filter((r) => r.type.startsWith("aws:"));
    expect(custom.length).to.be.above(100);
    for (const resource of custom) expect(plan, resource.name).to.contain(`- \`${resource.type}\` ${resource.name}\n`);
    for (const region of devRegions) {
      expect(plan).to.match(new RegExp(`<summary><b>${region}</b>: \\d+ resources</summary>`));
      expect(plan).to.contain(`**RegionalChat chat-${region} › ChatFunction chat-${region}-worker**`);
      expect(plan).to.match(new RegExp(`\\| ${region} \\| \\d+ \\| \`${devModel.replace(/[.]/g, "[.]")}\` \\|`));
    }
    expect(plan).to.contain("**ChatTables chat-tables**").and.contain("**ChatEdge chat-edge**");
  });

  it("draws browser → CloudFront → each region's API → functions → tables, Bedrock and the guardrail", () => {
    const mermaid = `${/```mermaid\n([\s\S]*?)\n```/.exec(plan)?.[1] ?? ""}\n`;
    expect(mermaid).to.match(/^flowchart LR\n {2}browser\(\[Browser\]\)/);
    expect(mermaid).to.contain(`browser -- "https, wss" --> cdn_chat_edge_cdn["CloudFront chat-edge-cdn"]`);
    for (const region of devRegions) {
      const api = `api_${id(region)}`;
      const fn = (handler: string) => `fn_${id(`chat-${region}-${handler}-fn`)}`;
      expect(mermaid).to.contain(`cdn_chat_edge_cdn -- "/ws/${region}" --> ${api}\n`);
      expect(mermaid).to.contain(`${api} -- "$connect authorizer" --> ${fn("authorizer")}\n`);
      for (const handler of ["connect", "disconnect", "message"]) expect(mermaid).to.contain(`${api} --> ${fn(handler)}\n`);
      expect(mermaid).to.contain(`${fn("message")} -- invoke --> ${fn("worker")}\n`);
      expect(mermaid).to.contain(`${fn("worker")} -- stream --> bedrock_${id(region)}[["Bedrock ${devModel}"]]`);
      expect(mermaid).to.contain(`${fn("worker")} --> guardrail_${id(region)}{{"Guardrail chat-${region}-guardrail-policy"}}`);
      expect(mermaid).to.contain(`${fn("authorizer")} -. "verifies tokens of" .-> pool_chat_auth_users`);
      expect(mermaid).to.contain(`${fn("connect")} --> table_chat_tables_connections\n`);
      expect(mermaid).to.contain(`${fn("worker")} --> table_chat_tables_history\n`);
      // Least privilege shows: the authorizer reaches no table, connect not the history.
      expect(mermaid).to.not.contain(`${fn("authorizer")} --> table_`);
      expect(mermaid).to.not.contain(`${fn("connect")} --> table_chat_tables_history`);
    }
    expect(mermaid).to.contain(`table_chat_tables_history[("DynamoDB global table chat-tables-history: ${devRegions.join(", ")}")]`);
  });

  it("runs as `npm run plan -- --stack <name>`: the plan alone on stdout, a missing stack file named", () => {
    const cli = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", path.join(root, "infra/plan.ts"), ...args], { cwd: root, encoding: "utf8" });
    const ok = cli("--stack", "dev");
    expect(ok.status, ok.stderr).to.equal(0);
    expect(ok.stdout).to.match(/^## Offline plan: stack `dev`\n/).and.contain("```mermaid\nflowchart LR");
    expect(ok.stdout.trimEnd()).to.match(/<\/details>$/);
    const missing = cli("--stack", "nope");
    expect(missing.status).to.equal(1);
    expect(missing.stderr).to.contain("no stack file Pulumi.nope.yaml (stacks with a file: dev, dev-ecs)");
  });
});

describe("offline plan (npm run plan -- --stack dev-ecs): the ECS worker service", function () {
  this.timeout(120_000);
  let plan: string;
  let run: MockedRun;

  before(async () => {
    run = await planStack("dev-ecs");
    plan = renderPlan("dev-ecs", run);
  });

  it("draws message → job queue → (long poll) Fargate ARM64 service → Bedrock, guardrail and tables, with the dead-letter queue and no worker function", () => {
    const mermaid = `${/```mermaid\n([\s\S]*?)\n```/.exec(plan)?.[1] ?? ""}\n`;
    for (const region of devRegions) {
      const queue = `queue_${id(`chat-${region}-jobs-queue`)}`;
      const service = `svc_${id(`chat-${region}-worker-task`)}`;
      expect(mermaid).to.contain(`fn_${id(`chat-${region}-message-fn`)} -- job --> ${queue}\n`);
      expect(mermaid).to.contain(`${queue} -- "long poll" --> ${service}\n`);
      expect(mermaid).to.contain(`${queue} -. "dead letters" .-> queue_${id(`chat-${region}-jobs-dlq`)}\n`);
      expect(mermaid).to.contain(`${service}["ECS Fargate chat-${region}-worker-task (ARM64, 512 CPU units)"]`);
      expect(mermaid).to.contain(`${service} -- stream --> bedrock_${id(region)}`);
      expect(mermaid).to.contain(`${service} --> guardrail_${id(region)}`);
      expect(mermaid).to.contain(`${service} --> table_chat_tables_history\n`);
      expect(mermaid).to.not.contain(`chat-${region}-worker-fn`);
      expect(plan).to.contain(`**RegionalChat chat-${region} › WorkerService chat-${region}-worker › WorkerNetwork chat-${region}-worker-net**`);
    }
  });
});
