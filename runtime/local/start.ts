/**
 * `npm start`: the whole chat on this machine (see stack.ts). Prints the two URLs on their own lines, keeps
 * data in the git-ignored `.local/` folder, and stops cleanly on Ctrl-C.
 * Environment: PORT (web, and the page's WebSocket at /ws/<region>; default 8080), WS_PORT (the primary gateway's own
 * port, default: a free port), LOCAL_REGIONS (e.g. us-east-1,eu-west-1: one gateway and set of handlers per region,
 * tables replicated), LOCAL_REPLICATION_LAG_MS (default 1000), LOCAL_DATA_DIR (default
 * `.local`), LOCAL_OPENAI_BASE_URL / LOCAL_OPENAI_MODEL (answer with a local model server, e.g. Ollama).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { DataDirInUseError } from "./data-lock";
import { startLocalStack, type LocalStack } from "./stack";

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`${name}=${JSON.stringify(raw)} is not a port number (0-65535).`);
    process.exit(1);
  }
  return port;
}

/** AWS region names, as the program's config accepts them (e.g. us-east-1, eu-west-1). */
const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;

function regionsFromEnv(): string[] | undefined {
  const raw = process.env.LOCAL_REGIONS;
  if (raw === undefined || raw.trim() === "") return undefined;
  const regions = raw.split(",").map((r) => r.trim());
  if (regions.some((r) => !REGION.test(r)) || new Set(regions).size !== regions.length) {
    console.error(`LOCAL_REGIONS=${JSON.stringify(raw)} is not a list of distinct AWS regions, e.g. LOCAL_REGIONS=us-east-1,eu-west-1`);
    process.exit(1);
  }
  return regions;
}

function lagFromEnv(): number | undefined {
  const raw = process.env.LOCAL_REPLICATION_LAG_MS;
  if (raw === undefined || raw === "") return undefined;
  const lag = Number(raw);
  if (!Number.isInteger(lag) || lag < 0 || lag > 60_000) {
    console.error(`LOCAL_REPLICATION_LAG_MS=${JSON.stringify(raw)} is not a whole number of milliseconds from 0 to 60000.`);
    process.exit(1);
  }
  return lag;
}

async function main(): Promise<void> {
  const webPort = portFromEnv("PORT", 8080);
  const gatewayPort = portFromEnv("WS_PORT", 0);
  const regions = regionsFromEnv();
  const replicationLagMs = lagFromEnv();
  const dataDir = resolve(process.env.LOCAL_DATA_DIR ?? ".local");
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      ports: { web: webPort, gateway: gatewayPort },
      dataDir,
      dynamo: "dynalite",
      ...(regions ? { regions } : {}),
      ...(replicationLagMs !== undefined ? { replicationLagMs } : {}),
    });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { port?: number };
    if (error instanceof DataDirInUseError) {
      console.error(error.message);
      process.exit(1);
    }
    if (e.code === "EADDRINUSE") {
      const port = e.port ?? webPort;
      const variable = port === gatewayPort ? "WS_PORT" : "PORT";
      console.error(`Port ${port} is already in use: stop what is using it, or pick another port, e.g. ${variable}=${port + 1} npm start`);
      process.exit(1);
    }
    throw error;
  }
  console.log(`Chat: ${stack.webUrl}`);
  console.log(`WebSocket: ${stack.wsUrl}`);
  for (const region of stack.regions.slice(1)) console.log(`WebSocket (${region.region}): ${region.wsUrl}`);
  if (stack.replication) console.log(`Tables replicate between ${stack.regions.map((r) => r.region).join(" and ")} after ${stack.replication.lagMs} ms, as global tables do.`);
  const answers = process.env.LOCAL_OPENAI_BASE_URL
    ? `the local model server at ${process.env.LOCAL_OPENAI_BASE_URL}, through the Bedrock emulator`
    : "the local Bedrock emulator (not a real model)";
  console.log(`Answers come from ${answers}; data is kept in ${dataDir}.`);
  for (const note of stack.notes) console.log(`Note: ${note}`);
  if (!existsSync(resolve(__dirname, "..", "..", "dist", "web", "index.html"))) {
    console.log("Note: the web client is not built yet: run `npm run build:web` (the page says so too).");
  }
  console.log("Press Ctrl-C to stop.");

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      console.log("Stopping now.");
      process.exit(1);
    }
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    stack
      .stop()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        console.error(error);
        process.exit(1);
      });
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
