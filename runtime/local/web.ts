/**
 * The local web server: the built client (`dist/web`), `/config.json` (WebConfig), the dev sign-in
 * `GET /local/token?user=NAME[&ttl=SECONDS]` → `{"token":"<jwt>"}` (ttl: the token's lifetime), and each region's
 * WebSocket at `/ws/<region>` (./ws-edge.ts).
 */
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { extname, join, normalize, resolve, sep } from "node:path";
import type { WebConfig } from "../protocol";
import { contentSecurityPolicy, originOf, SECURITY_HEADERS } from "../web-security-headers";
import { close, listen, sendJson } from "./emulators/http";
import type { IdentityIssuer, TokenUse } from "./emulators/identity";
import { edgePath, WebSocketEdge, type EdgeOrigin } from "./emulators/ws-edge";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".map": "application/json",
  ".txt": "text/plain; charset=utf-8",
};

/** Names the dev sign-in accepts: the token's `cognito:username`. */
const USER_NAME = /^[A-Za-z0-9._@+-]{1,64}$/;

/** The longest `ttl` the dev sign-in mints: one day, Cognito's maximum for ID and access tokens. */
export const MAX_TOKEN_TTL_SECONDS = 24 * 60 * 60;

/** The `ttl` query parameter: absent (the issuer's default lifetime), or whole seconds in 1…MAX_TOKEN_TTL_SECONDS. */
export function parseTokenTtl(value: string | null): { ttl?: number } | { error: string } {
  if (value === null) return {};
  const ttl = /^[0-9]{1,6}$/.test(value) ? Number(value) : NaN;
  if (!(ttl >= 1 && ttl <= MAX_TOKEN_TTL_SECONDS)) {
    return { error: `ttl must be a whole number of seconds from 1 to ${MAX_TOKEN_TTL_SECONDS}` };
  }
  return { ttl };
}

export interface WebServerOptions {
  staticDir: string;
  config: () => WebConfig;
  identity: IdentityIssuer;
  /** The gateway behind `/ws/<region>`, per region. */
  edge?: () => ReadonlyMap<string, EdgeOrigin>;
  port?: number;
  host?: string;
}

export class LocalWebServer {
  private readonly server = createServer((req, res) => this.onRequest(req, res));
  private port = 0;
  private readonly edge: WebSocketEdge;

  constructor(private readonly options: WebServerOptions) {
    this.edge = new WebSocketEdge(options.edge ?? (() => new Map()));
    this.edge.attach(this.server);
  }

  async start(): Promise<this> {
    this.port = await listen(this.server, this.options.port ?? 8080, this.options.host ?? "127.0.0.1");
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  /** The WebSocket URL of a region at this server's origin. */
  wsUrl(region: string): string {
    return `ws://127.0.0.1:${this.port}${edgePath(region)}`;
  }

  async stop(): Promise<void> {
    this.edge.closeAll();
    await close(this.server);
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method !== "GET" && req.method !== "HEAD") return sendJson(res, 405, { message: "Method not allowed" });
    if (url.pathname === "/config.json") return sendJson(res, 200, this.options.config(), { "cache-control": "no-store" });
    if (url.pathname === "/local/token") {
      const user = url.searchParams.get("user") ?? "";
      if (!USER_NAME.test(user)) {
        return sendJson(res, 400, { message: "user must be 1-64 letters, digits or ._@+-" });
      }
      const lifetime = parseTokenTtl(url.searchParams.get("ttl"));
      if ("error" in lifetime) return sendJson(res, 400, { message: lifetime.error });
      const use: TokenUse = url.searchParams.get("use") === "access" ? "access" : "id";
      const token = this.options.identity.mint(user, { tokenUse: use, expiresIn: lifetime.ttl });
      return sendJson(res, 200, { token }, { "cache-control": "no-store" });
    }
    this.serveStatic(url.pathname, res);
  }

  private serveStatic(pathname: string, res: ServerResponse): void {
    const root = resolve(this.options.staticDir);
    if (!existsSync(join(root, "index.html"))) return notBuilt(res);
    let relative: string;
    try {
      relative = normalize(decodeURIComponent(pathname)).replace(/^([/\\])+/, "");
    } catch {
      return sendJson(res, 400, { message: "Bad path" });
    }
    let file = resolve(root, relative);
    if (file !== root && !file.startsWith(root + sep)) return sendJson(res, 404, { message: "Not found" });
    if (!existsSync(file) || statSync(file).isDirectory()) {
      // Paths without an extension belong to the single-page app.
      if (extname(pathname) !== "") return sendJson(res, 404, { message: "Not found" });
      file = join(root, "index.html");
    }
    res.writeHead(200, {
      "content-type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream",
      "cache-control": file.endsWith("index.html") ? "no-cache" : "public, max-age=3600",
      ...this.securityHeaders(),
    });
    createReadStream(file).pipe(res);
  }

  /** The deployed page's headers (CloudFront's response-headers policy), but HSTS, which plain http ignores. */
  private securityHeaders(): Record<string, string> {
    const { "strict-transport-security": _plainHttpIgnoresIt, ...headers } = SECURITY_HEADERS;
    const regions = this.options.config().regions.map((r) => originOf(r.url));
    return { "content-security-policy": contentSecurityPolicy({ connect: regions }), ...headers };
  }
}

function notBuilt(res: ServerResponse): void {
  const body = `<!doctype html><html><head><meta charset="utf-8"><title>Chat (local)</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>The web client is not built yet</h1>
<p>Run <code>npm run build:web</code>, then reload this page. The local stack (WebSocket gateway, Bedrock emulator,
DynamoDB and the token issuer) is already running.</p>
<p>Config: <a href="/config.json">/config.json</a> · dev token: <a href="/local/token?user=alice">/local/token?user=alice</a></p>
</body></html>`;
  res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-length": Buffer.byteLength(body) });
  res.end(body);
}
