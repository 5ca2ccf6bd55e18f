/**
 * Least-privilege IAM for the chat's functions, as plain data: which handler touches what, and the policy
 * statements that grant exactly that on named resources. Pure functions, so the tests and the policy pack read the
 * same rules the program renders.
 */
import type { HandlerName } from "../runtime/env";

export interface Statement {
  Sid: string;
  Effect: "Allow";
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: Statement[];
}

/** What each handler does in AWS, by resource. The DynamoDB actions are the item-level calls it makes. */
export interface HandlerAccess {
  connectionsTable: readonly string[];
  historyTable: readonly string[];
  /** Query on the history table's global secondary indexes. */
  historyIndexes: boolean;
  /**
   * The per-user budget counters (`USER#<id>` items), which every region reads and writes in the home (primary)
   * region's replica of the history table (runtime/store/dynamo-ledger.ts). In the home region the history
   * table statement covers them; elsewhere they are a statement of their own.
   */
  homeCounters: readonly string[];
  /** `execute-api:ManageConnections` HTTP methods on this stage's `@connections` API. */
  connections: readonly ("POST" | "GET" | "DELETE")[];
  /** Posts to connections on the stack's other regional APIs (a turn resumed by a client connected there). */
  postsToPeerRegions: boolean;
  invokesWorker: boolean;
  invokesModel: boolean;
  /** With `chat:worker: ecs`: puts jobs on the region's worker queue (sqs:SendMessage). */
  sendsToWorkerQueue?: boolean;
  /** The worker service: receives, deletes and releases jobs of the region's worker queue. */
  consumesWorkerQueue?: boolean;
  /** The worker service: reads its code bundle from the region's code bucket at start (worker-bootstrap.js). */
  readsWorkerBundle?: boolean;
}

const none: HandlerAccess = {
  connectionsTable: [],
  historyTable: [],
  historyIndexes: false,
  homeCounters: [],
  connections: [],
  postsToPeerRegions: false,
  invokesWorker: false,
  invokesModel: false,
};

/**
 * The access each handler needs (architecture: connect stores the connection, disconnect removes it, message
 * handles every action and hands generation to the worker, the worker streams the model's answer).
 * The DynamoDB actions are those of the runtime's stores (runtime/store/dynamo-*.ts) as each use case calls them.
 */
export const HANDLER_ACCESS: Readonly<Record<HandlerName, HandlerAccess>> = {
  authorizer: none,
  // Stores the connection.
  connect: { ...none, connectionsTable: ["dynamodb:PutItem"] },
  // Removes it.
  disconnect: { ...none, connectionsTable: ["dynamodb:DeleteItem"] },
  // Every action: reads the connection and takes a generation slot on it (UpdateItem);
  // sessions, turns, idempotency claims and rate counters in the history table (claims are released with DeleteItem);
  // `delete` erases a session's items with BatchWriteItem (its own IAM action: DynamoDB API reference, BatchWriteItem).
  message: {
    ...none,
    connectionsTable: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
    historyTable: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:BatchWriteItem"],
    historyIndexes: true,
    // Admission: counts a message, takes a user slot, frees stale ones (UpdateItem); reads slots and tokens (GetItem).
    homeCounters: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
    // POST answers; DELETE closes a connection whose token has expired.
    connections: ["POST", "DELETE"],
    invokesWorker: true,
  },
  // Generation: reads the turn and its context (Query), updates the turn, releases the slot or drops a gone connection;
  // polls the turn's control items (Query) and acknowledges a resuming connection (PutItem), which may be connected
  // to another region's API; erases its turn and control items when the session was deleted meanwhile (BatchWriteItem).
  worker: {
    ...none,
    connectionsTable: ["dynamodb:UpdateItem", "dynamodb:DeleteItem"],
    historyTable: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:BatchWriteItem"],
    // The end of an answer: adds its tokens to the day's count and releases the user's slot (UpdateItem).
    homeCounters: ["dynamodb:UpdateItem"],
    connections: ["POST"],
    postsToPeerRegions: true,
    invokesModel: true,
  },
};

/** The resolved names and ARNs a handler's policy refers to (all in the function's own region). */
export interface PolicyTargets {
  region: string;
  /** The stack's primary region, which keeps the per-user counters for every region (`HOME_REGION`). */
  homeRegion: string;
  account: string;
  logGroupArn: string;
  connectionsTableName: string;
  historyTableName: string;
  historyIndexNames: readonly string[];
  apiId: string;
  stageName: string;
  /** The stack's APIs in its other regions. */
  peerApis: readonly { region: string; apiId: string; stageName: string }[];
  workerFunctionArn: string;
  modelId: string;
  guardrailArn: string;
  /** With `chat:worker: ecs`: this region's worker queue. */
  workerQueueArn?: string;
  /** With `chat:worker: ecs`: the S3 ARN pattern of the worker service's bundles (`arn:aws:s3:::<bucket>/worker-service/*`). */
  workerBundleArn?: string;
}

/** Where a turn's generation runs (config.ts WORKER_MODES). */
export type WorkerHandoff = "lambda" | "ecs";

/**
 * A handler's access under a worker mode: with `ecs` the message handler puts jobs on the queue instead of invoking
 * the worker function.
 */
export function handlerAccess(handler: HandlerName, worker: WorkerHandoff = "lambda"): HandlerAccess {
  const access = HANDLER_ACCESS[handler];
  if (worker === "ecs" && access.invokesWorker) return { ...access, invokesWorker: false, sendsToWorkerQueue: true };
  return access;
}

/**
 * The ECS worker service's task role: exactly the worker function's rights (the same generation code), plus the
 * queue it long-polls (a job is deleted once claimed; released with ChangeMessageVisibility on shutdown) and its own
 * code bundle. No log rights: the awslogs driver writes with the execution role.
 */
export const WORKER_SERVICE_ACCESS: HandlerAccess = {
  ...HANDLER_ACCESS.worker,
  // One process generates many turns: their stop requests and doorbells are one BatchGetItem a poll
  // (runtime/store/dynamo-control-signals.ts; its own IAM action, DynamoDB API reference, BatchGetItem).
  historyTable: [...HANDLER_ACCESS.worker.historyTable, "dynamodb:BatchGetItem"],
  consumesWorkerQueue: true,
  readsWorkerBundle: true,
};

/**
 * SQS actions of the worker service on its queue (SSE-SQS needs no KMS rights: SQS developer guide, "Encryption at rest").
 * sqs:DeleteMessage also authorizes DeleteMessageBatch, which the service uses (SQS developer guide, "Amazon SQS batch
 * actions": batch actions take the single action's permission).
 */
export const WORKER_QUEUE_CONSUMER_ACTIONS = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"] as const;

export function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

/** The policy document for one handler's role. */
export function handlerPolicy(handler: HandlerName, t: PolicyTargets, worker: WorkerHandoff = "lambda"): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      // The function's own log group only (instead of AWSLambdaBasicExecutionRole's logs on "*").
      { Sid: "WriteOwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`${t.logGroupArn}:*`] },
      ...accessStatements(handlerAccess(handler, worker), t),
    ],
  };
}

/** The worker service's task role policy (`t.logGroupArn` is not used: see WORKER_SERVICE_ACCESS). */
export function workerServicePolicy(t: PolicyTargets): PolicyDocument {
  return { Version: "2012-10-17", Statement: accessStatements(WORKER_SERVICE_ACCESS, t) };
}

/**
 * The worker service's execution role: the ECS agent writes the containers' logs to their group. The images are
 * public (ECR Public), pulled without credentials, so no ECR rights (instead of AmazonECSTaskExecutionRolePolicy's
 * ecr:* and logs on "*").
 */
export function workerExecutionPolicy(logGroupArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{ Sid: "WriteServiceLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`${logGroupArn}:*`] }],
  };
}

function accessStatements(access: HandlerAccess, t: PolicyTargets): Statement[] {
  const p = partitionOf(t.region);
  const tableArn = (name: string) => `arn:${p}:dynamodb:${t.region}:${t.account}:table/${name}`;
  const statements: Statement[] = [];
  if (access.connectionsTable.length > 0) {
    statements.push({ Sid: "ConnectionsTable", Effect: "Allow", Action: [...access.connectionsTable], Resource: [tableArn(t.connectionsTableName)] });
  }
  if (access.historyTable.length > 0) {
    statements.push({ Sid: "HistoryTable", Effect: "Allow", Action: [...access.historyTable], Resource: [tableArn(t.historyTableName)] });
  }
  if (access.homeCounters.length > 0 && t.homeRegion !== t.region) {
    statements.push({
      Sid: "HomeRegionCounters",
      Effect: "Allow",
      Action: [...access.homeCounters],
      Resource: [`arn:${partitionOf(t.homeRegion)}:dynamodb:${t.homeRegion}:${t.account}:table/${t.historyTableName}`],
      // Only the per-user items (`USER#<id>`): not turns, sessions or the operator's switch of the home region
      // (IAM: "Using IAM policy conditions for fine-grained access control", dynamodb:LeadingKeys).
      // ForAllValues holds for a request without the key too, so the Null test makes the key required.
      Condition: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["USER#*"] }, Null: { "dynamodb:LeadingKeys": "false" } },
    });
  }
  if (access.historyIndexes && t.historyIndexNames.length > 0) {
    statements.push({
      Sid: "HistoryIndexes",
      Effect: "Allow",
      Action: ["dynamodb:Query"],
      Resource: t.historyIndexNames.map((index) => `${tableArn(t.historyTableName)}/index/${index}`),
    });
  }
  if (access.connections.length > 0) {
    statements.push({
      Sid: "PostToConnections",
      Effect: "Allow",
      Action: ["execute-api:ManageConnections"],
      // arn:aws:execute-api:region:account:api-id/stage/METHOD/@connections/connection-id (API Gateway developer guide,
      // "Use @connections commands in your backend service").
      Resource: access.connections.map((method) => `arn:${p}:execute-api:${t.region}:${t.account}:${t.apiId}/${t.stageName}/${method}/@connections/*`),
    });
  }
  if (access.postsToPeerRegions && t.peerApis.length > 0) {
    statements.push({
      Sid: "PostToPeerRegions",
      Effect: "Allow",
      Action: ["execute-api:ManageConnections"],
      Resource: t.peerApis.map((api) => `arn:${partitionOf(api.region)}:execute-api:${api.region}:${t.account}:${api.apiId}/${api.stageName}/POST/@connections/*`),
    });
  }
  if (access.invokesWorker) {
    statements.push({ Sid: "InvokeWorker", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: [t.workerFunctionArn] });
  }
  if (access.sendsToWorkerQueue || access.consumesWorkerQueue) {
    if (t.workerQueueArn === undefined) throw new Error("the worker queue's ARN is needed for a policy that uses the queue (chat:worker ecs)");
    if (access.sendsToWorkerQueue) statements.push({ Sid: "SendToWorkerQueue", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [t.workerQueueArn] });
    if (access.consumesWorkerQueue) statements.push({ Sid: "ConsumeWorkerQueue", Effect: "Allow", Action: [...WORKER_QUEUE_CONSUMER_ACTIONS], Resource: [t.workerQueueArn] });
  }
  if (access.readsWorkerBundle) {
    if (t.workerBundleArn === undefined) throw new Error("the worker bundle's S3 ARN is needed for the worker service's policy");
    statements.push({ Sid: "ReadWorkerBundle", Effect: "Allow", Action: ["s3:GetObject"], Resource: [t.workerBundleArn] });
  }
  if (access.invokesModel) {
    statements.push(...modelStatements(t.modelId, t.region, t.account));
    // Invoking a model with a guardrail needs ApplyGuardrail on it (Bedrock user guide, "Set up permissions to use
    // guardrails for content filtering").
    statements.push({ Sid: "ApplyOwnGuardrail", Effect: "Allow", Action: ["bedrock:ApplyGuardrail"], Resource: [t.guardrailArn] });
  }
  return statements;
}

/** The action both streaming APIs need (InvokeModelWithResponseStream and ConverseStream). */
export const MODEL_STREAM_ACTION = "bedrock:InvokeModelWithResponseStream";

const PROFILE_PREFIX = /^(us|eu|apac|global|us-gov|ca|jp|au)\./;

/**
 * Statements to stream from `modelId` in `region`:
 * - a foundation model id: that model in this region;
 * - a cross-region inference profile (`us.anthropic.…` or its ARN): the profile in this region, plus the
 *   foundation model in whichever destination region the profile routes to, but only through that profile
 *   (condition `bedrock:InferenceProfileArn`; Bedrock user guide, "Prerequisites for inference profiles").
 */
export function modelStatements(modelId: string, region: string, account: string): Statement[] {
  const p = partitionOf(region);
  const arnMatch = /^arn:[^:]+:bedrock:([^:]*):([^:]*):(inference-profile|foundation-model)\/(.+)$/.exec(modelId);
  if (arnMatch?.[3] === "foundation-model") {
    return [{ Sid: "StreamFromModel", Effect: "Allow", Action: [MODEL_STREAM_ACTION], Resource: [modelId] }];
  }
  const profileId = arnMatch ? arnMatch[4]! : PROFILE_PREFIX.test(modelId) ? modelId : undefined;
  if (profileId === undefined) {
    return [{ Sid: "StreamFromModel", Effect: "Allow", Action: [MODEL_STREAM_ACTION], Resource: [`arn:${p}:bedrock:${region}::foundation-model/${modelId}`] }];
  }
  const profileArn = arnMatch ? modelId : `arn:${p}:bedrock:${region}:${account}:inference-profile/${profileId}`;
  const foundationModel = profileId.replace(PROFILE_PREFIX, "");
  // A global profile's destination is also named without a Region (Bedrock user guide, "Global cross-Region
  // inference", IAM policy example), which a `*` Region segment may not be read to cover: both are listed.
  const destinations = [`arn:${p}:bedrock:*::foundation-model/${foundationModel}`];
  if (profileId.startsWith("global.")) destinations.push(`arn:${p}:bedrock:::foundation-model/${foundationModel}`);
  return [
    { Sid: "StreamThroughProfile", Effect: "Allow", Action: [MODEL_STREAM_ACTION], Resource: [profileArn] },
    {
      Sid: "StreamFromProfileDestinations",
      Effect: "Allow",
      Action: [MODEL_STREAM_ACTION],
      // The destination regions are the profile's, not ours to list; the condition pins the call to the profile.
      Resource: destinations,
      Condition: { StringEquals: { "bedrock:InferenceProfileArn": profileArn } },
    },
  ];
}

/** Trust policy letting one AWS service assume a role, optionally only for a given source (`aws:SourceAccount`). */
export function assumeRolePolicy(service: string, source?: Record<string, string>): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole", ...(source ? { Condition: { StringEquals: source } } : {}) },
    ],
  });
}
