/**
 * Signed AWS requests without the SDK's per-call machinery (endpoint rules, schema serde, user agent, retry tokens,
 * its generic signer), for the calls a worker makes many times per answer: the @connections posts
 * (../connections/connections-api.ts) and the JSON APIs of DynamoDB and SQS (./aws-json.ts), sent over keep-alive
 * connections of ./http1-pool.ts. The SDK client of each still resolves the region, endpoint and credentials
 * provider, so the function's or the container's credential chain is unchanged.
 *
 * What this keeps of the SDK:
 * - SigV4, the same canonical request as @smithy/signature-v4 (tests check the signature against it), with the session
 *   token and the payload hash;
 * - an error answer becomes an error named by its `x-amzn-errortype` header or the body's `__type`, with the body's
 *   message and other members and `$metadata.httpStatusCode`, as the SDK's exceptions are;
 * - the SDK's standard retries: at most 3 attempts with full-jitter exponential backoff (100 ms base, 500 ms for
 *   throttling) on throttling (429 or a throttling error name), transient errors (500, 502, 503, 504, timeouts, network
 *   errors) and a clock corrected from the server's Date header after a refusal for a skewed clock, drawn from a retry
 *   quota of 500 (5 per retry, 10 after a timeout, refunded on success) — the error lists of @smithy/core's `retry`
 *   submodule (THROTTLING_ERROR_CODES, TRANSIENT_ERROR_CODES, TRANSIENT_ERROR_STATUS_CODES, the Node.js error codes);
 * - the caller's abort signal, or a deadline, bounds the whole call, retries included.
 */
import { createHmac, hash } from "node:crypto";
import { Http1Pool, type Http1Response } from "./http1-pool";

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignedHttpTarget {
  /** Where requests go: `https://host[/base path]` (http:// for a local emulator). */
  endpoint: URL;
  /** The region the requests are signed for. */
  region: string;
  /** The signing name of the service: `execute-api`, `dynamodb`. */
  service: string;
  /** Called before every request: the SDK's memoized provider, which refreshes credentials before they expire. */
  credentials: () => Promise<AwsCredentials>;
}

export interface SignedHttpOptions {
  maxAttempts?: number;
  /** Sockets kept to the endpoint at most; more requests wait for one (default 256). */
  maxSockets?: number;
  now?: () => number;
  random?: () => number;
}

/** A refused or failed call, shaped like the SDK's exceptions (`name`, `$fault`, `$metadata.httpStatusCode`). */
export class AwsServiceError extends Error {
  readonly $metadata: { httpStatusCode: number; attempts: number };
  readonly $fault: "client" | "server";
  constructor(name: string, message: string, httpStatusCode: number, attempts: number, members: Record<string, unknown> = {}) {
    super(message);
    Object.assign(this, members);
    this.name = name;
    this.$fault = httpStatusCode >= 500 ? "server" : "client";
    this.$metadata = { httpStatusCode, attempts };
  }
}

/** What ends a call, retries included: the caller's signal, a deadline, or both. */
export interface CallLimits {
  signal?: AbortSignal;
  /**
   * A deadline: a timer, cleared when the call ends. Cheaper than an `AbortSignal.timeout` per call, which outlives
   * the call and builds a DOMException when it fires.
   */
  timeoutMs?: number;
}

export interface SignedRequest extends CallLimits {
  method: string;
  /** The path below the endpoint's base path, percent-encoded. */
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  /** Statuses from 300 on that are answers, not errors (410 for a gone connection). */
  answers?: ReadonlySet<number>;
}

export interface SignedResponse {
  status: number;
  body: Buffer;
  attempts: number;
}

const ALGORITHM = "AWS4-HMAC-SHA256";
const DEFAULT_MAX_ATTEMPTS = 3;
const DEFAULT_MAX_SOCKETS = 256;
const RETRY_BASE_MS = 100;
const THROTTLING_RETRY_BASE_MS = 500;
const MAX_RETRY_DELAY_MS = 20_000;
const RETRY_QUOTA = 500;
const RETRY_COST = 5;
const TIMEOUT_RETRY_COST = 10;
/** The SDK treats a server clock more than 5 minutes away as skew to correct. */
const CLOCK_SKEW_MS = 5 * 60_000;
const THROTTLING_ERRORS = new Set([
  "BandwidthLimitExceeded",
  "EC2ThrottledException",
  "LimitExceededException",
  "PriorRequestNotComplete",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
  "ThrottledException",
  "Throttling",
  "ThrottlingException",
  "TooManyRequestsException",
  "TransactionInProgressException",
]);
const TRANSIENT_ERRORS = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException"]);
const TRANSIENT_STATUSES = new Set([500, 502, 503, 504]);
const CLOCK_SKEW_ERRORS = new Set(["AccessDeniedException", "AuthFailure", "InvalidSignatureException", "RequestExpired", "RequestInTheFuture", "RequestTimeTooSkewed", "SignatureDoesNotMatch"]);
const NETWORK_ERRORS = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);

/** RFC 3986 escaping as the SDK does it (encodeURIComponent plus !'()*). */
export function escapeUri(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** One-shot hashing (Node.js 21.7+): no Hash object per call, a worker hashes twice per signed request. */
function sha256Hex(data: string | Buffer): string {
  return hash("sha256", data, "hex");
}

const canonicalPaths = new Map<string, string>();
const CANONICAL_PATHS_KEPT = 1024;

/** The SDK escapes the path once more (uriEscapePath) and keeps its slashes; a worker signs the same paths over and over. */
function canonicalPath(path: string): string {
  let canonical = canonicalPaths.get(path);
  if (canonical === undefined) {
    canonical = path.split("/").map(escapeUri).join("/");
    if (canonicalPaths.size >= CANONICAL_PATHS_KEPT) canonicalPaths.clear();
    canonicalPaths.set(path, canonical);
  }
  return canonical;
}

let lastDate: { second: number; value: { long: string; short: string } } | undefined;

/** `20261205T001053Z` and `20261205` for a time in ms (the same second's answer is kept: a worker signs hundreds a second). */
export function amzDate(ms: number): { long: string; short: string } {
  const second = Math.floor(ms / 1000);
  if (lastDate?.second === second) return lastDate.value;
  const long = new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  lastDate = { second, value: { long, short: long.slice(0, 8) } };
  return lastDate.value;
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
  /** The header that carries the host: `host`, or HTTP/2's `:authority`, which the SDK signs in its place. */
  hostHeader?: "host" | ":authority";
}

/** Signs requests for one region and service; keeps the day's signing key (four HMACs) until the day or the credentials change. */
export class SigV4Signer {
  private cached: SigningKey | undefined;

  constructor(
    private readonly region: string,
    private readonly service: string,
  ) {}

  /** The headers to send: the input's, plus host, x-amz-date, x-amz-content-sha256, x-amz-security-token, authorization. */
  sign(input: SignInput, credentials: AwsCredentials, nowMs: number): Record<string, string> {
    const date = amzDate(nowMs);
    const payloadHash = sha256Hex(input.body);
    const headers: Record<string, string> = { ...input.headers, [input.hostHeader ?? "host"]: input.host, "x-amz-content-sha256": payloadHash, "x-amz-date": date.long };
    if (credentials.sessionToken) headers["x-amz-security-token"] = credentials.sessionToken;
    const names = Object.keys(headers).sort();
    const signedHeaders = names.join(";");
    const canonicalHeaders = names.map((name) => `${name}:${headers[name].trim().replace(/\s+/g, " ")}\n`).join("");
    const canonicalRequest = `${input.method}\n${canonicalPath(input.path)}\n\n${canonicalHeaders}\n${signedHeaders}\n${payloadHash}`;
    const scope = `${date.short}/${this.region}/${this.service}/aws4_request`;
    const stringToSign = `${ALGORITHM}\n${date.long}\n${scope}\n${sha256Hex(canonicalRequest)}`;
    const signature = createHmac("sha256", this.signingKey(scope, date.short, credentials)).update(stringToSign).digest("hex");
    headers.authorization = `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return headers;
  }

  private signingKey(scope: string, day: string, credentials: AwsCredentials): Buffer {
    const c = this.cached;
    if (c && c.scope === scope && c.accessKeyId === credentials.accessKeyId && c.secretAccessKey === credentials.secretAccessKey) return c.key;
    let key = createHmac("sha256", `AWS4${credentials.secretAccessKey}`).update(day).digest();
    for (const part of [this.region, this.service, "aws4_request"]) key = createHmac("sha256", key).update(part).digest();
    this.cached = { scope, accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, key };
    return key;
  }
}

type Attempt = Http1Response;

export class SignedHttpClient {
  private readonly signer: SigV4Signer;
  private readonly pool: Http1Pool;
  private readonly basePath: string;
  private readonly maxAttempts: number;
  private readonly now: () => number;
  private readonly random: () => number;
  private retryQuota = RETRY_QUOTA;
  private clockOffsetMs = 0;

  constructor(
    private readonly target: SignedHttpTarget,
    options: SignedHttpOptions = {},
  ) {
    this.signer = new SigV4Signer(target.region, target.service);
    // One pool per endpoint: keep-alive connections are reused by every call.
    this.pool = new Http1Pool(target.endpoint, { maxSockets: options.maxSockets ?? DEFAULT_MAX_SOCKETS });
    this.basePath = target.endpoint.pathname.replace(/\/+$/, "");
    this.maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  /** Sends the request, retrying as the SDK's standard strategy; an answer of 300 or more not in `answers` throws. */
  async request(request: SignedRequest): Promise<SignedResponse> {
    const call = new CallDeadline(request.signal, request.timeoutMs);
    try {
      return await this.attempts(request, call);
    } finally {
      call.end();
    }
  }

  private async attempts(request: SignedRequest, call: CallDeadline): Promise<SignedResponse> {
    const path = `${this.basePath}${request.path}`;
    let retryCost: number | undefined;
    for (let attempt = 1; ; attempt++) {
      let result: Attempt;
      try {
        result = await this.send(request, path, call);
      } catch (error) {
        // A network error is the SDK's to retry too; the caller's abort or deadline ends the call.
        const cost = isTimeout(error) ? TIMEOUT_RETRY_COST : RETRY_COST;
        if (call.ended || !isNetworkError(error) || !this.takeRetry(attempt, cost)) throw error;
        retryCost = cost;
        await call.sleep(this.backoff(attempt, RETRY_BASE_MS));
        if (call.ended) throw error;
        continue;
      }
      if (result.status < 300 || request.answers?.has(result.status)) {
        if (result.status < 300) this.retryQuota = Math.min(RETRY_QUOTA, this.retryQuota + (retryCost ?? 1));
        return { status: result.status, body: result.body, attempts: attempt };
      }
      const refusal = describeRefusal(result.status, result.headers, result.body.toString("utf8"));
      const error = new AwsServiceError(refusal.errorType ?? `Http${result.status}`, refusal.message ?? `${this.target.service} answered ${result.status}`, result.status, attempt, refusal.members);
      const throttled = result.status === 429 || THROTTLING_ERRORS.has(error.name);
      const transient = TRANSIENT_STATUSES.has(result.status) || TRANSIENT_ERRORS.has(error.name);
      const retryable = throttled || transient || this.correctedClock(error.name, refusal.serverDateMs);
      if (call.ended || !retryable || !this.takeRetry(attempt, RETRY_COST)) throw error;
      retryCost = RETRY_COST;
      await call.sleep(this.backoff(attempt, throttled ? THROTTLING_RETRY_BASE_MS : RETRY_BASE_MS));
      if (call.ended) throw error;
    }
  }

  /** Closes the kept-alive sockets. */
  destroy(): void {
    this.pool.destroy();
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

  private async send(request: SignedRequest, path: string, call: CallDeadline): Promise<Attempt> {
    const { method, body } = request;
    const credentials = await this.target.credentials();
    const headers = this.signer.sign(
      { method, path, host: this.target.endpoint.host, body, headers: body.length > 0 || method === "POST" ? { ...request.headers, "content-length": String(body.length) } : request.headers },
      credentials,
      this.now() + this.clockOffsetMs,
    );
    call.check();
    const pending = this.pool.request({ method, path, headers, body });
    const stopWatching = call.watch((reason) => pending.cancel(reason));
    try {
      return await pending.response;
    } finally {
      stopWatching();
    }
  }
}

/**
 * The end of one call: the caller's abort signal and/or a deadline timer, watched by each attempt's request (and
 * unwatched when it settles, so nothing outlives the call) and bounding the waits between attempts.
 */
class CallDeadline {
  private reason: Error | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly watchers = new Set<(reason: Error) => void>();
  private readonly onAbort = () => this.finish(abortReason(this.signal!));

  constructor(
    private readonly signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
  ) {
    if (signal?.aborted) this.reason = abortReason(signal);
    else signal?.addEventListener("abort", this.onAbort, { once: true });
    if (timeoutMs !== undefined && !this.reason) {
      this.timer = setTimeout(() => this.finish(Object.assign(new Error(`the call took longer than ${timeoutMs} ms`), { name: "TimeoutError" })), timeoutMs);
    }
  }

  get ended(): boolean {
    return this.reason !== undefined;
  }

  /** Throws the reason the call ended, if it has. */
  check(): void {
    if (this.reason) throw this.reason;
  }

  /** Calls `stop` if the call ends while an attempt is in flight; answers the unwatch function. */
  watch(stop: (reason: Error) => void): () => void {
    if (this.reason) {
      stop(this.reason);
      return () => undefined;
    }
    this.watchers.add(stop);
    return () => this.watchers.delete(stop);
  }

  /** Waits `ms`, or less if the call ends first. */
  sleep(ms: number): Promise<void> {
    if (this.reason) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.watchers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.watchers.add(done);
    });
  }

  /** The call is over: no more timer or listener. */
  end(): void {
    clearTimeout(this.timer);
    this.signal?.removeEventListener("abort", this.onAbort);
    this.watchers.clear();
  }

  private finish(reason: Error): void {
    if (this.reason) return;
    this.reason = reason;
    for (const stop of [...this.watchers]) stop(reason);
  }
}

/** Why an aborted signal ended a call: its reason, or an AbortError. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : Object.assign(new Error("The operation was aborted"), { name: "AbortError" });
}

export interface Refusal {
  errorType?: string;
  message?: string;
  serverDateMs?: number;
  /** The body's other members (e.g. DynamoDB's CancellationReasons), which the SDK copies onto its exception. */
  members: Record<string, unknown>;
}

/** An error answer's type and message: the `x-amzn-errortype` header (`Name:uri` in some answers), else the body's. */
export function describeRefusal(status: number, headers: Record<string, string | string[] | number | undefined>, text: string): Refusal {
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
  } catch {
    // not JSON: the header and the status say what it was
  }
  const header = headers["x-amzn-errortype"];
  const raw = typeof header === "string" ? header : typeof body.__type === "string" ? body.__type : typeof body.code === "string" ? body.code : undefined;
  const errorType = raw?.split(":")[0].split("#").pop() || undefined;
  const message = typeof body.message === "string" ? body.message : typeof body.Message === "string" ? body.Message : undefined;
  const date = typeof headers.date === "string" ? Date.parse(headers.date) : NaN;
  const members: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) if (!["__type", "code", "message", "Message"].includes(key)) members[key] = value;
  return { errorType, message, members, ...(Number.isFinite(date) ? { serverDateMs: date } : {}) };
}

function isNetworkError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && NETWORK_ERRORS.has(code);
}

function isTimeout(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === "ETIMEDOUT";
}
