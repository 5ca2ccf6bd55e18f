/**
 * The API Gateway @connections API (PostToConnection, DeleteConnection) as signed requests over keep-alive connections
 * per endpoint (../aws/signed-http.ts: SigV4, the SDK's standard retries and error shape; ../aws/http1-pool.ts). A worker
 * posts one frame per turn every FLUSH_INTERVAL_MS, so a post's CPU is most of a streaming answer's; the SDK client's
 * middleware stack cost about 1 ms of CPU per post. A 410 GoneException is an answer ("gone"), not an error.
 */
import { escapeUri, SignedHttpClient, type AwsCredentials, type CallLimits, type SignedHttpOptions } from "../aws/signed-http";

export interface ConnectionsApiTarget {
  /** The stage's URL, `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}` (http:// for a local emulator). */
  endpoint: URL;
  /** The region the requests are signed for (the API's). */
  region: string;
  /** Called before every request: the SDK's memoized provider, which refreshes credentials before they expire. */
  credentials: () => Promise<AwsCredentials>;
}

export type ConnectionAnswer = "ok" | "gone";

const GONE = new Set([410]);
const POST_HEADERS = { "content-type": "application/octet-stream" };
const NO_BODY = Buffer.alloc(0);

export class ConnectionsApi {
  private readonly http: SignedHttpClient;

  constructor(target: ConnectionsApiTarget, options: SignedHttpOptions = {}) {
    this.http = new SignedHttpClient({ ...target, service: "execute-api" }, options);
  }

  /** PostToConnection: `body` reaches the client as one message. */
  post(connectionId: string, body: string, limits: CallLimits): Promise<ConnectionAnswer> {
    return this.call("POST", connectionId, POST_HEADERS, Buffer.from(body, "utf8"), limits);
  }

  /** DeleteConnection: closes the client's socket. */
  delete(connectionId: string, limits: CallLimits): Promise<ConnectionAnswer> {
    return this.call("DELETE", connectionId, {}, NO_BODY, limits);
  }

  /** Closes the kept-alive connections. */
  destroy(): void {
    this.http.destroy();
  }

  private async call(method: string, connectionId: string, headers: Record<string, string>, body: Buffer, limits: CallLimits): Promise<ConnectionAnswer> {
    const { status } = await this.http.request({ method, path: `/@connections/${escapeUri(connectionId)}`, headers, body, ...limits, answers: GONE });
    return status === 410 ? "gone" : "ok";
  }
}
