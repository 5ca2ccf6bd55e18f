/**
 * The WebSocket at the page's own origin, as CloudFront puts it in production: `/ws/<region>` on the web server is
 * passed through to that region's gateway at its stage path (infra/web-edge.ts rewrites the path the same way;
 * API Gateway refuses any path after the stage). The page's WebSocket URL is then as stable as the page's: a
 * restarted `npm start` on the same PORT is reachable at the same URL, so an open page reconnects by itself.
 *
 * A byte-for-byte pass-through after the rewritten request head, so the handshake (subprotocols included), frames
 * and close codes are the gateway's own. Like a CloudFront origin's custom headers, an origin's `headers` are added
 * to every request passed to it and replace a viewer's header of the same name: that is how the gateway knows the
 * handshake came through the edge (runtime/auth/origin-verify.ts).
 */
import type { IncomingMessage, Server } from "node:http";
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";

export interface EdgeOrigin {
  /** The gateway's port on 127.0.0.1. */
  port: number;
  /** The stage path the gateway serves, e.g. `/local`. */
  path: string;
  /** Headers added to every request passed to this origin (a viewer's header of the same name is dropped). */
  headers?: Readonly<Record<string, string>>;
}

/** `/ws/<region>` (optionally with a trailing slash) → region. */
const EDGE_PATH = /^\/ws\/([a-z0-9-]{1,32})\/?$/;

export function edgePath(region: string): string {
  return `/ws/${region}`;
}

export class WebSocketEdge {
  private readonly sockets = new Set<Duplex>();

  constructor(private readonly origins: () => ReadonlyMap<string, EdgeOrigin>) {}

  attach(server: Server): void {
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => this.pass(req, socket, head));
  }

  /** Ends every pass-through still open (the gateway normally closed them first). */
  closeAll(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  private pass(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? "/", "http://localhost");
    const region = EDGE_PATH.exec(url.pathname)?.[1];
    const origin = region === undefined ? undefined : this.origins().get(region);
    if (origin === undefined) {
      socket.end("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
      return;
    }
    this.sockets.add(socket);
    const upstream: Socket = connect(origin.port, "127.0.0.1");
    let answered = false;
    upstream.once("data", () => (answered = true));
    upstream.on("error", () => {
      if (!answered) socket.end("HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
      else socket.destroy();
    });
    socket.on("error", () => upstream.destroy());
    // A side that closes is ended on the other, not destroyed: what it sent last (an error frame, then the close)
    // is still delivered.
    socket.on("close", () => {
      this.sockets.delete(socket);
      upstream.end();
    });
    upstream.on("close", () => socket.end());

    // The viewer's headers, less Host (CloudFront's AllViewerExceptHostHeader policy): the origin sees its own.
    // Then the origin's custom headers, which replace any the viewer sent under the same names.
    const added = Object.entries(origin.headers ?? {});
    const replaced = new Set(["host", ...added.map(([name]) => name.toLowerCase())]);
    const lines = [`${req.method ?? "GET"} ${origin.path}${url.search} HTTP/1.1`, `Host: 127.0.0.1:${origin.port}`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (!replaced.has(req.rawHeaders[i]!.toLowerCase())) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    }
    for (const [name, value] of added) lines.push(`${name}: ${value}`);
    upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
    if (head.length > 0) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  }
}
