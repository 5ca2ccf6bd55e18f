/**
 * The API Gateway @connections API (PostToConnection, DeleteConnection) as plain HTTP requests over one keep-alive
 * agent per endpoint, signed with Signature Version 4. A worker posts one frame per turn every FLUSH_INTERVAL_MS; the
 * SDK client's middleware stack (endpoint rules, schema serde, user agent, retry tokens, its generic signer) cost about
 * 1 ms of CPU per post, this about 0.4 ms, nearly all of it the HTTP request itself (measured locally at 10 posts
 * every 50 ms; docs/BENCHMARKS.md, "Worker modes").
 *
 * What the SDK client did and this keeps (the caller still gets the region, endpoint and credentials provider from
 * the SDK client, so the container's or the function's credential chain is unchanged):
 * - SigV4 for service `execute-api`, the same canonical request as @smithy/signature-v4 (test/runtime/connections-api.test.ts
 *   checks the signature against it), with the session token and the payload hash;
 * - 410 GoneException is an answer ("gone"), not an error; any other failure throws an error named by its
 *   `x-amzn-errortype` with `$metadata.httpStatusCode`, as the SDK's exceptions are;
 * - the SDK's standard retries: at most 3 attempts with full-jitter exponential backoff (100 ms base, 500 ms for
 *   throttling) on throttling (429, LimitExceededException), 5xx and network errors, drawn from a retry quota of 500
 *   (5 per retry, 10 after a timeout, refunded on success), and a clock corrected from the server's Date header
 *   when a request is refused for a skewed clock (@smithy/core `retry` and `StandardRetryStrategy`);
 * - the caller's abort signal bounds the whole call, retries included.
 */
import { createHash, createHmac } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";

export interface ConnectionsApiCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface ConnectionsApiTarget {
  /** The stage's URL, `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}` (http:// for a local emulator). */
  endpoint: URL;
  /** The region the requests are signed for (the API's). */
  region: string;
  /** Called before every request: the SDK's memoized provider, which refreshes credentials before they expire. */
  credentials: () => Promise<ConnectionsApiCredentials>;
}

export interface ConnectionsApiOptions {
  maxAttempts?: number;
  now?: () => number;
  random?: () => number;
}

export type ConnectionAnswer = "ok" | "gone";

/** A refused or failed call, shaped like the SDK's exceptions (`name`, `$metadata.httpStatusCode`). */
export class ConnectionsApiError extends Error {
  readonly $metadata: { httpStatusCode: number; attempts: number };
  constructor(name: string, message: string, httpStatusCode: number, attempts: number) {
    super(message);
    this.name = name;
    this.$metadata = { httpStatusCode, attempts };
  }
}

const SERVICE = "execute-api";
const ALGORITHM = "AWS4-HMAC-SHA256";
const DEFAULT_MAX_ATTEMPTS = 3;
const RETRY_BASE_MS = 100;
const THROTTLING_RETRY_BASE_MS = 500;
const MAX_RETRY_DELAY_MS = 20_000;
const RETRY_QUOTA = 500;
const RETRY_COST = 5;
const TIMEOUT_RETRY_COST = 10;
/** The SDK treats a server clock more than 5 minutes away as skew to correct. */
const CLOCK_SKEW_MS = 5 * 60_000;
const THROTTLING_ERRORS = new Set(["LimitExceededException", "TooManyRequestsException", "ThrottlingException", "Throttling", "RequestLimitExceeded"]);
const CLOCK_SKEW_ERRORS = new Set(["AuthFailure", "InvalidSignatureException", "RequestExpired", "RequestInTheFuture", "RequestTimeTooSkewed", "SignatureDoesNotMatch"]);
const NETWORK_ERRORS = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);

/** RFC 3986 escaping as the SDK does it (encodeURIComponent plus !'()*). */
function escapeUri(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** `20261205T001053Z` and `20261205` for a time in ms. */
export function amzDate(ms: number): { long: string; short: string } {
  const long = new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  return { long, short: long.slice(0, 8) };
}

interface SigningKey {
  scope: string;
  accessKeyId: string;
  secretAccessKey: string;
  key: Buffer;
}

export interface SignInput {
  method: string;
  /** The request's path as sent (already percent-encoded). */
  path: string;
  host: string;
  body: Buffer;
  /** Headers to sign beside host, x-amz-date, x-amz-content-sha256 and the session token (lower-case names). */
  headers: Record<string, string>;
}

/** Signs requests for one region; keeps the day's signing key (four HMACs) until the day or the credentials change. */
export class SigV4Signer {
  private cached: SigningKey | undefined;

  constructor(private readonly region: string) {}

  /** The headers to send: the input's, plus host, x-amz-date, x-amz-content-sha256, x-amz-security-token, authorization. */
  sign(input: SignInput, credentials: ConnectionsApiCredentials, nowMs: number): Record<string, string> {
    const date = amzDate(nowMs);
    const payloadHash = sha256Hex(input.body);
    const headers: Record<string, string> = { ...input.headers, host: input.host, "x-amz-content-sha256": payloadHash, "x-amz-date": date.long };
    if (credentials.sessionToken) headers["x-amz-security-token"] = credentials.sessionToken;
    const names = Object.keys(headers).sort();
    const signedHeaders = names.join(";");
    // The SDK escapes the path once more (uriEscapePath) and keeps its slashes.
    const canonicalPath = input.path.split("/").map(escapeUri).join("/");
    const canonicalHeaders = names.map((name) => `${name}:${headers[name].trim().replace(/\s+/g, " ")}\n`).join("");
    const canonicalRequest = `${input.method}\n${canonicalPath}\n\n${canonicalHeaders}\n${signedHeaders}\n${payloadHash}`;
    const scope = `${date.short}/${this.region}/${SERVICE}/aws4_request`;
    const stringToSign = `${ALGORITHM}\n${date.long}\n${scope}\n${sha256Hex(canonicalRequest)}`;
    const signature = createHmac("sha256", this.signingKey(scope, date.short, credentials)).update(stringToSign).digest("hex");
    headers.authorization = `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return headers;
  }

  private signingKey(scope: string, day: string, credentials: ConnectionsApiCredentials): Buffer {
    const c = this.cached;
    if (c && c.scope === scope && c.accessKeyId === credentials.accessKeyId && c.secretAccessKey === credentials.secretAccessKey) return c.key;
    let key = createHmac("sha256", `AWS4${credentials.secretAccessKey}`).update(day).digest();
    for (const part of [this.region, SERVICE, "aws4_request"]) key = createHmac("sha256", key).update(part).digest();
    this.cached = { scope, accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, key };
    return key;
  }
}

interface Attempt {
  status: number;
  errorType?: string;
  message?: string;
  serverDateMs?: number;
}

export class ConnectionsApi {
  private readonly signer: SigV4Signer;
  private readonly transport: typeof http | typeof https;
  private readonly agent: http.Agent;
  private readonly basePath: string;
  private readonly maxAttempts: number;
  private readonly now: () => number;
  private readonly random: () => number;
  private retryQuota = RETRY_QUOTA;
  private clockOffsetMs = 0;

  constructor(
    private readonly target: ConnectionsApiTarget,
    options: ConnectionsApiOptions = {},
  ) {
    this.signer = new SigV4Signer(target.region);
    this.transport = target.endpoint.protocol === "http:" ? http : https;
    // One agent per endpoint: keep-alive sockets are reused by every turn's posts (the SDK's handler kept 50 sockets;
    // a worker with hundreds of turns posts that many at once).
    this.agent = new this.transport.Agent({ keepAlive: true, maxSockets: 256 });
    this.basePath = target.endpoint.pathname.replace(/\/+$/, "");
    this.maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  /** PostToConnection: `body` reaches the client as one message. */
  post(connectionId: string, body: string, signal: AbortSignal): Promise<ConnectionAnswer> {
    return this.call("POST", connectionId, Buffer.from(body, "utf8"), signal);
  }

  /** DeleteConnection: closes the client's socket. */
  delete(connectionId: string, signal: AbortSignal): Promise<ConnectionAnswer> {
    return this.call("DELETE", connectionId, Buffer.alloc(0), signal);
  }

  private async call(method: string, connectionId: string, body: Buffer, signal: AbortSignal): Promise<ConnectionAnswer> {
    const path = `${this.basePath}/@connections/${escapeUri(connectionId)}`;
    let retryCost: number | undefined;
    for (let attempt = 1; ; attempt++) {
      let result: Attempt;
      try {
        result = await this.send(method, path, body, signal);
      } catch (error) {
        // A network error is the SDK's to retry too; an abort (the caller's deadline) ends the call.
        const cost = isTimeout(error) ? TIMEOUT_RETRY_COST : RETRY_COST;
        if (signal.aborted || !isNetworkError(error) || !this.takeRetry(attempt, cost)) throw error;
        retryCost = cost;
        await sleep(this.backoff(attempt, RETRY_BASE_MS), signal);
        if (signal.aborted) throw error;
        continue;
      }
      if (result.status < 300) {
        this.retryQuota = Math.min(RETRY_QUOTA, this.retryQuota + (retryCost ?? 1));
        return "ok";
      }
      if (result.status === 410) return "gone";
      const error = new ConnectionsApiError(result.errorType ?? `Http${result.status}`, result.message ?? `@connections answered ${result.status}`, result.status, attempt);
      const throttled = result.status === 429 || THROTTLING_ERRORS.has(error.name);
      const retryable = throttled || result.status >= 500 || this.correctedClock(error.name, result.serverDateMs);
      if (signal.aborted || !retryable || !this.takeRetry(attempt, RETRY_COST)) throw error;
      retryCost = RETRY_COST;
      await sleep(this.backoff(attempt, throttled ? THROTTLING_RETRY_BASE_MS : RETRY_BASE_MS), signal);
      if (signal.aborted) throw error;
    }
  }

  private takeRetry(attempt: number, cost: number): boolean {
    if (attempt >= this.maxAttempts || this.retryQuota < cost) return false;
    this.retryQuota -= cost;
    return true;
  }

  /** Full jitter: a random delay up to base * 2^(attempt - 1), at most 20 s. */
  private backoff(attempt: number, baseMs: number): number {
    return Math.floor(this.random() * Math.min(MAX_RETRY_DELAY_MS, baseMs * 2 ** (attempt - 1)));
  }

  /** A request refused for a skewed clock: sign with the server's time from now on, and retry (as the SDK does). */
  private correctedClock(errorType: string, serverDateMs: number | undefined): boolean {
    if (serverDateMs === undefined || !CLOCK_SKEW_ERRORS.has(errorType)) return false;
    const offset = serverDateMs - this.now();
    if (Math.abs(offset - this.clockOffsetMs) < CLOCK_SKEW_MS) return false;
    this.clockOffsetMs = offset;
    return true;
  }

  private async send(method: string, path: string, body: Buffer, signal: AbortSignal): Promise<Attempt> {
    const credentials = await this.target.credentials();
    const headers = this.signer.sign(
      { method, path, host: this.target.endpoint.host, body, headers: method === "POST" ? { "content-type": "application/octet-stream", "content-length": String(body.length) } : {} },
      credentials,
      this.now() + this.clockOffsetMs,
    );
    return new Promise<Attempt>((resolve, reject) => {
      const request = this.transport.request(
        { agent: this.agent, method, protocol: this.target.endpoint.protocol, hostname: this.target.endpoint.hostname, port: this.target.endpoint.port || undefined, path, headers, signal },
        (response) => {
          const status = response.statusCode ?? 0;
          if (status < 300 || status === 410) {
            response.resume();
            response.once("end", () => resolve({ status }));
            response.once("error", reject);
            return;
          }
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.once("error", reject);
          response.once("end", () => resolve(describeRefusal(status, response.headers, Buffer.concat(chunks).toString("utf8"))));
        },
      );
      request.once("error", reject);
      request.end(body);
    });
  }
}

/** An error answer's type and message: the `x-amzn-errortype` header (`Name:uri` in some answers), else the body's. */
function describeRefusal(status: number, headers: http.IncomingHttpHeaders, text: string): Attempt {
  let body: { message?: unknown; Message?: unknown; __type?: unknown; code?: unknown } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // not JSON: the header and the status say what it was
  }
  const header = headers["x-amzn-errortype"];
  const raw = typeof header === "string" ? header : typeof body.__type === "string" ? body.__type : typeof body.code === "string" ? body.code : undefined;
  const errorType = raw?.split(":")[0].split("#").pop() || undefined;
  const message = typeof body.message === "string" ? body.message : typeof body.Message === "string" ? body.Message : undefined;
  const date = typeof headers.date === "string" ? Date.parse(headers.date) : NaN;
  return { status, errorType, message, ...(Number.isFinite(date) ? { serverDateMs: date } : {}) };
}

function isNetworkError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && NETWORK_ERRORS.has(code);
}

function isTimeout(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === "ETIMEDOUT";
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
