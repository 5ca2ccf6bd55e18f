/**
 * One signed HTTP/2 request whose answer streams (Bedrock's event streams), without the SDK's per-call machinery.
 *
 * Sessions: a session carries one stream at a time, as the SDK's NodeHttp2Handler has event streams never share a
 * session (smithy-typescript #1952; services limit the streams of one session, aws-sdk-js-v3 #2550). Unlike the SDK,
 * a session whose stream ended cleanly is kept for the next request instead of closed, so an answer does not start
 * with a new TCP connection and TLS handshake. Kept sessions close after IDLE_MS unused, on the server's GOAWAY,
 * beyond MAX_IDLE_SESSIONS, or on `destroy()` (with the SDK client they were made from, ../model/bedrock.ts); a stream
 * aborted or failed takes its session down with it. A request whose kept session fails before any answer (the server
 * closed it meanwhile) is sent once more on a new session.
 *
 * HTTP/2's `:authority` is signed in place of `host`. One attempt otherwise: the caller retries (the worker, before
 * the first token only). An answer other than 2xx becomes an error named as the SDK names it (./signed-http.ts).
 */
import * as http2 from "node:http2";
import type { Readable } from "node:stream";
import { abortReason, AwsServiceError, describeRefusal, SigV4Signer, type AwsCredentials } from "./signed-http";

export interface SignedHttp2Target {
  endpoint: URL;
  region: string;
  /** The signing name: `bedrock` for the Bedrock runtime. */
  service: string;
  credentials: () => Promise<AwsCredentials>;
}

export interface SignedHttp2Request {
  method: string;
  /** Percent-encoded path. */
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  /** Ends the request, or the answer's stream once it has started. */
  signal: AbortSignal;
}

export interface SignedHttp2Answer {
  status: number;
  /** The answer's body as it arrives (the HTTP/2 stream's readable side); destroyed when the signal aborts. */
  body: Readable;
}

/** A kept session closes after this long unused (the SDK's NodeHttp2Handler keeps none for event streams). */
const IDLE_MS = 30_000;
/** Sessions kept at most: about the answers a busy worker streams at once. */
const MAX_IDLE_SESSIONS = 64;

export class SignedHttp2Client {
  private readonly signer: SigV4Signer;
  /** Sessions kept for the next request, the most recently used last, each with the timer that closes it unused. */
  private readonly idle: Array<{ session: http2.ClientHttp2Session; timer: NodeJS.Timeout }> = [];
  private destroyed = false;

  constructor(
    private readonly target: SignedHttp2Target,
    private readonly now: () => number = Date.now,
  ) {
    this.signer = new SigV4Signer(target.region, target.service);
  }

  async open(request: SignedHttp2Request): Promise<SignedHttp2Answer> {
    const { signal, body, method, path } = request;
    if (signal.aborted) throw abortReason(signal);
    const credentials = await this.target.credentials();
    const authority = this.target.endpoint.host;
    const headers = this.signer.sign(
      { method, path, host: authority, body, headers: { ...request.headers, "content-length": String(body.length) }, hostHeader: ":authority" },
      credentials,
      this.now(),
    );
    if (signal.aborted) throw abortReason(signal);
    const kept = this.takeIdle();
    if (kept) {
      try {
        return await this.send(kept, headers, request);
      } catch (error) {
        // The server may have closed the kept session as the request left: a new session gets one more try.
        if (!(error instanceof SessionLost) || signal.aborted) throw error instanceof SessionLost ? error.cause : error;
      }
    }
    try {
      return await this.send(http2.connect(this.target.endpoint.origin), headers, request);
    } catch (error) {
      throw error instanceof SessionLost ? error.cause : error;
    }
  }

  /** Closes the kept sessions; a stream still in flight closes its session when it ends. */
  destroy(): void {
    this.destroyed = true;
    for (const { session, timer } of this.idle.splice(0)) {
      clearTimeout(timer);
      session.close();
    }
  }

  private takeIdle(): http2.ClientHttp2Session | undefined {
    for (let kept = this.idle.pop(); kept; kept = this.idle.pop()) {
      clearTimeout(kept.timer);
      if (kept.session.closed || kept.session.destroyed) continue;
      kept.session.ref();
      return kept.session;
    }
    return undefined;
  }

  /** After a clean end of its stream: kept for the next request, unless the server is closing it or enough are kept. */
  private keep(session: http2.ClientHttp2Session): void {
    if (this.destroyed || session.closed || session.destroyed || this.idle.length >= MAX_IDLE_SESSIONS) {
      session.close();
      return;
    }
    // Unreferenced while kept: a kept session never holds the process open.
    session.unref();
    const timer = setTimeout(() => this.drop(session), IDLE_MS);
    timer.unref();
    this.idle.push({ session, timer });
  }

  /** A kept session is closing (GOAWAY, closed, unused too long): never handed out again. */
  private drop(session: http2.ClientHttp2Session): void {
    const at = this.idle.findIndex((kept) => kept.session === session);
    if (at >= 0) clearTimeout(this.idle.splice(at, 1)[0].timer);
    if (!session.closed) session.close();
  }

  private send(session: http2.ClientHttp2Session, headers: Record<string, string>, request: SignedHttp2Request): Promise<SignedHttp2Answer> {
    const { signal, body, method, path } = request;
    if (session.listenerCount("goaway") === 0) {
      // The server is closing the session: no new stream on it (those in flight finish).
      session.on("goaway", () => this.drop(session));
      session.on("close", () => this.drop(session));
      // An error while kept: the session is gone (the close above removes it).
      session.on("error", () => undefined);
    }
    return new Promise<SignedHttp2Answer>((resolve, reject) => {
      let settled = false;
      let answered = false;
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        session.off("error", fail);
        session.destroy();
        // Nothing came back: the request may never have reached the server, and can go again on a new session.
        reject(answered ? error : new SessionLost(error));
      };
      // Before the answer, a session error fails the call; after it, it reaches the body's reader through the stream.
      session.on("error", fail);
      const stream = session.request({ ...headers, ":method": method, ":path": path });
      let kept = false;
      const onAbort = () => {
        if (kept) return; // the stream is over and its session may already carry another request
        stream.close(http2.constants.NGHTTP2_CANCEL);
        session.destroy();
        answered = true; // the caller's abort is final, never retried
        fail(abortReason(signal));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      stream.once("end", () => {
        // Both sides have ended the stream (the body was sent whole, the answer read to its end): the session can carry
        // the next request. Kept here rather than at "close", which comes a tick later, after the reader is done.
        if (settled && answered && stream.writableFinished && !signal.aborted && !session.destroyed) {
          kept = true;
          signal.removeEventListener("abort", onAbort);
          this.keep(session);
        }
      });
      stream.once("close", () => {
        signal.removeEventListener("abort", onAbort);
        session.off("error", fail);
        if (!kept && !session.destroyed) session.close();
        fail(Object.assign(new Error("the HTTP/2 stream closed without an answer"), { name: "TimeoutError" }));
      });
      stream.on("error", fail);
      stream.once("response", (answer) => {
        answered = true;
        const status = Number(answer[":status"]);
        if (status >= 200 && status < 300) {
          settled = true;
          session.off("error", fail);
          resolve({ status, body: stream });
          return;
        }
        const chunks: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.once("end", () => {
          const refusal = describeRefusal(status, answer, Buffer.concat(chunks).toString("utf8"));
          fail(new AwsServiceError(refusal.errorType ?? `Http${status}`, refusal.message ?? `${this.target.service} answered ${status}`, status, 1, refusal.members));
        });
      });
      stream.end(body);
    });
  }
}

/** A session failed before any answer to the request (the request can go again on a new session). */
class SessionLost extends Error {
  constructor(override readonly cause: unknown) {
    super("the HTTP/2 session failed before an answer");
  }
}
