/**
 * `startLocalStack(options)`: the whole chat on one machine, in this process — the unchanged runtime handlers
 * behind the API Gateway emulator, the Bedrock emulator, the Lambda Invoke API, the Cognito-shaped token issuer,
 * DynamoDB and the web server. Handlers find everything through the same environment variables Lambda gives
 * them (runtime/env.ts, AWS_ENDPOINT_URL_<SERVICE>, CONNECTIONS_ENDPOINT); only endpoints differ from AWS.
 * Used by `npm start` (start.ts), the integration tests and the benchmarks.
 */
import { join, resolve } from "node:path";
import { ENV, HANDLERS, type HandlerName } from "../env";
import { CLIENT_ACTIONS, SUBPROTOCOL_HEADER, type WebConfig } from "../protocol";
import { BedrockEmulator, type BedrockFault, type BedrockTiming, type GuardrailBehaviour } from "./bedrock";
import type { OpenAiPassthrough } from "./bedrock-openai";
import { lockDataDir } from "./data-lock";
import { startDynamo, type DynamoKind, type LocalDynamo } from "./dynamodb";
import { LocalFunctions, type LambdaHandler } from "./functions";
import { GatewayEmulator, type GatewayLimits } from "./gateway";
import { IdentityIssuer } from "./identity";
import { LambdaEmulator } from "./lambda";
import { LocalWebServer } from "./web";

export interface LocalStackOptions {
  /** Ports; 0 picks a free one. Defaults: web 8080 (`npm start` passes PORT), everything else 0. */
  ports?: { web?: number; gateway?: number; bedrock?: number; lambda?: number; identity?: number; dynamo?: number };
  /** Where data survives restarts (DynamoDB via dynalite, the token signing key); null: in memory. */
  dataDir?: string | null;
  /** Default: dynalite (pure Node). DynamoDB Local needs Java 17 and is always in memory here. */
  dynamo?: DynamoKind;
  region?: string;
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
  /** Things this local stack does not emulate, worth telling the user. */
  notes: string[];
  /** Fetches a dev token as the web page does: `GET /local/token?user=NAME`. */
  token(user: string): Promise<string>;
  stop(): Promise<void>;
}

const ACCOUNT_ID = "000000000000";
const API_ID = "localchat0";
const STAGE = "local";
const CLIENT_ID = "localchatclient00000000000";
const DEFAULT_MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
const REPO_ROOT = resolve(__dirname, "..", "..");
const HANDLERS_DIR = resolve(__dirname, "..", "handlers");

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const region = options.region ?? "us-east-1";
  const userPoolId = `${region}_LocalPool`;
  const dataDir = options.dataDir ? resolve(options.dataDir) : null;
  const modelId = options.model?.id ?? DEFAULT_MODEL;
  const ports = options.ports ?? {};
  const started: Array<{ stop(): Promise<void> }> = [];
  const savedEnv = new Map<string, string | undefined>();

  // Claimed before the try: a refused claim must not release the other stack's lock.
  const releaseDataDir = dataDir ? lockDataDir(dataDir) : () => undefined;
  started.push({ stop: async () => releaseDataDir() });
  try {
    const dynamo = await startDynamo({
      kind: options.dynamo ?? "dynalite",
      region,
      dataPath: dataDir && (options.dynamo ?? "dynalite") === "dynalite" ? join(dataDir, "dynamodb") : undefined,
      port: ports.dynamo,
    });
    started.push(dynamo);
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

    // The timeouts the program gives the functions (infra/regional-chat.ts, FUNCTION_SIZES).
    const timeouts: Record<HandlerName, number> = {
      authorizer: 10_000,
      connect: 10_000,
      disconnect: 10_000,
      message: 20_000,
      worker: 900_000,
      ...options.functionTimeoutsMs,
    };
    const functions = new LocalFunctions(
      region,
      ACCOUNT_ID,
      HANDLERS.map((name) => ({
        name,
        timeoutMs: timeouts[name],
        load: options.handlers?.[name] ?? (() => loadHandler(name)),
      })),
    );
    const lambda = await new LambdaEmulator({ functions, port: ports.lambda }).start();
    started.push(lambda);
    const gateway = await new GatewayEmulator({
      api: { apiId: API_ID, stage: STAGE, region, accountId: ACCOUNT_ID },
      functions,
      routes: {
        authorizer: "authorizer",
        // As the program declares it (infra/websocket-routes.ts): the token is the second offered subprotocol.
        identitySource: [`route.request.header.${SUBPROTOCOL_HEADER}`],
        routes: {
          $connect: "connect",
          $disconnect: "disconnect",
          $default: "message",
          // The same routes the program declares (infra/websocket-routes.ts): one per client action.
          ...Object.fromEntries(CLIENT_ACTIONS.map((action) => [action, "message"])),
        },
      },
      limits: options.gateway,
      port: ports.gateway,
    }).start();
    started.push(gateway);

    const guardrail = options.guardrail === false ? undefined : (options.guardrail ?? { id: "local-guardrail", version: "1" });
    const env: Record<string, string> = {
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
      AWS_SESSION_TOKEN: "",
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: bedrock.endpoint,
      AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
      AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: identity.endpoint,
      [ENV.connectionsTable]: dynamo.tables.connections,
      [ENV.historyTable]: dynamo.tables.history,
      [ENV.connectionsEndpoint]: gateway.connectionsEndpoint,
      [ENV.modelId]: modelId,
      [ENV.modelApi]: options.model?.api ?? "InvokeModelWithResponseStream",
      [ENV.userPoolId]: userPoolId,
      [ENV.userPoolClientId]: CLIENT_ID,
      [ENV.workerFunctionName]: "worker",
      [ENV.logLevel]: "WARN",
      POWERTOOLS_LOG_LEVEL: "WARN",
      // EMF metric lines would flood the terminal; CloudWatch is not there to read them.
      POWERTOOLS_METRICS_DISABLED: "true",
      ...(guardrail
        ? {
            [ENV.guardrailId]: guardrail.id,
            [ENV.guardrailVersion]: guardrail.version,
            [ENV.guardrailStreamMode]: guardrail.streamMode ?? "sync",
          }
        : {}),
      ...options.env,
    };
    // Set before any handler module loads (they read the environment once per "container").
    for (const [name, value] of Object.entries(env)) {
      savedEnv.set(name, process.env[name]);
      if (value === "") delete process.env[name];
      else process.env[name] = value;
    }
    if (!guardrail) {
      for (const name of [ENV.guardrailId, ENV.guardrailVersion]) {
        if (!savedEnv.has(name)) savedEnv.set(name, process.env[name]);
        delete process.env[name];
      }
    }
    await resetRuntime();

    const web = await new LocalWebServer({
      staticDir: options.staticDir ?? join(REPO_ROOT, "dist", "web"),
      identity,
      port: ports.web ?? 8080,
      edge: () => new Map([[region, { port: Number(new URL(gateway.connectionsEndpoint).port), path: `/${STAGE}` }]]),
      config: (): WebConfig => ({
        regions: [{ region, url: web.wsUrl(region) }],
        auth: { mode: "local", tokenUrl: "/local/token" },
        modelLabel: passthrough
          ? `Local model · ${passthrough.model ?? passthrough.baseUrl}`
          : `Local Bedrock emulator · ${shortModelName(modelId)}`,
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
      userPoolId,
      clientId: CLIENT_ID,
      modelId,
      bedrock,
      gateway,
      identity,
      lambda,
      functions,
      dynamo,
      tables: dynamo.tables,
      env,
      notes,
      async token(user: string) {
        const response = await fetch(`${web.url}local/token?user=${encodeURIComponent(user)}`);
        if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
        return ((await response.json()) as { token: string }).token;
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        // Clients first ($disconnect still reaches DynamoDB; the gateway's close frames pass through the web
        // server's /ws/ edge), then the model (aborting streams ends the workers).
        await gateway.stop();
        await web.stop();
        await bedrock.stop();
        await functions.drain(5_000);
        await lambda.stop();
        await identity.stop();
        await dynamo.stop();
        releaseDataDir();
        restoreEnv(savedEnv);
        await resetRuntime();
      },
    };
  } catch (error) {
    for (const part of started.reverse()) await part.stop().catch(() => undefined);
    restoreEnv(savedEnv);
    throw error;
  }
}

/** `us.anthropic.claude-haiku-4-5-20251001-v1:0` → `claude-haiku-4-5`, for the page's header. */
function shortModelName(modelId: string): string {
  return modelId
    .replace(/^.*[/:]?(?:[a-z]{2}\.)?(?:anthropic|amazon|meta|mistral|cohere|ai21)\./, "")
    .replace(/-\d{8}/, "")
    .replace(/-v\d+(:\d+)?$/, "");
}

async function loadHandler(name: HandlerName): Promise<LambdaHandler> {
  const module = (await import(join(HANDLERS_DIR, `${name}.ts`))) as { handler?: LambdaHandler; default?: { handler?: LambdaHandler } };
  const handler = module.handler ?? module.default?.handler;
  if (typeof handler !== "function") throw new Error(`runtime/handlers/${name}.ts does not export a handler`);
  return handler;
}

/**
 * The runtime caches config and clients per "container" (module scope). A process that starts several stacks
 * (tests) asks it to forget them; a runtime without that hook simply keeps its cache.
 */
async function resetRuntime(): Promise<void> {
  try {
    const container = (await import(join(REPO_ROOT, "runtime", "container.ts"))) as { resetRuntime?: () => void };
    container.resetRuntime?.();
  } catch {
    // no container module: nothing cached
  }
}

function restoreEnv(saved: Map<string, string | undefined>): void {
  for (const [name, value] of saved) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  saved.clear();
}
