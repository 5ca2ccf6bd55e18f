/**
 * One signed HTTP/2 request whose answer streams (Bedrock's event streams), without the SDK's per-call machinery.
 * As the SDK's NodeHttp2Handler does for an event-stream operation, each request gets a session of its own, closed
 * once its stream ends (@smithy/node-http-handler: event streams never share a session), and HTTP/2's `:authority`
 * is signed in place of `host`. One attempt: the caller retries (the worker, before the first token only). An answer
 * other than 2xx becomes an error named as the SDK names it (./signed-http.ts).
 */
import * as http2 from "node:http2";
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
  /** The answer's body as it arrives; it ends early, without an error, when the signal aborts it. */
  body: AsyncIterable<Buffer>;
}

export class SignedHttp2Client {
  private readonly signer: SigV4Signer;

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
    const session = http2.connect(this.target.endpoint.origin);
    return new Promise<SignedHttp2Answer>((resolve, reject) => {
      let settled = false;
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        session.destroy();
        reject(error);
      };
      // Before the answer, a session error fails the call; after it, it reaches the body's reader through the stream.
      session.on("error", fail);
      const stream = session.request({ ...headers, ":method": method, ":path": path });
      const onAbort = () => {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        session.destroy();
        fail(abortReason(signal));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      stream.once("close", () => {
        signal.removeEventListener("abort", onAbort);
        session.close();
        fail(Object.assign(new Error("the HTTP/2 stream closed without an answer"), { name: "TimeoutError" }));
      });
      stream.on("error", fail);
      stream.once("response", (answer) => {
        const status = Number(answer[":status"]);
        if (status >= 200 && status < 300) {
          settled = true;
          session.close(); // no further streams; this one runs to its end
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
