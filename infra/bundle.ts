/**
 * Bundles each Lambda entry point `runtime/handlers/<name>.ts` with esbuild into a one-file zip
 * (`index.js`, handler `index.handler`). Every dependency the handlers call, the AWS SDK clients included, is
 * bundled so the function does not depend on the SDK version the Lambda runtime happens to ship; only the
 * credential providers Lambda never runs are left out (LAMBDA_UNUSED_PACKAGES). Each handler is bundled once per
 * process and the archive reused by every region.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as esbuild from "esbuild";
import * as pulumi from "@pulumi/pulumi";
import { ENTRY_POINTS, WORKER_SERVICE_ENTRY, type EntryPointName } from "../runtime/env";

/** Where the handlers live, relative to the repository root. */
export const HANDLER_DIR = path.join(__dirname, "..", "runtime", "handlers");

/** The `handler` setting of every function built from these archives. */
export const LAMBDA_HANDLER = "index.handler";

export type HandlerBundler = (name: EntryPointName) => pulumi.asset.Archive;

const cache = new Map<EntryPointName, pulumi.asset.Archive>();

/**
 * Packages of the AWS SDK's default credential chain that Lambda never runs: a function's credentials are always
 * in its environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN from the execution role:
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime), which the
 * chain reads first. The chain loads these providers with a dynamic import() only when that fails, so left outside
 * the bundle they cost nothing; should one ever be needed it still resolves, because the nodejs22.x runtime
 * includes the AWS SDK for JavaScript v3 (https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html,
 * "SDK for JavaScript versions included in runtimes"). The clients the handlers call stay bundled (pinned).
 */
export const LAMBDA_UNUSED_PACKAGES: readonly string[] = [
  "@aws-sdk/credential-provider-ini",
  "@aws-sdk/credential-provider-sso",
  "@aws-sdk/credential-provider-process",
  "@aws-sdk/credential-provider-web-identity",
  "@aws-sdk/credential-provider-login",
];

/** The esbuild options of one handler's bundle (the Pulumi program's and the cold-start benchmark's). */
export function esbuildOptions(entry: string): esbuild.BuildOptions & { write: false; entryPoints: string[] } {
  return {
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform: "node",
    target: "node22",
    format: "cjs",
    // The ES module builds first: the AWS SDK and Smithy packages ship one (dist-es) beside CommonJS (dist-cjs), and
    // only ES modules let esbuild drop what a handler never calls (a CommonJS index is kept whole).
    mainFields: ["module", "main"],
    external: [...LAMBDA_UNUSED_PACKAGES],
    // The credential chain loads those with import(); as require() they resolve through NODE_PATH, which is where
    // Lambda puts the runtime's SDK (/var/runtime/node_modules) and which ES module resolution does not read.
    supported: { "dynamic-import": false },
    minify: true,
    treeShaking: true,
    // Keep names readable in stack traces after minification.
    keepNames: true,
    legalComments: "none",
    // Resolve dependencies from the repository's node_modules wherever the entry point lives.
    nodePaths: [path.join(__dirname, "..", "node_modules")],
    logLevel: "silent",
  };
}

/** The zip archive of one handler, built on first use. Throws naming the file when the entry point is missing. */
export function bundleHandler(name: EntryPointName): pulumi.asset.Archive {
  const cached = cache.get(name);
  if (cached) return cached;
  const archive = new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(bundleSource(name)) });
  cache.set(name, archive);
  return archive;
}

/** The bundled JavaScript of one handler from `dir` (runtime/handlers unless a test says otherwise). */
export function bundleSource(name: EntryPointName, dir: string = HANDLER_DIR): string {
  if (!(ENTRY_POINTS as readonly string[]).includes(name)) {
    throw new Error(`unknown handler "${name}": expected one of ${ENTRY_POINTS.join(", ")} (runtime/env.ts HANDLERS, AUTH_TRIGGERS)`);
  }
  const entry = path.join(dir, `${name}.ts`);
  if (!fs.existsSync(entry)) {
    throw new Error(`cannot bundle the ${name} Lambda: ${path.relative(process.cwd(), entry)} does not exist (every name in runtime/env.ts HANDLERS and AUTH_TRIGGERS needs runtime/handlers/<name>.ts exporting handler)`);
  }
  const result = esbuild.buildSync(esbuildOptions(entry));
  const [output] = result.outputFiles;
  if (!output) throw new Error(`esbuild produced no output for ${entry}`);
  return output.text;
}

/** True when every entry point named in runtime/env.ts exists (lets tests choose a stand-in bundler). */
export function allHandlersPresent(): boolean {
  return ENTRY_POINTS.every((name) => fs.existsSync(path.join(HANDLER_DIR, `${name}.ts`)));
}

/** The worker service's bundle (`WORKER_SERVICE_ENTRY`): its JavaScript and the SHA-256 that names its S3 object. */
export interface ServiceBundle {
  code: string;
  sha256: string;
}

export type ServiceBundler = () => ServiceBundle;

let serviceBundle: ServiceBundle | undefined;

/**
 * esbuild options of the worker service: a long-running Node process in a container, so unlike the Lambda bundles
 * nothing is left out: the AWS SDK's default credential chain must find the task role through the container
 * credential provider (`@aws-sdk/credential-provider-http`, loaded by the chain with import()), and there is no
 * runtime-provided SDK to fall back on.
 */
export function serviceEsbuildOptions(entry: string): esbuild.BuildOptions & { write: false; entryPoints: string[] } {
  const options = esbuildOptions(entry);
  // Bundled in, not external; import() stays a plain import so esbuild follows it into the bundle.
  return { ...options, external: [], supported: {} };
}

/** The worker service's bundle from `root` (the repository unless a test says otherwise), built once per process. */
export function bundleWorkerService(root: string = path.join(__dirname, "..")): ServiceBundle {
  if (serviceBundle && root === path.join(__dirname, "..")) return serviceBundle;
  const entry = path.join(root, WORKER_SERVICE_ENTRY);
  if (!fs.existsSync(entry)) {
    throw new Error(`cannot bundle the worker service: ${WORKER_SERVICE_ENTRY} does not exist (runtime/env.ts WORKER_SERVICE_ENTRY; chat:worker ecs needs it)`);
  }
  const [output] = esbuild.buildSync(serviceEsbuildOptions(entry)).outputFiles;
  if (!output) throw new Error(`esbuild produced no output for ${entry}`);
  const bundle = { code: output.text, sha256: createHash("sha256").update(output.text, "utf8").digest("hex") };
  if (root === path.join(__dirname, "..")) serviceBundle = bundle;
  return bundle;
}

/** True when the worker service's entry point exists (lets tests choose a stand-in bundle until it does). */
export function workerServicePresent(): boolean {
  return fs.existsSync(path.join(__dirname, "..", WORKER_SERVICE_ENTRY));
}
