/**
 * The whole program as a function of the validated config, so the entry point (`index.ts`) and the tests
 * (which build several configs in one process) share it.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { ChatConfig } from "./config";

export interface StackOutputs {
  [name: string]: pulumi.Input<unknown>;
}

/** One AWS provider per configured region; every regional resource is created through its region's provider. */
export function regionProviders(config: ChatConfig): Map<string, aws.Provider> {
  return new Map(config.regions.map((region) => [region, new aws.Provider(`aws-${region}`, { region })]));
}

export function createStack(config: ChatConfig): StackOutputs {
  const providers = regionProviders(config);
  return { regions: [...providers.keys()] };
}
