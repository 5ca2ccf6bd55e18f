/**
 * The worker service's liveness for the container health check (infra/worker-service.ts): `GET /health` on loopback
 * answers 200 as long as the process's event loop turns. A process whose loop is blocked (a runaway synchronous
 * task) stops answering, fails the check a few times in a row, and ECS replaces the task; its turns then follow the
 * stale-turn rule, like any crash. Bound to 127.0.0.1: the probe runs inside the container, and nothing else needs it.
 */
import { createServer, type Server } from "node:http";

export interface HealthEndpoint {
  readonly port: number;
  close(): Promise<void>;
}

export async function startHealthEndpoint(port: number): Promise<HealthEndpoint> {
  const server: Server = createServer((req, res) => {
    const ok = req.method === "GET" && req.url === "/health";
    res.writeHead(ok ? 200 : 404, { "content-type": "text/plain", connection: "close" }).end(ok ? "ok" : "not found");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  // It must never keep a draining process alive.
  server.unref();
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The container's health check command (`node -e`), for the endpoint on `port`: exit 0 on a 200 within `timeoutMs`,
 * 1 otherwise (ECS counts a non-zero exit as a failed check).
 */
export function healthProbeScript(port: number, timeoutMs: number): string {
  return (
    `const r=require("node:http").get("http://127.0.0.1:${port}/health",(s)=>process.exit(s.statusCode===200?0:1));` +
    `r.on("error",()=>process.exit(1));r.setTimeout(${timeoutMs},()=>process.exit(1));`
  );
}
