/**
 * Shared inputs for the program's tests: configs, and a stand-in bundler used only while runtime/handlers is
 * incomplete (the real esbuild bundle is exercised by bundle.test.ts whenever the handlers exist).
 */
import * as pulumi from "@pulumi/pulumi";
import { allHandlersPresent } from "../../infra/bundle";
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

/** The real bundler when every handler exists, else a one-line stand-in archive per handler. */
export function bundleOptions(): StackOptions {
  if (allHandlersPresent()) return {};
  return {
    bundle: (name) =>
      new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(`exports.handler = async () => ${JSON.stringify(name)};`) }),
  };
}
