/**
 * A region of a multi-region local stack in a process of its own (the handlers keep their configuration in module
 * scope, so one process holds one region, as one Lambda container serves one region). stack.ts starts it with the
 * region's options as JSON in LOCAL_REGION_OPTIONS and reads one line back: `{"ready": {...}}` with the gateway's
 * endpoints. SIGTERM or SIGINT stop it cleanly; SIGKILL is what a region outage looks like.
 */
import { startRegion, type RegionOptions } from "./region";

export interface RegionReady {
  region: string;
  /** `ws://127.0.0.1:<port>/<stage>` */
  wsUrl: string;
  connectionsEndpoint: string;
}

async function main(): Promise<void> {
  const options = JSON.parse(process.env.LOCAL_REGION_OPTIONS ?? "") as RegionOptions;
  const region = await startRegion(options);
  const ready: RegionReady = { region: options.region, wsUrl: region.gateway.url, connectionsEndpoint: region.gateway.connectionsEndpoint };
  process.stdout.write(`${JSON.stringify({ ready })}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    region.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  // The parent went away without a word: nothing is left to serve.
  process.on("disconnect", stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
