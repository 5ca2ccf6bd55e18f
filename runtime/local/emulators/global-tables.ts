/**
 * Global tables for a multi-region local stack: one DynamoDB store per region, and in front of each an endpoint that
 * replicates every write to the other regions the way DynamoDB global tables (version 2019.11.21) do
 * (DynamoDB developer guide, "Global tables: how it works"):
 * - asynchronously: a write is applied in the other regions `lagMs` after it succeeded (0: before it is answered,
 *   so tests can read their own writes everywhere);
 * - last writer wins per item: a replicated image older than the destination's own latest write of that item is
 *   dropped;
 * - conditions and transactions are evaluated only in the region that takes the write (each region's handlers
 *   talk to their own store; replication writes the resulting item image, unconditionally).
 * The whole item image is replicated (read back after the write), or a delete when the item is gone.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tables as tableSchemas, type TableSchema } from "../../store/schema";
import { close, listen, readBody } from "./http";

type AttributeValue = Record<string, unknown>;
type Item = Record<string, AttributeValue>;

export interface RegionStore {
  region: string;
  /** The region's own DynamoDB endpoint (dynalite or DynamoDB Local). */
  endpoint: string;
}

export interface GlobalTablesOptions {
  stores: RegionStore[];
  /** Physical table name → schema (the same names in every region, as a global table has). */
  tables: Record<string, TableSchema>;
  /** Replication delay in ms (default 1000: "typically within a second"). */
  lagMs?: number;
}

interface WrittenKey {
  table: string;
  key: Item;
}

/** Default replication lag: DynamoDB global tables replicate "typically within a second". */
export const DEFAULT_REPLICATION_LAG_MS = 1_000;

export class GlobalTables {
  private readonly servers = new Map<string, Server>();
  private readonly endpoints = new Map<string, string>();
  /** Per region, per item: the time of the newest write it holds (its own or replicated). */
  private readonly lastWrite = new Map<string, Map<string, number>>();
  private readonly pending = new Set<Promise<void>>();
  private clock = 0;
  readonly lagMs: number;
  /** Replications that failed (a region's store stopped meanwhile, say): tests assert there are none. */
  readonly failures: unknown[] = [];

  constructor(private readonly options: GlobalTablesOptions) {
    this.lagMs = options.lagMs ?? DEFAULT_REPLICATION_LAG_MS;
    for (const store of options.stores) this.lastWrite.set(store.region, new Map());
  }

  async start(): Promise<this> {
    for (const store of this.options.stores) {
      const server = createServer((req, res) => void this.forward(store, req, res));
      const port = await listen(server, 0, "127.0.0.1");
      this.servers.set(store.region, server);
      this.endpoints.set(store.region, `http://127.0.0.1:${port}`);
    }
    return this;
  }

  /** The endpoint a region's handlers use (`AWS_ENDPOINT_URL_DYNAMODB`). */
  endpoint(region: string): string {
    const endpoint = this.endpoints.get(region);
    if (endpoint === undefined) throw new Error(`no table replica in ${region}`);
    return endpoint;
  }

  /** Resolves once every replication scheduled so far has been applied. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async stop(): Promise<void> {
    for (const server of this.servers.values()) await close(server);
    this.servers.clear();
  }

  private async forward(store: RegionStore, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = (await readBody(req)) ?? Buffer.alloc(0);
    const operation = String(req.headers["x-amz-target"] ?? "").split(".").pop() ?? "";
    const answer = await send(store.endpoint, req.headers, body);
    const written = answer.status === 200 ? this.writtenKeys(operation, body) : [];
    if (written.length > 0) {
      const replication = this.replicate(store, written);
      if (this.lagMs === 0) await replication;
    }
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  }

  /** The items a successful write touched (from the request: writes answer no keys). */
  private writtenKeys(operation: string, raw: Buffer): WrittenKey[] {
    if (!WRITES.has(operation)) return [];
    const input = JSON.parse(raw.toString("utf8")) as Record<string, unknown>;
    const keys: WrittenKey[] = [];
    const add = (table: unknown, itemOrKey: unknown) => {
      if (typeof table !== "string" || typeof itemOrKey !== "object" || itemOrKey === null) return;
      const key = this.keyOf(table, itemOrKey as Item);
      if (key) keys.push({ table, key });
    };
    switch (operation) {
      case "PutItem":
        add(input.TableName, input.Item);
        break;
      case "UpdateItem":
      case "DeleteItem":
        add(input.TableName, input.Key);
        break;
      case "BatchWriteItem":
        for (const [table, requests] of Object.entries((input.RequestItems ?? {}) as Record<string, unknown[]>)) {
          for (const r of requests as Array<{ PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }>) add(table, r.PutRequest?.Item ?? r.DeleteRequest?.Key);
        }
        break;
      case "TransactWriteItems":
        for (const t of (input.TransactItems ?? []) as Array<Record<string, { TableName?: string; Item?: Item; Key?: Item }>>) {
          const write = t.Put ?? t.Update ?? t.Delete;
          if (write) add(write.TableName, write.Item ?? write.Key);
        }
        break;
    }
    return keys;
  }

  private keyOf(table: string, item: Item): Item | undefined {
    const schema = this.options.tables[table];
    if (!schema) return undefined;
    const key: Item = {};
    for (const attribute of [schema.hashKey, schema.rangeKey]) {
      if (attribute === undefined) continue;
      const value = item[attribute.name];
      if (value === undefined) return undefined;
      key[attribute.name] = value;
    }
    return key;
  }

  /** Reads each written item back (its image now) and applies it in every other region after the lag. */
  private replicate(source: RegionStore, written: WrittenKey[]): Promise<void> {
    const run = (async () => {
      const images = await Promise.all(
        written.map(async ({ table, key }) => {
          const at = this.tick();
          this.lastWrite.get(source.region)!.set(itemId(table, key), at);
          const read = await call(source.endpoint, "GetItem", { TableName: table, Key: key, ConsistentRead: true });
          return { table, key, at, item: (read as { Item?: Item }).Item };
        }),
      );
      if (this.lagMs > 0) await new Promise((r) => setTimeout(r, this.lagMs));
      for (const destination of this.options.stores) {
        if (destination.region === source.region || !this.servers.has(destination.region)) continue;
        for (const image of images) await this.apply(destination, image);
      }
    })().catch((error: unknown) => void this.failures.push(error));
    this.pending.add(run);
    void run.finally(() => this.pending.delete(run));
    return run;
  }

  private async apply(destination: RegionStore, image: { table: string; key: Item; at: number; item?: Item }): Promise<void> {
    const writes = this.lastWrite.get(destination.region)!;
    const id = itemId(image.table, image.key);
    if ((writes.get(id) ?? -1) > image.at) return; // a newer write there wins
    writes.set(id, image.at);
    if (image.item) await call(destination.endpoint, "PutItem", { TableName: image.table, Item: image.item });
    else await call(destination.endpoint, "DeleteItem", { TableName: image.table, Key: image.key });
  }

  /** A write clock that never repeats within the process (ties break by order of arrival). */
  private tick(): number {
    this.clock = Math.max(this.clock + 1, Date.now() * 1000);
    return this.clock;
  }
}

const WRITES = new Set(["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"]);

/** Every table of the schema, by the physical names a stack gave them. */
export function tableSchemasByName(names: Record<TableSchema["logicalName"], string>): Record<string, TableSchema> {
  return Object.fromEntries(tableSchemas.map((schema) => [names[schema.logicalName], schema]));
}

function itemId(table: string, key: Item): string {
  return `${table}\u0000${JSON.stringify(Object.keys(key).sort().map((k) => [k, key[k]]))}`;
}

async function send(endpoint: string, headers: IncomingMessage["headers"], body: Buffer): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  const target = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const upstream = httpRequest({ host: target.hostname, port: target.port, method: "POST", path: "/", headers: { ...headers, host: target.host, "content-length": String(body.length) } }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on("data", (c: Buffer) => chunks.push(c));
      answer.on("end", () => {
        const out: Record<string, string> = {};
        for (const [name, value] of Object.entries(answer.headers)) if (typeof value === "string" && name !== "transfer-encoding") out[name] = value;
        const data = Buffer.concat(chunks);
        out["content-length"] = String(data.length);
        resolve({ status: answer.statusCode ?? 500, headers: out, body: data });
      });
      answer.on("error", reject);
    });
    upstream.on("error", reject);
    upstream.end(body);
  });
}

/** One DynamoDB JSON call, unsigned (the local stores do not check signatures). */
async function call(endpoint: string, operation: string, input: unknown): Promise<unknown> {
  const body = Buffer.from(JSON.stringify(input), "utf8");
  const answer = await send(endpoint, { "content-type": "application/x-amz-json-1.0", "x-amz-target": `DynamoDB_20120810.${operation}`, "x-amz-date": "20260101T000000Z", authorization: LOCAL_AUTHORIZATION }, body);
  const parsed = JSON.parse(answer.body.toString("utf8") || "{}") as unknown;
  if (answer.status !== 200) throw new Error(`${operation} answered ${answer.status}: ${answer.body.toString("utf8").slice(0, 200)}`);
  return parsed;
}

/** dynalite and DynamoDB Local want SigV4-shaped Authorization and X-Amz-Date headers, not a valid signature. */
const LOCAL_AUTHORIZATION =
  "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-target, Signature=0000000000000000000000000000000000000000000000000000000000000000";
