/**
 * Runs a Pulumi program under mocks, without a cloud or credentials, and records what it registers: every resource
 * as `{type, name, inputs, provider, id, state}` with the options the engine would see (parent, dependsOn,
 * retainOnDelete, protect). The tests (test/infra/harness.ts) and the offline plan (`npm run plan`) share it.
 *
 * - A provider function call without a mock fails the run, naming the token.
 * - Errors that Pulumi would otherwise lose under mocks (a throw inside `apply`, an unhandled rejection,
 *   `pulumi.log.error`) fail the run too.
 * - Runs go one at a time; each one resets the mocks, the record and the config.
 */
import * as pulumi from "@pulumi/pulumi";
import { mockCall, mockResource } from "./mock-state";

export interface RecordedResource {
  type: string;
  name: string;
  inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  provider?: string;
  urn?: string;
  /** The parent's URN (a component, or the stack). */
  parent?: string;
  /** URNs of explicit `dependsOn` and of the resources its inputs came from. */
  dependencies: string[];
  retainOnDelete: boolean;
  protect: boolean;
  id: string;
  state: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Paths (`a.b.0.c`) of the inputs that arrived as secrets: the real engine keeps them encrypted in the state. */
  secretInputs: string[];
}

export interface MockedRun {
  resources: RecordedResource[];
  outputs: Record<string, unknown>;
}

/** The region of a provider reference (`<urn>::<id>`) as recorded by the last run, if it is an AWS provider. */
export function regionOfProvider(provider: string | undefined): string | undefined {
  return provider === undefined ? undefined : providerRegions.get(provider.split("::").pop() ?? "");
}

const providerRegions = new Map<string, string>();
let queue: Promise<unknown> = Promise.resolve();

/** Runs `program` with `config` (full keys, `chat:regions`, `aws:region`) as project `project`, stack `stack`. */
export async function runMocked(
  program: () => object,
  config: Record<string, string>,
  target: { project: string; stack: string },
): Promise<MockedRun> {
  const run = queue.then(() => build(program, config, target));
  queue = run.catch(() => undefined);
  return run;
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getDependenciesList(): string[];
  getRetainondelete(): boolean;
  getProtect(): boolean;
}
interface Monitor {
  registerResource(req: RegisterRequest, callback: (error: unknown, response?: { getUrn(): string }) => void): unknown;
}

async function build(program: () => object, config: Record<string, string>, target: { project: string; stack: string }): Promise<MockedRun> {
  const resources: RecordedResource[] = [];
  const failures: string[] = [];
  const options = new Map<string, Pick<RecordedResource, "parent" | "dependencies" | "retainOnDelete" | "protect">>();
  const key = (type: string, name: string) => `${type}\u0000${name}`;
  providerRegions.clear();

  await pulumi.runtime.setMocks(
    {
      async newResource(args) {
        const region = args.type === "pulumi:providers:aws" ? String(args.inputs.region) : regionOfProvider(args.provider);
        const { id, state } = mockResource(args, region ?? "us-east-1");
        if (args.type === "pulumi:providers:aws") providerRegions.set(id, String(args.inputs.region));
        const secretInputs: string[] = [];
        resources.push({
          type: args.type,
          name: args.name,
          inputs: (await plain(args.inputs, "", secretInputs)) as Record<string, unknown>,
          secretInputs,
          ...(args.provider !== undefined ? { provider: args.provider } : {}),
          dependencies: [],
          retainOnDelete: false,
          protect: false,
          ...options.get(key(args.type, args.name)),
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
    target.project,
    target.stack,
    false,
  );
  // The mock monitor hands newResource neither the options nor the URN: read them from the request it gets.
  const monitor = pulumi.runtime.getMonitor() as unknown as Monitor;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    const parent = req.getParent();
    options.set(key(req.getType(), req.getName()), {
      ...(parent ? { parent } : {}),
      dependencies: req.getDependenciesList(),
      retainOnDelete: req.getRetainondelete(),
      protect: req.getProtect(),
    });
    return register(req, (error, response) => {
      const recorded = resources.find((r) => r.type === req.getType() && r.name === req.getName() && r.urn === undefined);
      if (recorded && response) recorded.urn = response.getUrn();
      callback(error, response);
    });
  };
  pulumi.runtime.setAllConfig(config);

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
/** The signature key and value the runtime wraps a secret in when it serialises inputs (sdk/nodejs/runtime/rpc.ts). */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Plain JSON of a resource's inputs or state; secrets are unwrapped and their paths recorded in `secrets`. */
async function plain(value: unknown, path = "", secrets: string[] = []): Promise<unknown> {
  const at = (key: string | number) => (path === "" ? String(key) : `${path}.${key}`);
  if (isAssetOrArchive(value)) {
    const fields = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const key of ["text", "path", "uri", "assets"]) {
      if (fields[key] !== undefined) out[key] = await plain(await fields[key], at(key), secrets);
    }
    return out;
  }
  if (Array.isArray(value)) return Promise.all(value.map((v, i) => plain(v, at(i), secrets)));
  if (value !== null && typeof value === "object") {
    const fields = value as Record<string, unknown>;
    if (fields[SECRET_SIG_KEY] === SECRET_SIG) {
      secrets.push(path);
      return plain(fields.value, path, secrets);
    }
    const entries = await Promise.all(Object.entries(fields).map(async ([k, v]) => [k, await plain(v, at(k), secrets)] as const));
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
