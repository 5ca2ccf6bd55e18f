/**
 * The one mocks module for the program's tests. `buildStack(config)` runs the whole program for one `chat:*`
 * config under Pulumi mocks and returns every resource it registered plus the resolved stack outputs.
 *
 * - Every resource is recorded as `{type, name, inputs, provider, id, state}`.
 * - A provider function call without a mock fails the build, naming the token.
 * - Errors that Pulumi would otherwise lose under mocks (a throw inside `apply`, an unhandled rejection,
 *   `pulumi.log.error`) fail the build too.
 * - Builds run one at a time; each one resets the mocks, the recorded list and the config.
 */
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE, readConfig } from "../../infra/config";
import { createStack, type StackOptions } from "../../infra/stack";
import { mockCall, mockResource } from "./mock-state";

export interface RecordedResource {
  type: string;
  name: string;
  inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  provider?: string;
  urn?: string;
  id: string;
  state: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** The region of a provider reference (`<urn>::<id>`) as recorded by the last build, if it is an AWS provider. */
export function regionOfProvider(provider: string | undefined): string | undefined {
  return provider === undefined ? undefined : providerRegions.get(provider.split("::").pop() ?? "");
}

const providerRegions = new Map<string, string>();
let queue: Promise<unknown> = Promise.resolve();

/**
 * Builds the program for one `chat:*` config (keys without the `chat:` prefix). `bundle` and `webDistDir` replace
 * the esbuild bundler and the dist/web folder (see infra/stack.ts StackOptions); by default the real ones run.
 */
export async function buildStack(
  config: Record<string, unknown>,
  opts?: { stack?: string } & StackOptions,
): Promise<{ resources: RecordedResource[]; outputs: Record<string, unknown> }> {
  const { stack, ...options } = opts ?? {};
  return runProgram(() => createStack(readConfig(), options), config, stack !== undefined ? { stack } : {});
}

/** Runs any program under the same mocks (the harness's own tests use it to show that failures are loud). */
export async function runProgram(
  program: () => object,
  config: Record<string, unknown>,
  opts?: { stack?: string },
): Promise<{ resources: RecordedResource[]; outputs: Record<string, unknown> }> {
  const run = queue.then(() => build(program, config, opts?.stack ?? "test"));
  queue = run.catch(() => undefined);
  return run;
}

async function build(
  program: () => object,
  config: Record<string, unknown>,
  stack: string,
): Promise<{ resources: RecordedResource[]; outputs: Record<string, unknown> }> {
  const resources: RecordedResource[] = [];
  const failures: string[] = [];
  providerRegions.clear();

  await pulumi.runtime.setMocks(
    {
      async newResource(args) {
        const region = args.type === "pulumi:providers:aws" ? String(args.inputs.region) : regionOfProvider(args.provider);
        const { id, state } = mockResource(args, region ?? "us-east-1");
        if (args.type === "pulumi:providers:aws") providerRegions.set(id, String(args.inputs.region));
        resources.push({
          type: args.type,
          name: args.name,
          inputs: (await plain(args.inputs)) as Record<string, unknown>,
          ...(args.provider !== undefined ? { provider: args.provider } : {}),
          id,
          state: (await plain(state)) as Record<string, unknown>,
        });
        return { id, state };
      },
      call(args) {
        const result = mockCall(args, regionOfProvider(args.provider));
        if (result === undefined) {
          const message = `unmocked provider call ${args.token} (inputs ${JSON.stringify(args.inputs)})`;
          failures.push(message);
          throw new Error(message);
        }
        return result;
      },
    },
    CONFIG_NAMESPACE, // the project's name (Pulumi.yaml), which is also the config namespace
    stack,
    false,
  );
  pulumi.runtime.setAllConfig(
    Object.fromEntries(
      Object.entries(config).map(([key, value]) => [`${CONFIG_NAMESPACE}:${key}`, typeof value === "string" ? value : JSON.stringify(value)]),
    ),
  );

  const onRejection = (reason: unknown) => failures.push(`unhandled rejection: ${describe(reason)}`);
  process.on("unhandledRejection", onRejection);
  let resolved: unknown;
  try {
    resolved = await resolve(pulumi.output(program()));
    await waitForRegistrations();
  } catch (error) {
    failures.push(describe(error));
  }
  // Let rejections that surfaced while draining reach the listener before it is removed.
  await new Promise((done) => setImmediate(done));
  process.off("unhandledRejection", onRejection);
  if (pulumi.log.hasErrors()) failures.push("the program logged an error (pulumi.log.error); see the output above");
  if (failures.length > 0) throw new Error(`stack build failed:\n- ${failures.join("\n- ")}`);
  return { resources, outputs: resolved as Record<string, unknown> };
}

/** Outputs resolve through their internal promise, which (unlike `apply`) rejects when a callback threw. */
async function resolve<T>(output: pulumi.Output<T>): Promise<T> {
  const internal = output as unknown as { promise(withUnknowns?: boolean): Promise<T> };
  return internal.promise();
}

/** Waits until every resource registration the program started has reached the mocks. */
async function waitForRegistrations(): Promise<void> {
  const runtime = pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> };
  if (typeof runtime.waitForRPCs !== "function") throw new Error("@pulumi/pulumi no longer exposes runtime.waitForRPCs");
  await runtime.waitForRPCs();
}

/**
 * Inputs as plain, cloneable data: Pulumi assets and archives hold promises, so they are recorded as
 * `{ text }` / `{ path }` / `{ uri }` (assets) and `{ assets: {...} }` / `{ path }` / `{ uri }` (archives).
 */
async function plain(value: unknown): Promise<unknown> {
  if (isAssetOrArchive(value)) {
    const fields = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const key of ["text", "path", "uri", "assets"]) {
      if (fields[key] !== undefined) out[key] = await plain(await fields[key]);
    }
    return out;
  }
  if (Array.isArray(value)) return Promise.all(value.map(plain));
  if (value !== null && typeof value === "object") {
    const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await plain(v)] as const));
    return Object.fromEntries(entries);
  }
  return value;
}

function isAssetOrArchive(value: unknown): value is object {
  return pulumi.asset.Asset.isInstance(value) || pulumi.asset.Archive.isInstance(value);
}

function describe(reason: unknown): string {
  return reason instanceof Error ? (reason.stack ?? reason.message) : String(reason);
}
