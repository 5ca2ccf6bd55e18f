/**
 * `startLocalStack(options)`: the whole chat on one machine — per region the unchanged runtime handlers behind the
 * API Gateway emulator and the Lambda Invoke API (./region.ts), and shared by all regions the Bedrock emulator, the
 * Cognito-shaped token issuer, DynamoDB (one replica per region, replicated as global tables are) and the web
 * server, which serves each region's WebSocket at `/ws/<region>` as CloudFront does. Handlers find everything
 * through the same environment variables Lambda gives them (runtime/env.ts, AWS_ENDPOINT_URL_<SERVICE>,
 * CONNECTIONS_ENDPOINT); only endpoints differ from AWS. Used by `npm start` (start.ts), the tests and the
 * benchmarks.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join, resolve } from "node:path";
import { ORIGIN_VERIFY_HEADER } from "../auth/origin-verify";
import type { HandlerName } from "../env";
import type { WebConfig } from "../protocol";
import { BedrockEmulator, type BedrockFault, type BedrockTiming, type GuardrailBehaviour } from "./emulators/bedrock";
import type { OpenAiPassthrough } from "./emulators/bedrock-openai";
import { lockDataDir } from "./data-lock";
import { startDynamo, type DynamoKind, type LocalDynamo } from "./emulators/dynamodb";
import type { LambdaHandler, LocalFunctions } from "./emulators/functions";
import type { GatewayEmulator, GatewayLimits } from "./emulators/gateway";
import { GlobalTables, tableSchemasByName } from "./emulators/global-tables";
import { IdentityIssuer } from "./emulators/identity";
import { SqsEmulator } from "./emulators/sqs";
import type { LambdaEmulator } from "./emulators/lambda";
import { CLIENT_ID, STAGE, startRegion, type RegionOptions } from "./region";
import type { RegionReady } from "./region-process";
import type { RegionQueues } from "./emulators/sqs";
import type { WorkerProcess } from "./worker-process";
import { LocalWebServer } from "./web";

export interface LocalStackOptions {
  /** Ports; 0 picks a free one. Defaults: web 8080 (`npm start` passes PORT), everything else 0. */
  ports?: { web?: number; gateway?: number; bedrock?: number; lambda?: number; identity?: number; dynamo?: number };
  /** Where data survives restarts (DynamoDB via dynalite, the token signing key); null: in memory. */
  dataDir?: string | null;
  /** Default: dynalite (pure Node). DynamoDB Local needs Java 17 and is always in memory here. */
  dynamo?: DynamoKind;
  /** dynalite in a child process of its own rather than on this process's event loop (the workers benchmark). */
  dynamoProcess?: boolean;
  /** The primary region (default us-east-1); see `regions` for more. */
  region?: string;
  /**
   * Every region to run, primary first (default: just `region`). Each region gets its own gateway, functions and
   * table replica; tables replicate as global tables do (./global-tables.ts). The primary runs in this process,
   * each other region in a child process of its own (./region-process.ts).
   */
  regions?: string[];
  /** Replication lag between regions' tables, ms (default 1000; 0: replicated before a write is answered). */
  replicationLagMs?: number;
  /** Model id the handlers are configured with (the emulator answers any), and which Bedrock API they call. */
  model?: { id?: string; api?: "InvokeModelWithResponseStream" | "ConverseStream" };
  /** The guardrail the handlers name (the emulator applies its trigger words); false: no guardrail. */
  guardrail?: { id: string; version: string; streamMode?: "sync" | "async" } | false;
  gateway?: Partial<GatewayLimits>;
  bedrock?: {
    timing?: Partial<BedrockTiming>;
    guardrail?: Partial<GuardrailBehaviour>;
    seed?: number;
    /** Faults queued from the start (see BedrockEmulator.script). */
    faults?: BedrockFault[];
    /** Relay an OpenAI-compatible server (default: from LOCAL_OPENAI_BASE_URL / LOCAL_OPENAI_MODEL). */
    passthrough?: OpenAiPassthrough | null;
  };
  /** Lambda timeouts per function, in ms (defaults as the program sets them: worker 900 s, message 20 s, others 10 s). */
  functionTimeoutsMs?: Partial<Record<HandlerName, number>>;
  /** Extra or overriding environment for the handlers, e.g. `{ FLUSH_INTERVAL_MS: "20", STOP_POLL_MS: "50" }`. */
  env?: Record<string, string>;
  /** Replace handler modules (tests); default: `runtime/handlers/<name>.ts`. */
  handlers?: Partial<Record<HandlerName, () => Promise<LambdaHandler>>>;
  /** Directory of the built web client. Default: `<repo>/dist/web`. */
  staticDir?: string;
  /**
   * Where turns are generated: `lambda` (the worker function, invoked asynchronously) or `ecs` (the worker service, a
   * long-running process per region polling that region's job queue on the SQS emulator). Default: LOCAL_WORKER, else
   * `lambda`.
   */
  worker?: LocalWorkerMode;
  /** With worker `ecs`: the queue's redrive maxReceiveCount (default 5, as the program's). */
  workerQueueMaxReceives?: number;
}

export type LocalWorkerMode = "lambda" | "ecs";

/** The worker mode from LOCAL_WORKER (`lambda` when unset); anything else is refused with the accepted values. */
export function workerModeFromEnv(raw = process.env.LOCAL_WORKER): LocalWorkerMode {
  if (raw === undefined || raw.trim() === "") return "lambda";
  const mode = raw.trim().toLowerCase();
  if (mode !== "lambda" && mode !== "ecs") throw new Error(`LOCAL_WORKER=${JSON.stringify(raw)} is not valid: expected lambda or ecs`);
  return mode;
}

export interface LocalStack {
  /** `http://127.0.0.1:<web port>/` */
  webUrl: string;
  /** `ws://127.0.0.1:<web port>/ws/<region>`: the gateway behind the page's own origin, as CloudFront serves it. */
  wsUrl: string;
  region: string;
  userPoolId: string;
  clientId: string;
  modelId: string;
  /** Control (script faults, timing) and the recorded requests. */
  bedrock: BedrockEmulator;
  /** Control: list connections, drop one; the recorded Lambda events. */
  gateway: GatewayEmulator;
  /** Mint tokens, including bad ones (expired, wrong client, wrong use, forged). */
  identity: IdentityIssuer;
  lambda: LambdaEmulator;
  /** The functions and every invocation they ran. */
  functions: LocalFunctions;
  dynamo: LocalDynamo;
  tables: LocalDynamo["tables"];
  /** The environment the handlers run with. */
  env: Record<string, string>;
  /** Where turns are generated. */
  worker: LocalWorkerMode;
  /** The SQS emulator and each region's job queues (worker `ecs`). */
  sqs?: { emulator: SqsEmulator; queues: Map<string, RegionQueues> };
  /** The primary region's worker service process (worker `ecs`): `kill()` is a crash, `stop()` ECS stopping the task. */
  workerService?: WorkerProcess;
  /** Resolves when the primary region's job queue is empty and its worker service generates nothing (immediately with worker `lambda`). */
  workersIdle(timeoutMs?: number): Promise<void>;
  /** Things this local stack does not emulate, worth telling the user. */
  notes: string[];
  /** Every region, primary first: its WebSocket at the page's origin and its gateway's own endpoints. */
  regions: RegionEndpoints[];
  /** The replication between regions' tables (multi-region stacks only): `settled()` waits for it. */
  replication?: GlobalTables;
  /** A region's outage: its process is killed (SIGKILL); not for the primary, which is this process. */
  killRegion(region: string): void;
  /** Fetches a dev token as the web page does: `GET /local/token?user=NAME`. */
  token(user: string): Promise<string>;
  stop(): Promise<void>;
}

export interface RegionEndpoints {
  region: string;
  /** `ws://127.0.0.1:<web port>/ws/<region>` */
  wsUrl: string;
  /** The gateway's own URL, `ws://127.0.0.1:<port>/<stage>`. */
  gatewayUrl: string;
  connectionsEndpoint: string;
}

const DEFAULT_MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
const REPO_ROOT = resolve(__dirname, "..", "..");

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const regionNames = options.regions ?? [options.region ?? "us-east-1"];
  const region = regionNames[0]!;
  if (options.region !== undefined && options.region !== region) throw new Error("options.region must be the first of options.regions");
  if (new Set(regionNames).size !== regionNames.length) throw new Error(`regions repeat: ${regionNames.join(", ")}`);
  const userPoolId = `${region}_LocalPool`;
  const dataDir = options.dataDir ? resolve(options.dataDir) : null;
  const modelId = options.model?.id ?? DEFAULT_MODEL;
  const ports = options.ports ?? {};
  const kind = options.dynamo ?? "dynalite";
  const started: Array<{ stop(): Promise<void> }> = [];

  // Claimed before the try: a refused claim must not release the other stack's lock.
  const releaseDataDir = dataDir ? lockDataDir(dataDir) : () => undefined;
  started.push({ stop: async () => releaseDataDir() });
  try {
    // One table replica per region (the primary's keeps the single-region folder name, so data survives).
    const stores: LocalDynamo[] = [];
    for (const [i, name] of regionNames.entries()) {
      const folder = i === 0 ? "dynamodb" : `dynamodb-${name}`;
      const store = await startDynamo({
        kind,
        region: name,
        dataPath: dataDir && kind === "dynalite" ? join(dataDir, folder) : undefined,
        port: i === 0 ? ports.dynamo : undefined,
        ownProcess: options.dynamoProcess,
      });
      started.push(store);
      stores.push(store);
    }
    const dynamo = stores[0]!;
    const replication =
      regionNames.length > 1
        ? await new GlobalTables({
            stores: regionNames.map((name, i) => ({ region: name, endpoint: stores[i]!.endpoint })),
            tables: tableSchemasByName(dynamo.tables),
            lagMs: options.replicationLagMs,
          }).start()
        : undefined;
    if (replication) started.push(replication);
    const dynamoEndpoint = (name: string, i: number) => replication?.endpoint(name) ?? stores[i]!.endpoint;

    const identity = await new IdentityIssuer({
      region,
      userPoolId,
      clientId: CLIENT_ID,
      keyFile: dataDir ? join(dataDir, "identity-key.json") : undefined,
      port: ports.identity,
    }).start();
    started.push(identity);
    const passthrough =
      options.bedrock?.passthrough !== undefined
        ? options.bedrock.passthrough
        : process.env.LOCAL_OPENAI_BASE_URL
          ? { baseUrl: process.env.LOCAL_OPENAI_BASE_URL, model: process.env.LOCAL_OPENAI_MODEL, apiKey: process.env.LOCAL_OPENAI_API_KEY }
          : null;
    const bedrock = await new BedrockEmulator({
      port: ports.bedrock,
      timing: options.bedrock?.timing,
      guardrail: options.bedrock?.guardrail,
      seed: options.bedrock?.seed,
      passthrough,
    }).start();
    started.push(bedrock);
    if (options.bedrock?.faults?.length) bedrock.script(...options.bedrock.faults);

    const worker = options.worker ?? workerModeFromEnv();
    const maxReceives = options.workerQueueMaxReceives ?? 5;
    const sqs = worker === "ecs" ? await new SqsEmulator({ region, ...(dataDir ? { dataDir: join(dataDir, "sqs") } : {}) }).start() : undefined;
    if (sqs) started.push(sqs);
    const queues = new Map(sqs ? regionNames.map((name) => [name, sqs.queues(name, maxReceives)] as const) : []);

    const guardrail = options.guardrail === false ? undefined : (options.guardrail ?? { id: "local-guardrail", version: "1" });
    // What CloudFront's origin custom header is in production: the edge adds it, the authorizer requires it, so a
    // handshake sent to a gateway's own port is refused (401) as one sent to execute-api is. New at every start: the
    // edge and the gateways start and stop together.
    const originSecret = randomBytes(32).toString("base64url");
    const regionOptions = (name: string, i: number): RegionOptions => ({
      region: name,
      dynamoEndpoint: dynamoEndpoint(name, i),
      tables: dynamo.tables,
      bedrockEndpoint: bedrock.endpoint,
      identityEndpoint: identity.endpoint,
      userPoolId,
      originSecret,
      modelId,
      modelApi: options.model?.api ?? "InvokeModelWithResponseStream",
      ...(guardrail ? { guardrail } : {}),
      ...(options.gateway ? { gateway: options.gateway } : {}),
      ...(options.functionTimeoutsMs ? { functionTimeoutsMs: options.functionTimeoutsMs } : {}),
      ...(sqs ? { workerService: { sqsEndpoint: sqs.endpoint, queueUrl: queues.get(name)!.queueUrl, maxReceives } } : {}),
      // Per-user budgets are counted in the home (primary) region's table, whichever region takes the frame.
      env: { ...(regionNames.length > 1 ? { HOME_REGION: region, HOME_DYNAMODB_ENDPOINT: dynamoEndpoint(region, 0) } : {}), ...options.env },
    });
    // The other regions first: a child's failure to start must not leave this process's environment changed.
    const children: RegionChild[] = [];
    for (const [i, name] of regionNames.entries()) {
      if (i === 0) continue;
      const child = await startRegionProcess(regionOptions(name, i));
      started.push(child);
      children.push(child);
    }
    const primary = await startRegion({ ...regionOptions(region, 0), ports: { gateway: ports.gateway, lambda: ports.lambda }, ...(options.handlers ? { handlers: options.handlers } : {}) });
    started.push(primary);

    const gatewayUrls = new Map<string, string>([[region, primary.gateway.url], ...children.map((c) => [c.ready.region, c.ready.wsUrl] as [string, string])]);
    const connectionsEndpoints = new Map<string, string>([[region, primary.gateway.connectionsEndpoint], ...children.map((c) => [c.ready.region, c.ready.connectionsEndpoint] as [string, string])]);
    const web = await new LocalWebServer({
      staticDir: options.staticDir ?? join(REPO_ROOT, "dist", "web"),
      identity,
      port: ports.web ?? 8080,
      edge: () =>
        new Map(
          regionNames.map((name) => [
            name,
            { port: Number(new URL(gatewayUrls.get(name)!).port), path: `/${STAGE}`, headers: { [ORIGIN_VERIFY_HEADER]: originSecret } },
          ]),
        ),
      config: (): WebConfig => ({
        regions: regionNames.map((name) => ({ region: name, url: web.wsUrl(name) })),
        auth: { mode: "local", tokenUrl: "/local/token" },
        modelLabel: passthrough ? `Local model · ${passthrough.model ?? passthrough.baseUrl}` : `Local Bedrock emulator · ${shortModelName(modelId)}`,
        emulator: true,
      }),
    }).start();
    started.push(web);

    const notes = [...dynamo.notes];
    let stopped = false;
    return {
      webUrl: web.url,
      wsUrl: web.wsUrl(region),
      region,
      regions: regionNames.map((name) => ({ region: name, wsUrl: web.wsUrl(name), gatewayUrl: gatewayUrls.get(name)!, connectionsEndpoint: connectionsEndpoints.get(name)! })),
      ...(replication ? { replication } : {}),
      userPoolId,
      clientId: CLIENT_ID,
      modelId,
      bedrock,
      gateway: primary.gateway,
      identity,
      lambda: primary.lambda,
      functions: primary.functions,
      dynamo,
      tables: dynamo.tables,
      env: primary.env,
      worker,
      ...(sqs ? { sqs: { emulator: sqs, queues } } : {}),
      ...(primary.workerService ? { workerService: primary.workerService } : {}),
      notes,
      async workersIdle(timeoutMs = 30_000) {
        const service = primary.workerService;
        if (!sqs || !service) return;
        const queueName = queues.get(region)!.queueName;
        const deadline = Date.now() + timeoutMs;
        // A job is in the queue until its turn is claimed, and counted in flight by the service from its receipt.
        while (sqs.depth(queueName) > 0 || (await service.inFlight()) > 0) {
          if (Date.now() > deadline) throw new Error(`the worker service is still busy after ${timeoutMs} ms`);
          await new Promise((r) => setTimeout(r, 20));
        }
      },
      killRegion(name: string) {
        const child = children.find((c) => c.ready.region === name);
        if (!child) throw new Error(`${name} is not a region in a process of its own`);
        child.kill();
      },
      async token(user: string) {
        const response = await fetch(`${web.url}local/token?user=${encodeURIComponent(user)}`);
        if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
        return ((await response.json()) as { token: string }).token;
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        // Clients first ($disconnect still reaches DynamoDB; the gateways' close frames pass through the web
        // server's /ws/ edge), then the model (aborting streams ends the workers), then the rest.
        await Promise.all([primary.closeGateway(), ...children.map((c) => c.stop())]);
        await web.stop();
        await bedrock.stop();
        await primary.stop();
        await identity.stop();
        await sqs?.stop();
        // Writes still replicating reach their stores before those close.
        await replication?.settled();
        await replication?.stop();
        for (const store of stores) await store.stop();
        releaseDataDir();
      },
    };
  } catch (error) {
    for (const part of started.reverse()) await part.stop().catch(() => undefined);
    throw error;
  }
}

interface RegionChild {
  ready: RegionReady;
  kill(): void;
  stop(): Promise<void>;
}

/** Starts a region in a child process and waits for its ready line. */
async function startRegionProcess(options: RegionOptions): Promise<RegionChild> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", join(__dirname, "region-process.ts")], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOCAL_REGION_OPTIONS: JSON.stringify(options) },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  let output = "";
  const ready = await new Promise<RegionReady>((resolvePromise, reject) => {
    const onData = (data: Buffer) => {
      output += data.toString();
      const line = /^\{"ready":.*\}$/m.exec(output)?.[0];
      if (line) resolvePromise((JSON.parse(line) as { ready: RegionReady }).ready);
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    void exited.then(() => reject(new Error(`region ${options.region} did not start:\n${output.slice(-2000)}`)));
  });
  // Its later output (handler logs) goes where this process's goes.
  child.stdout!.pipe(process.stdout);
  child.stderr!.pipe(process.stderr);
  return {
    ready,
    kill: () => void child.kill("SIGKILL"),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** `us.anthropic.claude-haiku-4-5-20251001-v1:0` → `claude-haiku-4-5`, for the page's header. */
function shortModelName(modelId: string): string {
  return modelId
    .replace(/^.*[/:]?(?:[a-z]{2}\.)?(?:anthropic|amazon|meta|mistral|cohere|ai21)\./, "")
    .replace(/-\d{8}/, "")
    .replace(/-v\d+(:\d+)?$/, "");
}
