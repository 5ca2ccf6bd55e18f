/**
 * `npm run plan [-- --stack <name>]`: prints the offline plan of a stack (default `dev`) as Markdown on stdout
 * (infra/offline/plan.ts). Needs no cloud, no credentials and no Pulumi CLI; preview.yml posts it on pull requests.
 */
import { planStack, renderPlan } from "./offline/plan";

function stackArgument(argv: readonly string[]): string {
  const at = argv.findIndex((arg) => arg === "--stack" || arg.startsWith("--stack="));
  if (at < 0) return "dev";
  const value = argv[at]!.includes("=") ? argv[at]!.split("=")[1] : argv[at + 1];
  if (!value) throw new Error("--stack needs a stack name (Pulumi.<name>.yaml)");
  return value;
}

async function main(): Promise<void> {
  const stack = stackArgument(process.argv.slice(2));
  // Only the plan goes to stdout (a workflow posts it); what the program logs while it runs goes to stderr.
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  // (Pulumi's log lines may arrive after the run resolves, so stdout stays redirected to the end.)
  const run = await planStack(stack);
  write(`${renderPlan(stack, run)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`npm run plan: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
