/**
 * One region's slice of the local stack, as the program deploys it per region (infra/regional-chat.ts): the
 * unchanged handlers as Lambda functions, the Lambda Invoke API the message handler calls the worker through, and
 * the API Gateway WebSocket emulator with the routes and authorizer the program declares. Shared services (the
 * region's DynamoDB replica, Bedrock, the token issuer) are passed in as endpoints.
 *
 * The handlers read their configuration from the environment once per "container" (module scope), so one process
 * holds one region: stack.ts runs the first region in its own process and each other one in a child process
 * (region-process.ts).
 */
import { join, resolve } from "node:path";
import { ORIGIN_VERIFY_HEADER } from "../auth/origin-verify";
import { ENV, HANDLERS, type HandlerName } from "../env";
import { CLIENT_ACTIONS, SUBPROTOCOL_HEADER } from "../protocol";
import { freePort, type LocalDynamo } from "./emulators/dynamodb";
import { LocalFunctions, type LambdaHandler } from "./emulators/functions";
import { GatewayEmulator, type GatewayLimits } from "./emulators/gateway";
import { LambdaEmulator } from "./emulators/lambda";
import { startWorkerProcess, type WorkerProcess } from "./worker-process";

export const ACCOUNT_ID = "000000000000";
export const API_ID = "localchat0";
export const STAGE = "local";
export const CLIENT_ID = "localchatclient00000000000";

const REPO_ROOT = resolve(__dirname, "..", "..");
const HANDLERS_DIR = resolve(__dirname, "..", "handlers");

export interface RegionOptions {
  region: string;
  /** This region's DynamoDB endpoint (its global-table replica). */
  dynamoEndpoint: string;
  tables: LocalDynamo["tables"];
  bedrockEndpoint: string;
  identityEndpoint: string;
  userPoolId: string;
  /** The X-Origin-Verify value the local edge adds and the authorizer requires (runtime/auth/origin-verify.ts). */
  originSecret: string;
  modelId: string;
  modelApi: "InvokeModelWithResponseStream" | "ConverseStream";
  guardrail?: { id: string; version: string; streamMode?: "sync" | "async" };
  gateway?: Partial<GatewayLimits>;
  ports?: { gateway?: number; lambda?: number };
  /** Lambda timeouts per function, in ms (defaults as the program sets them). */
  functionTimeoutsMs?: Partial<Record<HandlerName, number>>;
  /** Extra or overriding environment for the handlers. */
  env?: Record<string, string>;
  /** Replace handler modules (tests; in-process regions only). */
  handlers?: Partial<Record<HandlerName, () => Promise<LambdaHandler>>>;
  /** Generation in the ECS worker service (its own process, polling the region's job queue) instead of the worker function. */
  workerService?: { sqsEndpoint: string; queueUrl: string; maxReceives: number };
}

export interface LocalRegion {
  region: string;
  gateway: GatewayEmulator;
  lambda: LambdaEmulator;
  functions: LocalFunctions;
  /** The environment the handlers run with. */
  env: Record<string, string>;
  /** The worker service process (LOCAL_WORKER=ecs). */
  workerService?: WorkerProcess;
  /** Stops taking connections (clients get a going-away close; $disconnect still runs). */
  closeGateway(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRegion(options: RegionOptions): Promise<LocalRegion> {
  const { region } = options;
  const started: Array<{ stop(): Promise<void> }> = [];
  const savedEnv = new Map<string, string | undefined>();
  try {
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
      HANDLERS.map((name) => ({ name, timeoutMs: timeouts[name], load: options.handlers?.[name] ?? (() => loadHandler(name)) })),
    );
    const lambda = await new LambdaEmulator({ functions, port: options.ports?.lambda }).start();
    started.push(lambda);
    const gateway = await new GatewayEmulator({
      api: { apiId: API_ID, stage: STAGE, region, accountId: ACCOUNT_ID },
      functions,
      routes: {
        authorizer: "authorizer",
        // As the program declares them (infra/websocket-routes.ts): the token is the second offered subprotocol, and
        // the edge's X-Origin-Verify header; without either the gateway answers 401 and no Lambda runs.
        identitySource: [`route.request.header.${SUBPROTOCOL_HEADER}`, `route.request.header.${ORIGIN_VERIFY_HEADER}`],
        routes: {
          $connect: "connect",
          $disconnect: "disconnect",
          $default: "message",
          // The same routes the program declares (infra/websocket-routes.ts): one per client action.
          ...Object.fromEntries(CLIENT_ACTIONS.map((action) => [action, "message"])),
        },
      },
      limits: options.gateway,
      port: options.ports?.gateway,
    }).start();
    started.push(gateway);

    const guardrail = options.guardrail;
    const env: Record<string, string> = {
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
      AWS_SESSION_TOKEN: "",
      AWS_ENDPOINT_URL_DYNAMODB: options.dynamoEndpoint,
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: options.bedrockEndpoint,
      AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
      AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: options.identityEndpoint,
      [ENV.connectionsTable]: options.tables.connections,
      [ENV.historyTable]: options.tables.history,
      [ENV.connectionsEndpoint]: gateway.connectionsEndpoint,
      [ENV.modelId]: options.modelId,
      [ENV.modelApi]: options.modelApi,
      [ENV.userPoolId]: options.userPoolId,
      [ENV.userPoolClientId]: CLIENT_ID,
      [ENV.originVerifySecrets]: options.originSecret,
      [ENV.workerFunctionName]: "worker",
      [ENV.logLevel]: "WARN",
      POWERTOOLS_LOG_LEVEL: "WARN",
      // EMF metric lines would flood the terminal; CloudWatch is not there to read them.
      POWERTOOLS_METRICS_DISABLED: "true",
      ...(options.workerService
        ? {
            [ENV.workerMode]: "ecs",
            [ENV.workerQueueUrl]: options.workerService.queueUrl,
            [ENV.workerQueueMaxReceives]: String(options.workerService.maxReceives),
            AWS_ENDPOINT_URL_SQS: options.workerService.sqsEndpoint,
            // Ctrl-C ends the local stack's turns within seconds (ECS gives up to 120 s).
            [ENV.workerDrainMs]: "5000",
          }
        : {}),
      ...(guardrail
        ? { [ENV.guardrailId]: guardrail.id, [ENV.guardrailVersion]: guardrail.version, [ENV.guardrailStreamMode]: guardrail.streamMode ?? "sync" }
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
    // Its health endpoint too, as in its container (infra/worker-service.ts), on a port of its own.
    const workerService = options.workerService ? await startWorkerProcess({ ...env, [ENV.workerHealthPort]: String(await freePort()) }) : undefined;
    if (workerService) started.push({ stop: async () => void (await workerService.stop()) });

    let gatewayClosed = false;
    const closeGateway = async () => {
      if (gatewayClosed) return;
      gatewayClosed = true;
      await gateway.stop();
    };
    let stopped = false;
    return {
      region,
      gateway,
      lambda,
      functions,
      env,
      ...(workerService ? { workerService } : {}),
      closeGateway,
      async stop() {
        if (stopped) return;
        stopped = true;
        await closeGateway();
        await Promise.all([functions.drain(5_000), workerService?.stop()]);
        await lambda.stop();
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
