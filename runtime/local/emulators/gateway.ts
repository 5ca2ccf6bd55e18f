/**
 * API Gateway WebSocket API emulator on `ws`: the `$connect` REQUEST authorizer, route selection on
 * `$request.body.action`, synchronous Lambda proxy integrations with the integration timeout, the subprotocol
 * that the `$connect` integration selects, `$disconnect`, and the `@connections` management API (POST, GET,
 * DELETE) on the same port (`/<stage>/@connections/<connectionId>`).
 * Limits: "Quotas for configuring and running a WebSocket API in API Gateway" (AWS developer guide).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket, type RawData } from "ws";
import { evaluateAuthorizerResult } from "./authorizer-policy";
import type { LocalFunctions } from "./functions";
import {
  authorizerEvent,
  connectEvent,
  disconnectEvent,
  gatewayId,
  handshakeRequest,
  messageEvent,
  type ApiInfo,
  type ConnectionInfo,
} from "./gateway-events";
import { close, listen, readBody, sendAwsError, sendJson } from "./http";
import { watchFrameSizes } from "./frame-limit";

export interface GatewayLimits {
  /** Largest client frame (API Gateway: 32 KB). A larger frame closes the connection with 1009. */
  frameBytes: number;
  /** Largest message, client → server or via @connections (API Gateway: 128 KB). Larger: close 1009 / HTTP 413. */
  messageBytes: number;
  /** Closed after this long without a client message (API Gateway: 10 minutes). */
  idleMs: number;
  /** Closed this long after connecting, whatever happens (API Gateway: 2 hours). */
  maxConnectionMs: number;
  /** How long a route waits for its Lambda before telling the client it timed out (API Gateway: 29 s). */
  integrationTimeoutMs: number;
}

export const API_GATEWAY_LIMITS: GatewayLimits = {
  frameBytes: 32 * 1024,
  messageBytes: 128 * 1024,
  idleMs: 10 * 60_000,
  maxConnectionMs: 2 * 60 * 60_000,
  integrationTimeoutMs: 29_000,
};

/** Which function serves which route (function names as registered in LocalFunctions). */
export interface GatewayRoutes {
  /** REQUEST authorizer on `$connect`. */
  authorizer?: string;
  /**
   * The authorizer's identity sources, e.g. `route.request.header.Sec-WebSocket-Protocol`: when one is missing API Gateway
   * answers 401 without invoking the authorizer.
   */
  identitySource?: string[];
  /** Route key → function name: `$connect`, `$disconnect`, `$default` and custom route keys (`send`, …). */
  routes: Record<string, string>;
}

export interface GatewayOptions {
  api: ApiInfo;
  functions: LocalFunctions;
  routes: GatewayRoutes;
  limits?: Partial<GatewayLimits>;
  port?: number;
  host?: string;
}

/** A connection as the control API lists it. */
export interface GatewayConnection {
  connectionId: string;
  connectedAt: number;
  lastActiveAt: number;
  principalId?: string;
  sourceIp: string;
}

/** Every event the gateway sent to a function, in order (tests compare them with the AWS fixtures). */
export interface RecordedInvocation {
  functionName: string;
  routeKey: string;
  event: unknown;
}

interface LiveConnection {
  info: ConnectionInfo;
  socket?: WebSocket;
  lastActiveAt: number;
  timers: NodeJS.Timeout[];
  /** True once `$disconnect` has been scheduled (it runs at most once). */
  closed: boolean;
}

export class GatewayEmulator {
  readonly limits: GatewayLimits;
  readonly invocations: RecordedInvocation[] = [];
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly live = new Map<string, LiveConnection>();
  private readonly pending = new Set<Promise<unknown>>();
  /** The subprotocol each handshake's `$connect` integration selected (its `Sec-WebSocket-Protocol` header). */
  private readonly selectedProtocols = new WeakMap<IncomingMessage, string>();
  private port = 0;

  constructor(private readonly options: GatewayOptions) {
    this.limits = { ...API_GATEWAY_LIMITS, ...options.limits };
    this.server = createServer((req, res) => void this.onHttp(req, res));
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.limits.messageBytes,
      // API Gateway answers with the subprotocol the $connect integration returned, and with none when it returned
      // none (then a client that offered some drops the connection). `ws` alone would pick the first one offered.
      // API Gateway developer guide, "Set up a $connect route that requires a WebSocket subprotocol":
      // https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-connect-route-subprotocol.html
      handleProtocols: (_offered, req) => this.selectedProtocols.get(req) ?? false,
    });
    // `ws` asks handleProtocols only when the client offered some. The guide documents no filtering of the
    // integration's header, so the answer carries it as returned (assumed, not observed on AWS).
    this.wss.on("headers", (headers: string[], req: IncomingMessage) => {
      const selected = this.selectedProtocols.get(req);
      if (selected !== undefined && !headers.some((h) => /^sec-websocket-protocol:/i.test(h))) headers.push(`Sec-WebSocket-Protocol: ${selected}`);
    });
    this.server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.onUpgrade(req, socket, head));
  }

  async start(): Promise<this> {
    this.port = await listen(this.server, this.options.port ?? 0, this.options.host ?? "127.0.0.1");
    return this;
  }

  /** The URL clients connect to: `ws://127.0.0.1:<port>/<stage>`. */
  get url(): string {
    return `ws://127.0.0.1:${this.port}/${this.options.api.stage}`;
  }

  /** The @connections endpoint as the SDK takes it (like `https://<apiId>.execute-api.<region>.amazonaws.com/<stage>`). */
  get connectionsEndpoint(): string {
    return `http://127.0.0.1:${this.port}/${this.options.api.stage}`;
  }

  connections(): GatewayConnection[] {
    return [...this.live.values()]
      .filter((c) => c.socket)
      .map((c) => ({
        connectionId: c.info.connectionId,
        connectedAt: c.info.connectedAt,
        lastActiveAt: c.lastActiveAt,
        principalId: c.info.authorizer?.principalId as string | undefined,
        sourceIp: c.info.sourceIp,
      }));
  }

  /** Drops a connection abruptly, as a network failure would (the client sees 1006; `$disconnect` still runs). */
  drop(connectionId: string): boolean {
    const conn = this.live.get(connectionId);
    if (!conn?.socket) return false;
    conn.socket.terminate();
    return true;
  }

  /** Resolves when every route invocation started so far has settled. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async stop(): Promise<void> {
    // Going away: each client gets its close frame and answers it before the sockets are cut (bounded).
    const sockets = [...this.live.values()].flatMap((conn) => (conn.socket ? [conn.socket] : []));
    const closed = sockets.map((ws) => new Promise<void>((r) => (ws.readyState === ws.CLOSED ? r() : ws.once("close", () => r()))));
    for (const ws of sockets) ws.close(1001, "Going away");
    await Promise.race([Promise.all([this.idle(), ...closed]), new Promise((r) => setTimeout(r, 2_000))]);
    for (const conn of this.live.values()) conn.socket?.terminate();
    this.wss.close();
    await close(this.server);
  }

  // ---- the WebSocket side ---------------------------------------------------------------------------------

  private async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "127.0.0.1"}`);
    const { stage } = this.options.api;
    // API Gateway serves the stage root only; any path after it is refused.
    if (url.pathname !== `/${stage}` && url.pathname !== `/${stage}/` && url.pathname !== "/") {
      return refuse(socket, 403, "Forbidden");
    }
    const info: ConnectionInfo = {
      connectionId: gatewayId(),
      connectedAt: Date.now(),
      sourceIp: (req.socket.remoteAddress ?? "127.0.0.1").replace(/^::ffff:/, ""),
      userAgent: req.headers["user-agent"] ?? "",
      domainName: req.headers.host ?? `127.0.0.1:${this.port}`,
    };
    const handshake = handshakeRequest(req.rawHeaders, url, info.sourceIp);
    const { routes } = this.options;

    if (routes.authorizer) {
      const missing = (routes.identitySource ?? []).some((source) => !identityPresent(source, req, url));
      if (missing) return refuse(socket, 401, "Unauthorized");
      const event = authorizerEvent(this.options.api, info, handshake);
      const started = Date.now();
      let result: unknown;
      try {
        result = await this.invoke(routes.authorizer, "$connect", event);
      } catch (error) {
        // A REQUEST authorizer throws "Unauthorized" to answer 401; any other failure is a 500.
        const unauthorized = error instanceof Error && error.message === "Unauthorized";
        return refuse(socket, unauthorized ? 401 : 500, unauthorized ? "Unauthorized" : "Internal Server Error");
      }
      const decision = evaluateAuthorizerResult(result, event.methodArn);
      if (!decision.allow) return refuse(socket, decision.status, decision.status === 403 ? "Forbidden" : "Internal Server Error");
      info.authorizer = { ...decision.context, principalId: decision.principalId, integrationLatency: Date.now() - started };
    }

    const conn: LiveConnection = { info, lastActiveAt: Date.now(), timers: [], closed: false };
    this.live.set(info.connectionId, conn);
    const connectFn = routes.routes.$connect;
    if (connectFn) {
      try {
        const result = await this.withIntegrationTimeout(this.invoke(connectFn, "$connect", connectEvent(this.options.api, info, handshake)));
        const status = statusOf(result);
        if (status !== undefined && (status < 200 || status >= 300)) {
          this.live.delete(info.connectionId);
          return refuse(socket, status, "Forbidden");
        }
        const protocol = subprotocolOf(result);
        if (protocol !== undefined) this.selectedProtocols.set(req, protocol);
      } catch {
        this.live.delete(info.connectionId);
        return refuse(socket, 500, "Internal Server Error");
      }
    }
    if (socket.destroyed) {
      // The client left while $connect ran: API Gateway still delivers $disconnect for a connected integration.
      return this.disconnect(conn, 1006, "");
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onOpen(conn, ws));
  }

  private onOpen(conn: LiveConnection, ws: WebSocket): void {
    conn.socket = ws;
    const { limits } = this;
    watchFrameSizes(socketOf(ws), limits.frameBytes, () => ws.close(1009, "Frame too large"));
    const resetIdle = () => {
      clearTimeout(conn.timers[0]);
      conn.timers[0] = setTimeout(() => ws.close(1001, "Going away"), limits.idleMs);
    };
    resetIdle();
    conn.timers[1] = setTimeout(() => ws.close(1001, "Going away"), limits.maxConnectionMs);
    ws.on("message", (data: RawData, isBinary: boolean) => {
      if (ws.readyState !== ws.OPEN) return;
      conn.lastActiveAt = Date.now();
      resetIdle();
      this.onClientMessage(conn, toBuffer(data), isBinary);
    });
    ws.on("close", (code: number, reason: Buffer) => this.disconnect(conn, code, reason.toString("utf8")));
    ws.on("error", () => undefined);
  }

  private onClientMessage(conn: LiveConnection, data: Buffer, isBinary: boolean): void {
    const body = isBinary ? data.toString("base64") : data.toString("utf8");
    const routeKey = isBinary ? "$default" : this.selectRoute(data.toString("utf8"));
    const fn = this.options.routes.routes[routeKey];
    const requestId = gatewayId();
    if (!fn) return this.sendGatewayMessage(conn, "Forbidden", requestId);
    const event = messageEvent(this.options.api, conn.info, routeKey, body, isBinary);
    const run = this.invoke(fn, routeKey, event);
    const outcome = this.withIntegrationTimeout(run).then(
      () => undefined,
      (error: unknown) =>
        this.sendGatewayMessage(
          conn,
          error instanceof IntegrationTimeout ? "Endpoint request timed out" : "Internal server error",
          event.requestContext.requestId,
        ),
    );
    this.track(outcome);
    this.track(run.catch(() => undefined));
  }

  /** Route selection expression `$request.body.action`; `$default` when the body is not JSON or names no route. */
  private selectRoute(body: string): string {
    try {
      const parsed: unknown = JSON.parse(body);
      if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
        const action = (parsed as { action?: unknown }).action;
        if (typeof action === "string" && Object.hasOwn(this.options.routes.routes, action) && !action.startsWith("$")) return action;
      }
    } catch {
      // not JSON: $default
    }
    return "$default";
  }

  /** API Gateway's own frames to the client, e.g. `{"message": "Endpoint request timed out", …}`. */
  private sendGatewayMessage(conn: LiveConnection, message: string, requestId: string): void {
    if (conn.socket?.readyState !== conn.socket?.OPEN) return;
    conn.socket?.send(JSON.stringify({ message, connectionId: conn.info.connectionId, requestId }));
  }

  private disconnect(conn: LiveConnection, code: number, reason: string): void {
    if (conn.closed) return;
    conn.closed = true;
    conn.timers.forEach(clearTimeout);
    this.live.delete(conn.info.connectionId);
    const fn = this.options.routes.routes.$disconnect;
    if (!fn) return;
    const run = this.invoke(fn, "$disconnect", disconnectEvent(this.options.api, conn.info, code, reason));
    this.track(run.catch(() => undefined));
  }

  // ---- the @connections management API --------------------------------------------------------------------

  private async onHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const match = /^\/([^/]+)\/@connections\/([^/]+)$/.exec(url.pathname);
    if (!match || match[1] !== this.options.api.stage) return sendAwsError(res, 403, "ForbiddenException", "Forbidden");
    // The SDK signs every request with SigV4; an unsigned call is refused as real API Gateway does.
    if (!req.headers.authorization) return sendAwsError(res, 403, "ForbiddenException", "Missing Authentication Token");
    const connectionId = decodeURIComponent(match[2]);
    const conn = this.live.get(connectionId);
    if (req.method === "POST") {
      const body = await readBody(req, this.limits.messageBytes);
      if (body === null) return sendAwsError(res, 413, "PayloadTooLargeException", "Message too long");
      if (!conn?.socket || conn.socket.readyState !== conn.socket.OPEN) return sendAwsError(res, 410, "GoneException", "");
      await sendFragmented(conn.socket, body, this.limits.frameBytes);
      conn.lastActiveAt = Date.now();
      res.writeHead(200, { "content-length": 0 });
      return void res.end();
    }
    await readBody(req);
    if (!conn?.socket) return sendAwsError(res, 410, "GoneException", "");
    if (req.method === "GET") {
      return sendJson(res, 200, {
        connectedAt: new Date(conn.info.connectedAt).toISOString(),
        identity: { sourceIp: conn.info.sourceIp, userAgent: conn.info.userAgent },
        lastActiveAt: new Date(conn.lastActiveAt).toISOString(),
      });
    }
    if (req.method === "DELETE") {
      // AWS documents no close code for a deleted connection; 1000 (normal closure) is our choice.
      conn.socket.close(1000, "");
      res.writeHead(204);
      return void res.end();
    }
    return sendAwsError(res, 403, "ForbiddenException", "Forbidden");
  }

  // ---- plumbing -------------------------------------------------------------------------------------------

  private invoke(functionName: string, routeKey: string, event: unknown): Promise<unknown> {
    this.invocations.push({ functionName, routeKey, event });
    return this.options.functions.invoke(functionName, event);
  }

  private withIntegrationTimeout<T>(run: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new IntegrationTimeout()), this.limits.integrationTimeoutMs);
    });
    return Promise.race([run, timeout]).finally(() => clearTimeout(timer));
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }
}

class IntegrationTimeout extends Error {
  constructor() {
    super("Endpoint request timed out");
  }
}

function socketOf(ws: WebSocket): Duplex {
  return (ws as unknown as { _socket: Duplex })._socket;
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function statusOf(result: unknown): number | undefined {
  if (typeof result === "object" && result !== null && "statusCode" in result) {
    const status = (result as { statusCode: unknown }).statusCode;
    return typeof status === "number" ? status : undefined;
  }
  return undefined;
}

/** The `Sec-WebSocket-Protocol` header of a Lambda proxy result (any casing), if it has one. */
function subprotocolOf(result: unknown): string | undefined {
  if (typeof result !== "object" || result === null || !("headers" in result)) return undefined;
  const headers = (result as { headers: unknown }).headers;
  if (typeof headers !== "object" || headers === null) return undefined;
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === "sec-websocket-protocol" && typeof value === "string" && value !== "") return value;
  }
  return undefined;
}

/** An identity source such as `route.request.header.Sec-WebSocket-Protocol`: is it present in the handshake? */
function identityPresent(source: string, req: IncomingMessage, url: URL): boolean {
  const [, , kind, name] = source.split(".");
  if (kind === "querystring") return Boolean(url.searchParams.get(name));
  if (kind === "header") return Boolean(req.headers[name.toLowerCase()]);
  return true;
}

function refuse(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ message });
  socket.end(
    `HTTP/1.1 ${status} ${message}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `x-amzn-errortype: ${status === 401 ? "UnauthorizedException" : status === 403 ? "ForbiddenException" : "InternalServerErrorException"}\r\n` +
      `Connection: close\r\n\r\n${body}`,
  );
}

/**
 * Messages over the frame limit go out as several frames (the guide: "messages larger than 32 KB must be split
 * into multiple frames, each 32 KB or smaller. This applies to @connections commands").
 */
function sendFragmented(ws: WebSocket, data: Buffer, frameBytes: number): Promise<void> {
  const binary = !Buffer.from(data.toString("utf8"), "utf8").equals(data);
  return new Promise((resolve) => {
    if (data.length <= frameBytes) return ws.send(data, { binary }, () => resolve());
    for (let offset = 0; offset < data.length; offset += frameBytes) {
      const last = offset + frameBytes >= data.length;
      ws.send(data.subarray(offset, offset + frameBytes), { binary, fin: last }, last ? () => resolve() : undefined);
    }
  });
}
