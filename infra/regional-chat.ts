/**
 * Everything one region runs: its guardrail, the five Lambda functions, the WebSocket API with its routes and
 * stage, and alarms. Created once per configured region, on that region's provider (`{ providers: { aws } }`).
 */
import { createHash } from "node:crypto";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ENV, type HandlerName } from "../runtime/env";
import { historyTable } from "../runtime/store/schema";
import type { HandlerBundler, ServiceBundler } from "./bundle";
import { ChatFunction } from "./chat-function";
import type { ChatConfig } from "./config";
import { ChatGuardrail } from "./guardrail";
import { assumeRolePolicy, partitionOf } from "./permissions";
import { createAlarms } from "./alarms";
import { AlarmTopic } from "./alarm-topic";
import { ROUTE_SELECTION_EXPRESSION, STAGE_NAME, WebSocketRoutes } from "./websocket-routes";
import { WorkerQueue } from "./worker-queue";
import { WorkerService } from "./worker-service";

/** Timeout (s) and memory (MB) per handler: the worker streams for minutes, the others answer within seconds. */
export const FUNCTION_SIZES: Readonly<Record<HandlerName, { timeoutSeconds: number; memoryMb: number }>> = {
  authorizer: { timeoutSeconds: 10, memoryMb: 256 },
  connect: { timeoutSeconds: 10, memoryMb: 256 },
  disconnect: { timeoutSeconds: 10, memoryMb: 256 },
  // Below API Gateway's 29 s integration timeout: message only validates, writes and hands off to the worker.
  message: { timeoutSeconds: 20, memoryMb: 512 },
  worker: { timeoutSeconds: 900, memoryMb: 1024 },
};

export interface RegionalChatArgs {
  /** The validated stack config (model, guardrail, limits, quotas, logging). */
  readonly config: ChatConfig;
  /** The Bedrock model id this region calls (`config.modelIdByRegion`), one its region can call. */
  readonly modelId: string;
  /** Physical names of the global tables (the same in every replica region). */
  readonly connectionsTableName: pulumi.Input<string>;
  readonly historyTableName: pulumi.Input<string>;
  /** The Cognito user pool and web client that tokens must come from. */
  readonly userPoolId: pulumi.Input<string>;
  readonly userPoolClientId: pulumi.Input<string>;
  /** Builds each handler's code archive (bundled once per process, shared by every region). */
  readonly bundle: HandlerBundler;
  /** Services besides CloudWatch that publish to this region's alarm topic (AWS Budgets, in the primary region). */
  readonly alarmPublishers?: readonly string[];
  /** The X-Origin-Verify values this region's authorizer accepts, comma-separated (infra/origin-secret.ts; secret). */
  readonly originSecrets: pulumi.Input<string>;
  /** Every regional API of the stack (this one's is left out): the worker posts to clients that resumed a turn there. */
  readonly peerApis: pulumi.Input<{ region: string; apiId: string; stageName: string }[]>;
  /** With `chat:worker: ecs`: builds the worker service's bundle (once per process, shared by every region). */
  readonly workerServiceBundle?: ServiceBundler;
}

export class RegionalChat extends pulumi.ComponentResource {
  public readonly region: pulumi.Output<string>;
  public readonly apiId: pulumi.Output<string>;
  public readonly stageName: pulumi.Output<string>;
  /** `<apiId>.execute-api.<region>.amazonaws.com`, the CloudFront origin. */
  public readonly apiDomain: pulumi.Output<string>;
  public readonly guardrailId: pulumi.Output<string>;
  public readonly guardrailVersion: pulumi.Output<string>;
  /** The worker function's name is absent with `chat:worker: ecs` (the worker service generates instead). */
  public readonly functionNames: Record<Exclude<HandlerName, "worker">, pulumi.Output<string>> & { worker?: pulumi.Output<string> };
  /** With `chat:worker: ecs`: the region's job queue and worker service. */
  public readonly workerQueue?: WorkerQueue;
  public readonly workerService?: WorkerService;
  /** The region's alarm topic (the primary's also receives the budget's notifications). */
  public readonly alarmTopicArn: pulumi.Output<string>;

  constructor(name: string, args: RegionalChatArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chat:regional:RegionalChat", name, {}, opts);
    const { config } = args;
    const parent = { parent: this };
    const region = aws.getRegionOutput({}, parent).region;
    const account = aws.getCallerIdentityOutput({}, parent).accountId;

    const guardrail = new ChatGuardrail(`${name}-guardrail`, { settings: config.guardrail }, parent);
    const api = new aws.apigatewayv2.Api(
      `${name}-api`,
      { protocolType: "WEBSOCKET", routeSelectionExpression: ROUTE_SELECTION_EXPRESSION, description: "Streaming chat" },
      parent,
    );
    const apiDomain = pulumi.interpolate`${api.id}.execute-api.${region}.amazonaws.com`;

    const alarmTopic = new AlarmTopic(
      `${name}-alarms`,
      { ...(config.ceiling.alarmEmail !== undefined ? { email: config.ceiling.alarmEmail } : {}), publishers: args.alarmPublishers ?? [] },
      parent,
    );
    // With `chat:worker: ecs` turns go through this region's job queue to the worker service, and the worker
    // function is not created: nothing would invoke it, and its reserved concurrency would hold back account capacity.
    const service = config.worker.service;
    const workerQueue = service
      ? new WorkerQueue(`${name}-jobs`, { maxReceives: service.queueMaxReceives, alarmTopicArn: alarmTopic.topicArn }, parent)
      : undefined;

    // The worker's name is fixed so the message handler (and the worker itself) can be told it before it exists.
    const workerName = workerFunctionName();
    const workerArn = pulumi.interpolate`arn:${region.apply(partitionOf)}:lambda:${region}:${account}:function:${workerName}`;
    const { modelId } = args;

    const chatEnvironment: Record<string, pulumi.Input<string>> = {
      [ENV.connectionsTable]: args.connectionsTableName,
      [ENV.historyTable]: args.historyTableName,
      [ENV.connectionsEndpoint]: pulumi.interpolate`https://${apiDomain}/${STAGE_NAME}`,
      [ENV.modelId]: modelId,
      [ENV.modelApi]: config.modelApi,
      [ENV.guardrailId]: guardrail.guardrailId,
      [ENV.guardrailVersion]: guardrail.version,
      [ENV.guardrailStreamMode]: config.guardrail.streamProcessingMode,
      [ENV.maxOutputTokens]: String(config.maxOutputTokens),
      [ENV.contextBudgetTokens]: String(config.contextBudgetTokens),
      [ENV.flushIntervalMs]: String(config.flushIntervalMs),
      [ENV.stopPollMs]: String(config.stopPollMs),
      [ENV.historyRetentionDays]: String(config.historyRetentionDays),
      [ENV.messagesPerMinute]: String(config.quotas.messagesPerMinute),
      [ENV.maxConcurrentPerConnection]: String(config.quotas.maxConcurrentPerConnection),
      [ENV.maxConcurrentPerUser]: String(config.quotas.maxConcurrentPerUser),
      [ENV.dailyTokenBudget]: String(config.quotas.dailyTokenBudget),
      // Every region counts each user's budget in the primary region's replica (runtime/store/dynamo-ledger.ts).
      [ENV.homeRegion]: config.primaryRegion,
      [ENV.userPoolId]: args.userPoolId,
      [ENV.userPoolClientId]: args.userPoolClientId,
      ...(service && workerQueue
        ? { [ENV.workerMode]: "ecs", [ENV.workerQueueUrl]: workerQueue.queueUrl, [ENV.workerQueueMaxReceives]: String(service.queueMaxReceives) }
        : { [ENV.workerFunctionName]: workerName }),
      [ENV.logLevel]: config.logLevel,
      POWERTOOLS_SERVICE_NAME: "streaming-chat",
    };
    // The authorizer needs only the pool and client, and the origin secrets: it does not depend on tables or the model.
    const authorizerEnvironment: Record<string, pulumi.Input<string>> = {
      [ENV.userPoolId]: args.userPoolId,
      [ENV.userPoolClientId]: args.userPoolClientId,
      [ENV.originVerifySecrets]: args.originSecrets,
      [ENV.logLevel]: config.logLevel,
      POWERTOOLS_SERVICE_NAME: "streaming-chat",
    };

    const policyTargets = pulumi.output({
      region,
      homeRegion: config.primaryRegion,
      account,
      connectionsTableName: args.connectionsTableName,
      historyTableName: args.historyTableName,
      historyIndexNames: historyTable.globalIndexes.map((index) => index.name),
      apiId: api.id,
      stageName: STAGE_NAME,
      peerApis: pulumi.all([args.peerApis, region]).apply(([apis, own]) => apis.filter((peer) => peer.region !== own)),
      workerFunctionArn: workerArn,
      modelId,
      guardrailArn: guardrail.guardrailArn,
      ...(workerQueue ? { workerQueueArn: workerQueue.queueArn } : {}),
    });
    const fn = (handler: HandlerName, functionName?: pulumi.Input<string>) =>
      new ChatFunction(
        `${name}-${handler}`,
        {
          handler,
          code: args.bundle(handler),
          environment: handler === "authorizer" ? authorizerEnvironment : chatEnvironment,
          ...FUNCTION_SIZES[handler],
          policyTargets,
          logRetentionDays: config.logRetentionDays,
          logLevels: { application: config.logLevel, system: config.systemLogLevel },
          ...(functionName !== undefined ? { functionName } : {}),
          // The stack's ceiling: at most this many answers generate at once in the region.
          ...(handler === "worker" && config.ceiling.workerReservedConcurrency > 0 ? { reservedConcurrency: config.ceiling.workerReservedConcurrency } : {}),
          ...(workerQueue ? { workerHandoff: "ecs" as const } : {}),
        },
        parent,
      );
    const functions = {
      authorizer: fn("authorizer"),
      connect: fn("connect"),
      disconnect: fn("disconnect"),
      message: fn("message"),
    };
    const worker = workerQueue ? undefined : fn("worker", workerName);
    if (worker) {
      // The worker is invoked asynchronously; a retry would generate the same answer twice.
      new aws.lambda.FunctionEventInvokeConfig(
        `${name}-worker-async`,
        { functionName: worker.function.name, maximumRetryAttempts: 0, maximumEventAgeInSeconds: 300 },
        parent,
      );
    }
    if (workerQueue && service) {
      if (!args.workerServiceBundle) throw new Error("chat:worker ecs needs the worker service's bundler (StackOptions.workerServiceBundle)");
      this.workerQueue = workerQueue;
      this.workerService = new WorkerService(
        `${name}-worker`,
        {
          settings: service,
          environment: chatEnvironment,
          queue: { url: workerQueue.queueUrl, arn: workerQueue.queueArn, name: workerQueue.queueName },
          policyTargets,
          bundle: args.workerServiceBundle(),
          metricNamespace: workerMetricNamespace(),
          logRetentionDays: config.logRetentionDays,
        },
        parent,
      );
    }

    // API Gateway would create the stage's execution-log group itself on first use, kept forever and unmanaged;
    // created first under the same name, it is the program's, with retention (API Gateway developer guide, "Set up
    // CloudWatch logging for WebSocket APIs": `API-Gateway-Execution-Logs_{apiId}/{stageName}`).
    const executionLogs = new aws.cloudwatch.LogGroup(
      `${name}-execution-logs`,
      { name: executionLogGroupName(api.id, STAGE_NAME), retentionInDays: config.logRetentionDays },
      parent,
    );
    const stageDependsOn = [executionLogs, ...(config.apiGatewayLoggingRole ? [this.apiGatewayLoggingRole(name, account)] : [])];
    const target = (f: ChatFunction) => ({ arn: f.function.arn, invokeArn: f.function.invokeArn });
    const routes = new WebSocketRoutes(
      `${name}-ws`,
      {
        apiId: api.id,
        executionArn: api.executionArn,
        functions: {
          authorizer: target(functions.authorizer),
          connect: target(functions.connect),
          disconnect: target(functions.disconnect),
          message: target(functions.message),
        },
        throttling: config.throttling,
        logRetentionDays: config.logRetentionDays,
        stageDependsOn,
      },
      parent,
    );
    createAlarms(name, {
      apiId: api.id,
      stageName: routes.stageName,
      functionNames: { message: functions.message.function.name, ...(worker ? { worker: worker.function.name } : {}) },
      modelId,
      hourlyTokenAlarm: config.ceiling.hourlyTokenAlarm,
      topicArn: alarmTopic.topicArn,
    }, this);
    this.alarmTopicArn = alarmTopic.topicArn;

    this.region = region;
    this.apiId = api.id;
    this.stageName = routes.stageName;
    this.apiDomain = apiDomain;
    this.guardrailId = guardrail.guardrailId;
    this.guardrailVersion = guardrail.version;
    this.functionNames = {
      authorizer: functions.authorizer.function.name,
      connect: functions.connect.function.name,
      disconnect: functions.disconnect.function.name,
      message: functions.message.function.name,
      ...(worker ? { worker: worker.function.name } : {}),
    };
    this.registerOutputs({
      region: this.region,
      guardrailId: this.guardrailId,
      guardrailVersion: this.guardrailVersion,
    });
  }

  /**
   * API Gateway writes access and execution logs through one CloudWatch role per account and region (API Gateway
   * developer guide, "Set up CloudWatch logging for WebSocket APIs"). Off by default (`chat:apiGatewayLoggingRole`):
   * the setting belongs to the whole account and region, and with @pulumi/aws 7 (Terraform provider v6) destroying
   * `aws.apigateway.Account` resets it (v6 upgrade guide, `aws_api_gateway_account`), which would stop the logs of
   * every other API there. When on, the setting, the role and its policy are retained on delete.
   */
  private apiGatewayLoggingRole(name: string, account: pulumi.Output<string>): pulumi.Resource {
    const retained = { parent: this, retainOnDelete: true };
    const role = new aws.iam.Role(
      `${name}-apigw-logs-role`,
      // Only API Gateway acting for this account may assume it (IAM user guide, "The confused deputy problem").
      { assumeRolePolicy: account.apply((id) => assumeRolePolicy("apigateway.amazonaws.com", { "aws:SourceAccount": id })) },
      retained,
    );
    const attachment = new aws.iam.RolePolicyAttachment(
      `${name}-apigw-logs-policy`,
      { role: role.name, policyArn: "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs" },
      retained,
    );
    return new aws.apigateway.Account(`${name}-apigw-account`, { cloudwatchRoleArn: role.arn }, { ...retained, dependsOn: [attachment] });
  }
}

/** The log group API Gateway writes a stage's execution logs to. */
export function executionLogGroupName(apiId: pulumi.Input<string>, stageName: string): pulumi.Output<string> {
  return pulumi.interpolate`API-Gateway-Execution-Logs_${apiId}/${stageName}`;
}

/**
 * The CloudWatch namespace of the worker service's EMF metrics, one per stack: the in-flight metric's dimensions are
 * fixed (runtime/env.ts WORKER_IN_FLIGHT_METRIC), so two stacks in one account and region would otherwise scale on
 * each other's turns.
 */
export function workerMetricNamespace(project = pulumi.getProject(), stack = pulumi.getStack()): string {
  return `StreamingChat/${project}-${stack}`;
}

/** The worker's fixed function name: `<project>-<stack>-worker`, at most 64 characters. */
export function workerFunctionName(project = pulumi.getProject(), stack = pulumi.getStack()): string {
  const name = `${project}-${stack}-worker`.replace(/[^A-Za-z0-9_-]/g, "-");
  return name.length <= 64 ? name : `${name.slice(0, 55)}-${createHash("sha256").update(name).digest("hex").slice(0, 8)}`;
}
