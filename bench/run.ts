/**
 * `npm run bench [-- --quick] [-- --only frames,latency]`: runs the benchmarks on the local stack, prints a
 * table per benchmark and writes docs/BENCHMARKS.md (unless --no-write). Targets are printed PASS/MISS beside
 * the figures; nothing here fails the process on a MISS.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { clientCallsBenchmark } from "./client-calls";
import { coldStartBenchmark } from "./coldstart";
import { framesBenchmark } from "./frames";
import { latencyBenchmark } from "./latency";
import { loadBenchmark } from "./load";
import { describeLoad, measureLoop } from "./loop";
import { machine } from "./machine";
import { consoleTable, type Benchmark, type Section } from "./report";
import { spendBenchmark } from "./spend";
import { mergeSections, renderDocument } from "./document";
import { refreshReadme } from "./highlights";
import { resumeBenchmark } from "./resume";
import { stopBenchmark } from "./stop";
import { workersBenchmark } from "./workers";

const DEFAULT_OUT = join(__dirname, "..", "docs", "BENCHMARKS.md");

const BENCHMARKS: Record<string, Benchmark> = {
  frames: framesBenchmark,
  latency: latencyBenchmark,
  load: loadBenchmark,
  stop: stopBenchmark,
  resume: resumeBenchmark,
  coldstart: coldStartBenchmark,
  spend: spendBenchmark,
  workers: workersBenchmark,
  calls: clientCallsBenchmark,
};

interface Flags {
  quick: boolean;
  only: string[];
  write: boolean;
  out: string;
}

function parseFlags(argv: string[]): Flags {
  const flags: Flags = { quick: false, only: Object.keys(BENCHMARKS), write: true, out: DEFAULT_OUT };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--quick") flags.quick = true;
    else if (arg === "--no-write") flags.write = false;
    else if (arg === "--only" || arg.startsWith("--only=")) {
      const value = arg.includes("=") ? arg.slice("--only=".length) : argv[++i];
      flags.only = (value ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    } else if (arg === "--out") flags.out = argv[++i];
    else if (arg === "--dynamo") {
      const kind = argv[++i];
      if (kind !== "dynalite" && kind !== "dynamodb-local") throw new Error(`--dynamo ${kind}: expected dynalite or dynamodb-local`);
      process.env.BENCH_DYNAMO = kind;
    } else {
      throw new Error(`unknown flag ${arg}: expected --quick, --only <${Object.keys(BENCHMARKS).join(",")}>, --dynamo <dynalite|dynamodb-local>, --no-write, --out <file>`);
    }
  }
  const unknown = flags.only.filter((name) => !(name in BENCHMARKS));
  if (unknown.length) throw new Error(`unknown benchmark ${unknown.join(", ")}: expected ${Object.keys(BENCHMARKS).join(", ")}`);
  return flags;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const host = machine();
  const started = new Date();
  const log = (line: string) => console.error(`[bench ${((performance.now() / 1000) | 0).toString().padStart(4)} s] ${line}`);
  log(`${host.cpu}, ${host.cores} cores, ${host.ramGb} GB, Node ${host.node}, load ${os.loadavg()[0].toFixed(2)}`);
  const sections: Section[] = [];
  for (const name of flags.only) {
    const t0 = performance.now();
    const { result: section, load } = await measureLoop(() => BENCHMARKS[name]({ quick: flags.quick, log }));
    section.notes.push(`While it ran: ${describeLoad(load)}.`);
    log(`${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    sections.push(section);
    console.log(`\n${consoleTable(section)}`);
    for (const note of section.notes) console.log(`  note: ${note}`);
  }
  host.loadAverage.push(os.loadavg()[0]);
  const args = process.argv.slice(2);
  const command = `npm run bench${args.length ? ` -- ${args.join(" ")}` : ""}`;
  if (flags.write) {
    const input = { sections, machine: host, started, command, quick: flags.quick };
    const complete = !flags.quick && Object.keys(BENCHMARKS).every((name) => flags.only.includes(name));
    // A partial run updates its own sections of the published document and leaves the others as they were.
    const merge = !complete && flags.out === DEFAULT_OUT && existsSync(flags.out);
    writeFileSync(flags.out, merge ? mergeSections(readFileSync(flags.out, "utf8"), input) : renderDocument(input));
    log(`${merge ? "updated its sections in" : "wrote"} ${flags.out}`);
    // The README quotes the published document: refresh it whenever that document was written or updated (a quick
    // run is never quoted).
    if ((complete || (merge && !flags.quick)) && flags.out === DEFAULT_OUT) {
      refreshReadme(join(__dirname, ".."));
      log("refreshed the README's benchmark highlights");
    }
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
