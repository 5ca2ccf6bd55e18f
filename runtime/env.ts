/**
 * The environment contract between the Pulumi program (which sets these on every Lambda function), the local
 * stack (which sets them on its process) and the runtime (which reads them once, in runtime/config.ts).
 * Endpoints are not here: the AWS SDK reads `AWS_ENDPOINT_URL_<SERVICE>` itself.
 */
export const ENV = {
  /** Physical name of the connections table. */
  connectionsTable: "CONNECTIONS_TABLE",
  /** Physical name of the chat history table. */
  historyTable: "HISTORY_TABLE",
  /** https URL of this region's @connections API: `https://<apiId>.execute-api.<region>.amazonaws.com/<stage>`. */
  connectionsEndpoint: "CONNECTIONS_ENDPOINT",
  /** Bedrock model id or inference profile id/ARN. */
  modelId: "MODEL_ID",
  /** `InvokeModelWithResponseStream` (default) or `ConverseStream`. */
  modelApi: "MODEL_API",
  /** Bedrock Guardrail id and published version for this region. */
  guardrailId: "GUARDRAIL_ID",
  guardrailVersion: "GUARDRAIL_VERSION",
  /** `sync` or `async` guardrail stream processing. */
  guardrailStreamMode: "GUARDRAIL_STREAM_MODE",
  /** Upper bound on the model's answer, in tokens. */
  maxOutputTokens: "MAX_OUTPUT_TOKENS",
  /** How much history (in estimated tokens) is sent with a prompt. */
  contextBudgetTokens: "CONTEXT_BUDGET_TOKENS",
  /** Coalescing: at most one delta frame per this many milliseconds after the first. */
  flushIntervalMs: "FLUSH_INTERVAL_MS",
  /** How often a generating invocation checks for a stop request. */
  stopPollMs: "STOP_POLL_MS",
  /** Days a session's turns are kept (DynamoDB TTL); 0 keeps them forever. */
  historyRetentionDays: "HISTORY_RETENTION_DAYS",
  /** Per-user quotas. */
  messagesPerMinute: "MESSAGES_PER_MINUTE",
  maxConcurrentPerConnection: "MAX_CONCURRENT_PER_CONNECTION",
  /** Optional: answers generating at once per user, across connections and regions (2). */
  maxConcurrentPerUser: "MAX_CONCURRENT_PER_USER",
  /** Optional: input + output tokens per user per UTC day; 0 = unlimited (0). */
  dailyTokenBudget: "DAILY_TOKEN_BUDGET",
  /**
   * Optional: the stack's primary region, which keeps the per-user counters (messages a minute, answers at once,
   * tokens a day) for every region (default: this function's own region).
   */
  homeRegion: "HOME_REGION",
  /** Optional: the DynamoDB endpoint of the home region when it differs from AWS_ENDPOINT_URL_DYNAMODB (local stacks). */
  homeDynamoEndpoint: "HOME_DYNAMODB_ENDPOINT",
  /** Optional: per-connection frame budget, a token bucket: burst size (30) and refill per second (5). */
  frameBurst: "FRAME_BURST",
  framesPerSecond: "FRAMES_PER_SECOND",
  /** Optional: frames refused in a row by the frame budget after which the connection is closed (20). */
  frameStrikes: "FRAME_STRIKES_BEFORE_CLOSE",
  /** Optional: how long a warm message handler trusts its last read of the operator's kill switch, ms (15000). */
  operatorSwitchCacheMs: "OPERATOR_SWITCH_CACHE_MS",
  /** Cognito user pool and app client that tokens must come from. */
  userPoolId: "USER_POOL_ID",
  userPoolClientId: "USER_POOL_CLIENT_ID",
  /** Name (or ARN) of the generation worker function that the message handler invokes asynchronously. */
  workerFunctionName: "WORKER_FUNCTION_NAME",
  /** Log level for the structured logger (Powertools reads POWERTOOLS_LOG_LEVEL too). */
  logLevel: "LOG_LEVEL",
  /**
   * Optional: the InvokeModelWithResponseStream body format, `anthropic` or `nova`. Inferred from MODEL_ID when it
   * names the model (ids and system inference profiles do); needed for application inference profile ARNs.
   */
  modelFamily: "MODEL_FAMILY",
  /**
   * The $connect authorizer: the values of the `X-Origin-Verify` header it accepts, comma-separated (the one the
   * stack's CloudFront distribution sends now and the one it sent before a rotation). Unset: the header is not
   * checked (a local stack without the edge); the program always sets it (runtime/auth/origin-verify.ts).
   */
  originVerifySecrets: "ORIGIN_VERIFY_SECRETS",
  /** The pre-sign-up trigger: e-mail domains allowed to sign up by themselves, comma-separated (example.com,example.org). */
  signUpEmailDomains: "SIGN_UP_EMAIL_DOMAINS",
  /** Optional: the worker closes a turn cleanly when less than this many ms of its Lambda time remain (10000). */
  deadlineMarginMs: "DEADLINE_MARGIN_MS",
  /**
   * Where the message handler hands a turn to: `lambda` (default: WORKER_FUNCTION_NAME, invoked asynchronously) or
   * `ecs` (WORKER_QUEUE_URL, the SQS queue that the worker service long-polls).
   */
  workerMode: "WORKER_MODE",
  /** With WORKER_MODE=ecs: the URL of this region's generation job queue (message handler and worker service). */
  workerQueueUrl: "WORKER_QUEUE_URL",
  /**
   * With WORKER_MODE=ecs: the queue's redrive maxReceiveCount (5). The program sets both from one value; the worker
   * service tells the client about a job it could not claim only on this last receive, before the job goes to the DLQ.
   */
  workerQueueMaxReceives: "WORKER_QUEUE_MAX_RECEIVES",
  /** The worker service: turns one process generates at once; it stops taking jobs at this many (100). */
  workerTurnsPerTask: "WORKER_TURNS_PER_TASK",
  /**
   * The worker service: after SIGTERM, how long remaining turns may run before they are ended cleanly, ms (100000;
   * keep it under the ECS container's stopTimeout, at most 120 s).
   */
  workerDrainMs: "WORKER_DRAIN_MS",
  /** The worker service: the loopback port of its health endpoint for the container's health check; unset, none. */
  workerHealthPort: "WORKER_HEALTH_PORT",
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];

/** The runtime's Lambda entry points, bundled by the program from `runtime/handlers/<name>.ts`, export `handler`. */
export const HANDLERS = ["authorizer", "connect", "disconnect", "message", "worker"] as const;
export type HandlerName = (typeof HANDLERS)[number];

/** Cognito triggers, bundled like the handlers from `runtime/handlers/<name>.ts` (the user pool invokes them). */
export const AUTH_TRIGGERS = ["pre-sign-up"] as const;
export type AuthTriggerName = (typeof AUTH_TRIGGERS)[number];

/**
 * The ECS worker service's entry point, `runtime/worker-service/main.ts`: a long-running process (not a Lambda
 * handler) that the program bundles on its own, with the AWS SDK's container credential provider included.
 */
export const WORKER_SERVICE_ENTRY = "runtime/worker-service/main.ts";

/**
 * The worker service publishes its in-flight turns (EMF, namespace POWERTOOLS_METRICS_NAMESPACE or
 * "StreamingChat", unit Count, every WORKER_METRIC_INTERVAL_MS) with exactly these dimensions; the program's
 * target-tracking scaling policy names the same metric and dimensions.
 */
export const WORKER_IN_FLIGHT_METRIC = { name: "InFlightTurns", dimensions: { service: "worker-service" } } as const;
export const WORKER_METRIC_INTERVAL_MS = 10_000;

/** Every Lambda entry point the program bundles. */
export const ENTRY_POINTS = [...HANDLERS, ...AUTH_TRIGGERS] as const;
export type EntryPointName = (typeof ENTRY_POINTS)[number];
