/**
 * Cold start: the size of each handler's bundle, built by the program's own bundling function
 * (infra/bundle.ts `bundleSource`: esbuild, node22, cjs, ES module builds first, minified, every dependency bundled
 * but the credential providers Lambda never runs), and its module
 * initialisation time: a fresh `node` process (this Node) requires the bundle and reports the time `require`
 * took; median of N. The baseline is the same measurement for an empty module (Node's own floor).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import * as esbuild from "esbuild";
// The program's bundler; importing infra/bundle.ts loads @pulumi/pulumi but runs no program.
import { bundleSource, esbuildOptions, HANDLER_DIR, LAMBDA_UNUSED_PACKAGES } from "../infra/bundle";
import { HANDLERS, type HandlerName } from "../runtime/env";
import { verdict, type BenchOptions, type Row, type Section } from "./report";
import { fmt, median } from "./stats";

const LIMIT_BYTES = 500 * 1024;

/**
 * Where a bundle's bytes come from, by package: the program's own esbuild options (infra/bundle.ts
 * `esbuildOptions`) plus a metafile (bundleSource returns only the text). The caller checks that the output has the
 * same size.
 */
function composition(name: HandlerName): { bytes: number; byPackage: Array<[string, number]> } {
  const result = esbuild.buildSync({ ...esbuildOptions(join(HANDLER_DIR, `${name}.ts`)), metafile: true });
  const output = Object.values(result.metafile.outputs)[0];
  const byPackage = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? input.replace(/\/[^/]+$/, "/");
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + bytesInOutput);
  }
  return { bytes: result.outputFiles[0].contents.byteLength, byPackage: [...byPackage].sort((a, b) => b[1] - a[1]) };
}

/** One fresh process: milliseconds spent in `require(file)`, and the process's wall time. */
function timeRequire(file: string): { requireMs: number; processMs: number } {
  const script =
    "const t=process.hrtime.bigint();require(process.argv[1]);" +
    "process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))";
  const t0 = performance.now();
  const out = execFileSync(process.execPath, ["-e", script, file], {
    env: { PATH: process.env.PATH ?? "", AWS_REGION: "us-east-1", NODE_OPTIONS: "" },
    encoding: "utf8",
  });
  return { requireMs: Number(out), processMs: performance.now() - t0 };
}

export async function coldStartBenchmark(options: BenchOptions): Promise<Section> {
  const runs = options.quick ? 5 : 21;
  const dir = mkdtempSync(join(tmpdir(), "bench-bundles-"));
  try {
    const empty = join(dir, "empty.js");
    writeFileSync(empty, "exports.handler = async () => undefined;\n");
    const baselineRuns = Array.from({ length: runs }, () => timeRequire(empty));
    const baseRequire = median(baselineRuns.map((r) => r.requireMs));
    const baseProcess = median(baselineRuns.map((r) => r.processMs));
    const rows: Row[] = [];
    const notes: string[] = [];
    for (const name of HANDLERS as readonly HandlerName[]) {
      const t0 = performance.now();
      const source = bundleSource(name);
      const bundleMs = performance.now() - t0;
      const file = join(dir, `${name}.js`);
      writeFileSync(file, source);
      const bytes = Buffer.byteLength(source);
      const timings = Array.from({ length: runs }, () => timeRequire(file));
      options.log(`  ${name}: ${(bytes / 1024).toFixed(1)} KB, bundled in ${fmt(bundleMs)}`);
      rows.push(
        {
          metric: `${name}: bundle size`,
          value: `${(bytes / 1024).toFixed(1)} KB`,
          baseline: "",
          target: "≤ 500 KB",
          verdict: verdict(bytes <= LIMIT_BYTES),
        },
        {
          metric: `${name}: module init (require) median / process wall median`,
          value: `${fmt(median(timings.map((t) => t.requireMs)))} / ${fmt(median(timings.map((t) => t.processMs)))}`,
          baseline: `${fmt(baseRequire)} / ${fmt(baseProcess)}`,
        },
      );
      if (bytes > LIMIT_BYTES) {
        const parts = composition(name);
        const same = parts.bytes === bytes ? "same options, same size" : `replicated build ${(parts.bytes / 1024).toFixed(1)} KB`;
        const top = parts.byPackage
          .slice(0, 6)
          .map(([pkg, b]) => `${pkg} ${(b / 1024).toFixed(0)} KB`)
          .join(", ");
        notes.push(`${name}: ${(bytes / 1024).toFixed(1)} KB exceeds 500 KB; by package (esbuild metafile, ${same}): ${top}.`);
      }
    }
    return {
      name: "coldstart",
      title: "Cold start: bundle size and module initialisation",
      baselineLabel: "an empty module",
      method:
        `Each handler bundled by \`bundleSource\` from infra/bundle.ts (the function the Pulumi program uses; its esbuild options: ` +
        `platform node, target node22, cjs, ES module builds first, minify, tree shaking, keepNames, all dependencies bundled but ` +
        `the credential providers Lambda never runs: ${LAMBDA_UNUSED_PACKAGES.join(", ")}). Init: ${runs} fresh ` +
        `\`node\` processes per bundle (${process.version}), each timing \`require(bundle)\` with process.hrtime; medians. Lambda's ` +
        `INIT also includes its runtime start-up, which this machine cannot measure.`,
      rows,
      notes,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
