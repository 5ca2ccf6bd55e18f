/**
 * Keep-alive HTTP/1.1 connections to one endpoint, for the signed calls a worker makes many times a second
 * (./signed-http.ts): the @connections posts of every answer (about 20 a second each) and the DynamoDB and SQS calls.
 * Node's http client builds a ClientRequest, an IncomingMessage stream and the agent's bookkeeping for each of them;
 * here a request is one socket write and its answer is parsed from the socket's data events, which halves the
 * client's CPU per call (`npm run bench -- --only calls`).
 *
 * What it speaks is what those endpoints answer: HTTP/1.1 (RFC 9112) with a body framed by Content-Length or chunked
 * transfer coding, or ended by the connection's close; 1xx interim answers are skipped. A connection is reused when
 * its answer was framed and neither side asked to close it, up to `maxSockets` connections, the rest of the requests
 * waiting in order. A connection that fails or closes before its answer is complete fails its request with a
 * Node.js-style error code (ECONNRESET when the socket gave none), which the caller's retry policy knows.
 */
import * as net from "node:net";
import * as tls from "node:tls";

export interface Http1Request {
  method: string;
  /** Path and query as sent (already percent-encoded). */
  path: string;
  /** Header names and values; `host` and `content-length` are the caller's to give. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface Http1Response {
  status: number;
  /** Lower-case names; a repeated header's values joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

export interface Http1PoolOptions {
  /** Connections kept at most; more requests wait for one. */
  maxSockets: number;
  /** Certificates trusted beside Node's bundled roots (an endpoint with a private CA; the tests' own). */
  extraCa?: string[];
}

/** A request in flight or waiting: `cancel` ends it with `reason` (the connection it used is closed). */
export interface PendingRequest {
  response: Promise<Http1Response>;
  cancel(reason: Error): void;
}

/** Header names and values that could end a header line early are refused, as Node's http client refuses them. */
const UNSAFE_HEADER_TEXT = /[^\t\x20-\x7e]/;
const CRLF = Buffer.from("\r\n");
const HEAD_END = Buffer.from("\r\n\r\n");
/** An answer's head larger than this is refused (Node's default --max-http-header-size is 16 KB). */
const MAX_HEAD_BYTES = 16 * 1024;
const EMPTY = Buffer.alloc(0);

interface Job {
  request: Http1Request;
  resolve(response: Http1Response): void;
  reject(error: Error): void;
  connection?: Connection;
  settled: boolean;
}

export class Http1Pool {
  private readonly idle: Connection[] = [];
  private readonly busy = new Set<Connection>();
  private readonly waiting: Job[] = [];
  private open = 0;
  private closed = false;
  private tlsSession: Buffer | undefined;
  private readonly secure: boolean;
  private readonly host: string;
  private readonly port: number;
  /** The Host header when the request gives none: the endpoint's host, with its port unless the scheme's default. */
  private readonly hostHeader: string;

  constructor(
    endpoint: URL,
    private readonly options: Http1PoolOptions,
  ) {
    if (endpoint.protocol !== "http:" && endpoint.protocol !== "https:") throw new Error(`${endpoint.protocol} is not an HTTP endpoint`);
    this.secure = endpoint.protocol === "https:";
    // URL keeps IPv6 literals in brackets; the socket wants the bare address.
    this.host = endpoint.hostname.replace(/^\[(.*)\]$/, "$1");
    this.port = Number(endpoint.port) || (this.secure ? 443 : 80);
    this.hostHeader = endpoint.host;
  }

  /** Sends the request on an idle connection, a new one, or the first that frees up. */
  request(request: Http1Request): PendingRequest {
    let job!: Job;
    const response = new Promise<Http1Response>((resolve, reject) => {
      job = { request, resolve, reject, settled: false };
    });
    if (this.closed) this.fail(job, poolClosed());
    else {
      try {
        validateHeaders(request);
        this.dispatch(job);
      } catch (error) {
        this.fail(job, error as Error);
      }
    }
    return {
      response,
      cancel: (reason: Error) => {
        if (job.settled) return;
        const queued = this.waiting.indexOf(job);
        if (queued >= 0) this.waiting.splice(queued, 1);
        this.fail(job, reason);
        job.connection?.destroy();
      },
    };
  }

  /** Closes every connection; requests in flight fail. */
  destroy(): void {
    this.closed = true;
    for (const job of this.waiting.splice(0)) this.fail(job, poolClosed());
    for (const connection of this.idle.splice(0)) connection.destroy();
    for (const connection of [...this.busy]) connection.destroy();
  }

  private dispatch(job: Job): void {
    const connection = this.idle.pop()?.ref() ?? (this.open < this.options.maxSockets ? this.connect() : undefined);
    if (!connection) {
      this.waiting.push(job);
      return;
    }
    this.busy.add(connection);
    job.connection = connection;
    connection.send(job);
  }

  private connect(): Connection {
    this.open++;
    const socket = this.secure
      ? tls.connect({ host: this.host, port: this.port, servername: net.isIP(this.host) ? undefined : this.host, ALPNProtocols: ["http/1.1"], session: this.tlsSession, ...(this.options.extraCa ? { ca: [...tls.rootCertificates, ...this.options.extraCa] } : {}) })
      : net.connect({ host: this.host, port: this.port });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 1000);
    // A resumed TLS session saves the next connection's full handshake, as Node's agent does.
    if (socket instanceof tls.TLSSocket) socket.on("session", (session: Buffer) => (this.tlsSession = session));
    return new Connection(socket, this.hostHeader, {
      settle: (job, outcome) => (outcome instanceof Error ? this.fail(job, outcome) : this.succeed(job, outcome)),
      released: (connection) => {
        this.busy.delete(connection);
        const next = this.waiting.shift();
        if (next && !this.closed) {
          this.busy.add(connection);
          next.connection = connection;
          connection.send(next);
        } else if (this.closed) connection.destroy();
        // Unreferenced while idle, as Node's agent does with its free sockets: a kept connection never holds the
        // process open (a script, a test, a container draining) after its last call.
        else this.idle.push(connection.unref());
      },
      closed: (connection) => {
        this.open--;
        this.busy.delete(connection);
        const at = this.idle.indexOf(connection);
        if (at >= 0) this.idle.splice(at, 1);
        // A place freed up: the first waiting request gets a new connection.
        const next = this.waiting.shift();
        if (next) this.dispatch(next);
      },
    });
  }

  private succeed(job: Job, response: Http1Response): void {
    if (job.settled) return;
    job.settled = true;
    job.resolve(response);
  }

  private fail(job: Job, error: Error): void {
    if (job.settled) return;
    job.settled = true;
    job.reject(error);
  }
}

function poolClosed(): Error {
  return Object.assign(new Error("the connection pool is closed"), { code: "ERR_POOL_CLOSED" });
}

/** Header names already checked: a client sends the same few names over and over. */
const checkedNames = new Set<string>();
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function validateHeaders(request: Http1Request): void {
  if (!/^[A-Z]+$/.test(request.method)) throw new TypeError(`invalid HTTP method ${JSON.stringify(request.method)}`);
  if (request.path[0] !== "/" || /[^\x21-\x7e]/.test(request.path)) throw new TypeError(`invalid request path ${JSON.stringify(request.path)}`);
  const { headers } = request;
  for (const name in headers) {
    if (!checkedNames.has(name)) {
      if (!TOKEN.test(name)) throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
      if (checkedNames.size < 256) checkedNames.add(name);
    }
    if (UNSAFE_HEADER_TEXT.test(headers[name])) throw new TypeError(`invalid value for header ${name}: ${JSON.stringify(headers[name])}`);
  }
}

interface ConnectionEvents {
  settle(job: Job, outcome: Http1Response | Error): void;
  /** The answer was read and the connection may carry another request. */
  released(connection: Connection): void;
  closed(connection: Connection): void;
}

/** One socket, one request at a time, and the parser of its answers. */
class Connection {
  private job: Job | undefined;
  private buffered: Buffer = EMPTY;
  private parser: ResponseParser | undefined;
  private ended = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly hostHeader: string,
    private readonly events: ConnectionEvents,
  ) {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("end", () => this.onEnd());
    socket.on("error", (error) => this.close(error));
    socket.on("close", () => this.close());
  }

  send(job: Job): void {
    this.job = job;
    this.parser = new ResponseParser(job.request.method);
    const { method, path, headers, body } = job.request;
    let head = `${method} ${path} HTTP/1.1\r\n`;
    if (!("host" in headers)) head += `host: ${this.hostHeader}\r\n`;
    for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
    head += "\r\n";
    const headBytes = Buffer.byteLength(head, "latin1");
    const message = Buffer.allocUnsafe(headBytes + body.length);
    message.write(head, 0, headBytes, "latin1");
    body.copy(message, headBytes);
    this.socket.write(message);
  }

  destroy(): void {
    this.socket.destroy();
  }

  ref(): this {
    this.socket.ref();
    return this;
  }

  unref(): this {
    this.socket.unref();
    return this;
  }

  private onData(chunk: Buffer): void {
    if (!this.job || !this.parser) {
      // Bytes nobody asked for: the connection's state is unknown, so it is not reused.
      this.socket.destroy();
      return;
    }
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    let outcome: ParseOutcome;
    try {
      outcome = this.parser.parse(this.buffered);
    } catch (error) {
      this.close(error as Error);
      return;
    }
    this.buffered = outcome.rest;
    if (outcome.response) this.complete(outcome.response, outcome.reusable);
  }

  private onEnd(): void {
    this.ended = true;
    // A body read until the close is complete now.
    const response = this.parser?.endOfStream();
    if (response) this.complete(response, false);
    this.socket.end();
  }

  private complete(response: Http1Response, reusable: boolean): void {
    const job = this.job!;
    this.job = undefined;
    this.parser = undefined;
    this.events.settle(job, response);
    if (reusable && !this.ended && this.buffered.length === 0 && !this.socket.destroyed) this.events.released(this);
    else this.socket.destroy();
  }

  private close(error?: Error): void {
    const job = this.job;
    this.job = undefined;
    this.parser = undefined;
    if (job) {
      const reason = error ?? Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
      if (error && (error as { code?: unknown }).code === undefined) Object.assign(error, { code: "ECONNRESET" });
      this.events.settle(job, reason);
    }
    if (!this.socket.destroyed) this.socket.destroy();
    if (this.socket.listenerCount("close") > 0) {
      this.socket.removeAllListeners("close");
      this.socket.removeAllListeners("data");
      this.socket.removeAllListeners("end");
      // Later socket errors are expected after a destroy; keep one listener so none is unhandled.
      this.socket.removeAllListeners("error");
      this.socket.on("error", () => undefined);
      this.events.closed(this);
    }
  }
}

interface ParseOutcome {
  response?: Http1Response;
  /** The connection may carry another request after this answer. */
  reusable: boolean;
  /** Bytes after the parsed part (kept for the next call while incomplete). */
  rest: Buffer;
}

/** Parses one answer from the bytes read so far; called again with more until it returns the response. */
class ResponseParser {
  private status = 0;
  private headers: Record<string, string> = {};
  private keepAlive = true;
  private phase: "head" | "length" | "chunked" | "close" = "head";
  private remaining = 0;
  private readonly parts: Buffer[] = [];
  private chunkState: "size" | "data" | "data-end" | "trailers" = "size";

  constructor(private readonly method: string) {}

  parse(input: Buffer): ParseOutcome {
    let data = input;
    while (this.phase === "head") {
      const end = data.indexOf(HEAD_END);
      if (end < 0) {
        if (data.length > MAX_HEAD_BYTES) throw parseError("the answer's head is too large");
        return { reusable: false, rest: data };
      }
      this.readHead(data.toString("latin1", 0, end));
      data = data.subarray(end + HEAD_END.length);
    }
    if (this.phase === "length") {
      const take = Math.min(this.remaining, data.length);
      if (take > 0) this.parts.push(data.subarray(0, take));
      this.remaining -= take;
      data = data.subarray(take);
      if (this.remaining === 0) return this.done(data);
      return { reusable: false, rest: EMPTY };
    }
    if (this.phase === "chunked") return this.parseChunked(data);
    // Read until the connection closes (endOfStream).
    if (data.length > 0) this.parts.push(data);
    return { reusable: false, rest: EMPTY };
  }

  /** The connection ended: an answer whose body ends with the connection is complete. */
  endOfStream(): Http1Response | undefined {
    if (this.phase !== "close") return undefined;
    return this.response();
  }

  private readHead(text: string): void {
    // "HTTP/1.x NNN reason": the version's minor digit at 7, the status at 9–11.
    const status = Number(text.slice(9, 12));
    const minor = text.charCodeAt(7);
    if (!text.startsWith("HTTP/1.") || (minor !== 48 && minor !== 49) || text.charCodeAt(8) !== 32 || !(status >= 100 && status <= 999) || (text.length > 12 && text.charCodeAt(12) !== 32 && text.charCodeAt(12) !== 13)) {
      throw parseError(`not an HTTP/1.x answer: ${JSON.stringify(text.slice(0, 40))}`);
    }
    const headers: Record<string, string> = {};
    let at = text.indexOf("\r\n");
    while (at >= 0) {
      const start = at + 2;
      at = text.indexOf("\r\n", start);
      const line = text.slice(start, at < 0 ? undefined : at);
      const colon = line.indexOf(":");
      if (colon <= 0) throw parseError(`malformed header line ${JSON.stringify(line.slice(0, 40))}`);
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    // 1xx answers are interim (100 Continue, 103 Early Hints): the final answer follows.
    if (status < 200) return;
    this.status = status;
    this.headers = headers;
    const connection = headers.connection?.toLowerCase() ?? "";
    this.keepAlive = minor === 49 ? !connection.includes("close") : connection.includes("keep-alive");
    const length = headers["content-length"];
    if (this.method === "HEAD" || status === 204 || status === 304) {
      this.phase = "length";
      this.remaining = 0;
    } else if (headers["transfer-encoding"]?.toLowerCase().includes("chunked")) {
      this.phase = "chunked";
    } else if (length !== undefined) {
      if (!/^\d+$/.test(length)) throw parseError(`invalid content-length ${JSON.stringify(length)}`);
      this.phase = "length";
      this.remaining = Number(length);
    } else {
      this.phase = "close";
      this.keepAlive = false;
    }
  }

  private parseChunked(input: Buffer): ParseOutcome {
    let data = input;
    for (;;) {
      if (this.chunkState === "size") {
        const eol = data.indexOf(CRLF);
        if (eol < 0) {
          if (data.length > 1024) throw parseError("chunk size line too long");
          return { reusable: false, rest: data };
        }
        const size = /^([0-9a-fA-F]+)[ \t]*(?:;.*)?$/.exec(data.toString("latin1", 0, eol));
        if (!size) throw parseError("malformed chunk size");
        this.remaining = parseInt(size[1], 16);
        data = data.subarray(eol + 2);
        this.chunkState = this.remaining === 0 ? "trailers" : "data";
      } else if (this.chunkState === "data") {
        const take = Math.min(this.remaining, data.length);
        if (take > 0) this.parts.push(data.subarray(0, take));
        this.remaining -= take;
        data = data.subarray(take);
        if (this.remaining > 0) return { reusable: false, rest: EMPTY };
        this.chunkState = "data-end";
      } else if (this.chunkState === "data-end") {
        if (data.length < 2) return { reusable: false, rest: data };
        if (data[0] !== 13 || data[1] !== 10) throw parseError("chunk not followed by CRLF");
        data = data.subarray(2);
        this.chunkState = "size";
      } else {
        // Trailer lines, ended by an empty line.
        const eol = data.indexOf(CRLF);
        if (eol < 0) return { reusable: false, rest: data };
        data = data.subarray(eol + 2);
        if (eol === 0) return this.done(data);
      }
    }
  }

  private done(rest: Buffer): ParseOutcome {
    return { response: this.response(), reusable: this.keepAlive, rest };
  }

  private response(): Http1Response {
    const body = this.parts.length === 0 ? EMPTY : this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts);
    return { status: this.status, headers: this.headers, body };
  }
}

function parseError(message: string): Error {
  return Object.assign(new Error(`HTTP parse error: ${message}`), { code: "HPE_INVALID" });
}
