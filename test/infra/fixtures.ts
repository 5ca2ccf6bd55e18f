/**
 * Shared inputs for the program's tests: configs, and a stand-in bundler used only while runtime/handlers is
 * incomplete (the real esbuild bundle is exercised by bundle.test.ts whenever the handlers exist).
 */
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { allHandlersPresent, workerServicePresent } from "../../infra/bundle";
import type { StackOptions } from "../../infra/stack";

export const ONE_REGION = { regions: ["eu-west-1"], modelId: "anthropic.claude-3-haiku-20240307-v1:0", environment: "dev" };
export const THREE_REGIONS = {
  regions: ["us-east-1", "us-west-2", "us-east-2"],
  modelId: "us.anthropic.claude-3-5-haiku-20241022-v1:0",
  guardrailDeniedTopics: ["Investment advice | Recommendations about specific stocks, funds or other investments. | Which stock should I buy?"],
  environment: "prod",
};

/** The shape of Pulumi.dev.yaml's stack (two regions, a US inference profile). */
export const TWO_REGION_DEV = { regions: ["us-east-1", "us-west-2"], modelId: "us.anthropic.claude-3-5-haiku-20241022-v1:0", environment: "dev" };

/** The worker service's real bundle when its entry point exists, else a one-line stand-in with its hash. */
function serviceBundleOptions(): StackOptions {
  if (workerServicePresent()) return {};
  const code = "console.log('worker service stand-in');";
  return { workerServiceBundle: () => ({ code, sha256: createHash("sha256").update(code).digest("hex") }) };
}

/** A one-region stack with the ECS worker service (public subnets by default). */
export const ONE_REGION_ECS = { ...ONE_REGION, worker: "ecs" };
/** Two regions with the worker service behind NAT gateways. */
export const TWO_REGIONS_ECS_NAT = { regions: ["us-east-1", "eu-west-1"], worker: "ecs", workerNetwork: "nat", workerMinTasks: 2, workerMaxTasks: 10, environment: "dev" };

/** The real bundlers when every handler exists, else a one-line stand-in archive per handler. */
export function bundleOptions(): StackOptions {
  if (allHandlersPresent()) return serviceBundleOptions();
  return {
    ...serviceBundleOptions(),
    bundle: (name) =>
      new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(`exports.handler = async () => ${JSON.stringify(name)};`) }),
  };
}
