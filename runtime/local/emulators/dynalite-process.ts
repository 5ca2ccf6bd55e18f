/**
 * dynalite in a process of its own (`startDynamo({ ownProcess: true })`): DynamoDB's work then runs beside the local
 * stack's event loop (gateway, handlers, emulators) instead of on it, as the real service runs apart from its callers.
 * The parent passes `{ dataPath?, port }` as the first argument (JSON) and receives `{ port }` once it listens; the
 * process exits when the parent disconnects, so a crashed parent leaves nothing behind.
 */
import { mkdirSync } from "node:fs";
import type { Server } from "node:http";

interface Args {
  dataPath?: string;
  port: number;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? "{}") as Args;
  const { default: dynalite } = await import("dynalite");
  if (args.dataPath) mkdirSync(args.dataPath, { recursive: true });
  const server: Server = dynalite({ path: args.dataPath, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  server.once("error", (error) => {
    process.send?.({ error: error.message });
    process.exit(1);
  });
  server.listen(args.port, "127.0.0.1", () => {
    const address = server.address();
    process.send?.({ port: typeof address === "object" && address ? address.port : 0 });
  });
  // LevelDB closes with the server; then the process ends by itself.
  const stop = () => {
    server.close(() => process.exit(0));
    // Connections still open after a moment are not waited for.
    setTimeout(() => process.exit(0), 2_000).unref();
  };
  process.on("disconnect", stop);
  process.on("SIGTERM", stop);
}

void main();
