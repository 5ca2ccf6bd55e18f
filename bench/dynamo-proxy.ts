/**
 * An HTTP proxy in front of the local DynamoDB endpoint: records every call (operation from `X-Amz-Target`,
 * start and end on performance.now()) and can make DynamoDB unavailable for a while (answers 503 with the
 * `x-amzn-errortype` the SDK reads, as the service does when it is unavailable; the SDK retries those).
 * Point the handlers at it with `AWS_ENDPOINT_URL_DYNAMODB` (startLocalStack's `env` option).
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";

export interface DynamoCall {
  operation: string;
  /** What the call touched: the kind of item by its key (`USER#/RATE#`, `SESSION#/TURN#`, …), or the index. */
  target: string;
  startedAt: number;
  endedAt: number;
  status: number;
}

export class DynamoProxy {
  readonly calls: DynamoCall[] = [];
  /** Refused calls while unavailable. */
  refused = 0;
  private unavailableUntil = 0;
  private readonly server = createServer((req, res) => this.forward(req, res));
  private target: URL;

  constructor(target: string) {
    this.target = new URL(target);
  }

  /** Re-points the proxy (the local DynamoDB's endpoint is known only once the stack has started it). */
  retarget(target: string): void {
    this.target = new URL(target);
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return this;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** DynamoDB answers 503 ServiceUnavailable to every call for the next `ms`. */
  unavailableFor(ms: number): void {
    this.unavailableUntil = performance.now() + ms;
  }

  /** DynamoDB answers 503 to every call until `restore()` (a test ends the outage on a state, not a clock). */
  unavailable(): void {
    this.unavailableUntil = Number.POSITIVE_INFINITY;
  }

  restore(): void {
    this.unavailableUntil = 0;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const startedAt = performance.now();
    const operation = String(req.headers["x-amz-target"] ?? "").split(".").pop() ?? "?";
    if (startedAt < this.unavailableUntil) {
      this.refused++;
      req.resume();
      const body = JSON.stringify({ __type: "com.amazon.coral.availability#ServiceUnavailableException", message: "Service unavailable" });
      res.writeHead(503, { "content-type": "application/x-amz-json-1.0", "x-amzn-errortype": "ServiceUnavailableException", "content-length": Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    const upstream = httpRequest(
      { host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(res);
        answer.on("end", () => this.calls.push({ operation, target: callTarget(Buffer.concat(chunks)), startedAt, endedAt: performance.now(), status: answer.statusCode ?? 0 }));
      },
    );
    upstream.on("error", () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  }
}

/** The kind of item a call touched, from its request: key prefixes (ids left out), the index, or each write of a batch. */
export function callTarget(body: Buffer): string {
  let input: Record<string, unknown>;
  try {
    input = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
  } catch {
    return "?";
  }
  const kind = (item: unknown): string => {
    const attrs = (item ?? {}) as Record<string, { S?: string } | undefined>;
    const part = (name: string) => (attrs[name]?.S ?? "").replace(/#.*$/, "#");
    if (attrs.pk) return `${part("pk")}${attrs.sk ? `/${part("sk")}` : ""}`;
    if (attrs.connectionId) return "connection";
    return "?";
  };
  if (Array.isArray(input.TransactItems)) {
    return (input.TransactItems as Array<Record<string, { Item?: unknown; Key?: unknown }>>)
      .map((t) => Object.entries(t).map(([op, w]) => `${op} ${kind(w.Item ?? w.Key)}`).join(""))
      .join(" + ");
  }
  if (input.RequestItems && typeof input.RequestItems === "object") {
    // BatchWriteItem / BatchGetItem: the kinds of item each table's requests touch.
    return Object.values(input.RequestItems as Record<string, unknown>)
      .flatMap((requests) =>
        Array.isArray(requests)
          ? (requests as Array<{ PutRequest?: { Item?: unknown }; DeleteRequest?: { Key?: unknown } }>).map((r) =>
              r.PutRequest ? `put ${kind(r.PutRequest.Item)}` : `delete ${kind(r.DeleteRequest?.Key)}`,
            )
          : ((requests as { Keys?: unknown[] }).Keys ?? []).map((key) => kind(key)),
      )
      .join(" + ");
  }
  if (typeof input.IndexName === "string") return input.IndexName;
  if (input.KeyConditionExpression !== undefined) {
    const values = (input.ExpressionAttributeValues ?? {}) as Record<string, { S?: string }>;
    return `${(values[":pk"]?.S ?? "?").replace(/#.*$/, "#")} query`;
  }
  return kind(input.Item ?? input.Key);
}
