/**
 * `npm run test:stress -- --runs N [--hog] [--grep PATTERN]`: the type check and the web build once, then the whole
 * mocha suite N times (as `npm test` runs it), optionally beside a CPU hog — one bounded busy loop per core, in
 * child processes killed at the end. Prints each failing test with its run number and exits 1 if any run failed.
 * A suite that is green only on a quiet machine, or only in this directory, shows up here.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";

const REPO = resolve(__dirname, "..");
/** A hog never outlives this, even if this process is killed before it can stop them. */
const HOG_LIMIT_MS = 3 * 60 * 60_000;

interface Options {
  runs: number;
  hog: boolean;
  grep?: string;
}

interface Failure {
  run: number;
  title: string;
  file?: string;
  message: string;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { runs: 3, hog: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--runs") options.runs = Number(argv[++i]);
    else if (arg === "--hog") options.hog = true;
    else if (arg === "--grep") options.grep = argv[++i];
    else throw new Error(`unknown argument ${arg}: expected --runs N, --hog, --grep PATTERN`);
  }
  if (!Number.isInteger(options.runs) || options.runs < 1) throw new Error("--runs takes a whole number of at least 1");
  return options;
}

function npmRun(script: string): void {
  const result = spawnSync("npm", ["run", "--silent", script], { cwd: REPO, stdio: "inherit" });
  if (result.status !== 0) {
    console.error(`npm run ${script} failed (exit ${result.status}): nothing to stress`);
    process.exit(1);
  }
}

/** One busy loop per core, each ending by itself after HOG_LIMIT_MS. */
function startHogs(): ChildProcess[] {
  const script = `const end = Date.now() + ${HOG_LIMIT_MS}; let x = 0; while (Date.now() < end) x = (x * 31 + 7) % 1000003;`;
  return Array.from({ length: availableParallelism() }, () => spawn(process.execPath, ["-e", script], { stdio: "ignore" }));
}

function stopHogs(hogs: ChildProcess[]): void {
  for (const hog of hogs) if (hog.exitCode === null && hog.signalCode === null) hog.kill("SIGKILL");
}

interface MochaReport {
  stats: { tests: number; passes: number; failures: number; pending: number; duration: number };
  failures: Array<{ fullTitle: string; file?: string; err: { message?: string } }>;
}

/** One whole mocha run with the repository's .mocharc.yml; its report goes to a file (tests may print to stdout). */
async function runSuite(run: number, options: Options, dir: string): Promise<{ failures: Failure[]; summary: string }> {
  const output = join(dir, `run-${run}.json`);
  const args = ["mocha", "--reporter", "json", "--reporter-option", `output=${output}`, ...(options.grep ? ["--grep", options.grep] : [])];
  const started = Date.now();
  const child = spawn("npx", args, { cwd: REPO, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4_000)));
  const code = await new Promise<number | null>((r) => child.on("close", (c) => r(c)));
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  let report: MochaReport;
  try {
    report = JSON.parse(readFileSync(output, "utf8")) as MochaReport;
  } catch {
    const failure = { run, title: `mocha exited with ${code} without a report`, message: stderr.trim().split("\n").slice(-15).join("\n") };
    return { failures: [failure], summary: `run ${run}: no report (exit ${code}) in ${seconds} s` };
  }
  const failures: Failure[] = report.failures.map((f) => ({ run, title: f.fullTitle, file: f.file?.replace(`${REPO}/`, ""), message: (f.err.message ?? "").split("\n")[0]! }));
  if (code !== 0 && failures.length === 0) failures.push({ run, title: `mocha exited with ${code}`, message: stderr.trim().split("\n").slice(-5).join("\n") });
  const { tests, passes, pending } = report.stats;
  return { failures, summary: `run ${run}: ${passes}/${tests} passed, ${failures.length} failed, ${pending} pending, ${seconds} s` };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  console.log(`test:stress in ${REPO}: ${options.runs} run(s)${options.hog ? `, beside a CPU hog on ${availableParallelism()} core(s)` : ""}`);
  npmRun("typecheck");
  npmRun("build:web");
  const dir = mkdtempSync(join(tmpdir(), "chat-stress-"));
  const hogs = options.hog ? startHogs() : [];
  const stop = () => {
    stopHogs(hogs);
    process.exit(130);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const failures: Failure[] = [];
  try {
    for (let run = 1; run <= options.runs; run++) {
      const result = await runSuite(run, options, dir);
      failures.push(...result.failures);
      console.log(result.summary);
      for (const f of result.failures) console.log(`  run ${f.run} FAILED: ${f.title}${f.file ? ` (${f.file})` : ""}\n    ${f.message}`);
    }
  } finally {
    stopHogs(hogs);
    rmSync(dir, { recursive: true, force: true });
  }
  const failedRuns = new Set(failures.map((f) => f.run)).size;
  console.log(`\n${options.runs - failedRuns} of ${options.runs} run(s) green; ${failures.length} failure(s) in all`);
  for (const f of failures) console.log(`  run ${f.run}: ${f.title}`);
  process.exit(failures.length > 0 ? 1 : 0);
}

void main();
