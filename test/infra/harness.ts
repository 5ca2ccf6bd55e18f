/**
 * The one mocks module for the program's tests. `buildStack(config)` runs the whole program for one `chat:*`
 * config under Pulumi mocks (infra/offline/mocked-run.ts, shared with `npm run plan`) and returns every resource it
 * registered, with its options, plus the resolved stack outputs.
 */
import { CONFIG_NAMESPACE, readConfig } from "../../infra/config";
import { runMocked, type MockedRun } from "../../infra/offline/mocked-run";
import { createStack, type StackOptions } from "../../infra/stack";

export { regionOfProvider, type RecordedResource } from "../../infra/offline/mocked-run";

/**
 * Builds the program for one `chat:*` config (keys without the `chat:` prefix). `bundle` and `webDistDir` replace
 * the esbuild bundler and the dist/web folder (see infra/stack.ts StackOptions); by default the real ones run.
 */
export async function buildStack(config: Record<string, unknown>, opts?: { stack?: string } & StackOptions): Promise<MockedRun> {
  const { stack, ...options } = opts ?? {};
  return runProgram(() => createStack(readConfig(), options), config, stack !== undefined ? { stack } : {});
}

/** Runs any program under the same mocks (the harness's own tests use it to show that failures are loud). */
export async function runProgram(program: () => object, config: Record<string, unknown>, opts?: { stack?: string }): Promise<MockedRun> {
  const full = Object.fromEntries(
    Object.entries(config).map(([key, value]) => [`${CONFIG_NAMESPACE}:${key}`, typeof value === "string" ? value : JSON.stringify(value)]),
  );
  // The project's name (Pulumi.yaml) is also the config namespace.
  return runMocked(program, full, { project: CONFIG_NAMESPACE, stack: opts?.stack ?? "test" });
}
