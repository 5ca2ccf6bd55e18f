/** The message handler's dependencies: the stores, the @connections sender and the hand-off to the worker (Lambda or SQS). */
import { lambdaClient } from "../aws/lambda-client";
import { sqsClient } from "../aws/sqs-client";
import { SqsGenerationQueue } from "../aws/sqs-queue";
import { LambdaGenerationQueue } from "../aws/worker-queue";
import { systemClock } from "../chat/clock";
import { ContextReach } from "../chat/context-reach";
import { FrameBudget } from "../chat/frame-budget";
import { CachedOperatorSwitch } from "../chat/operator-switch";
import { dynamo } from "../aws/dynamo-client";
import { DynamoOperatorSwitch } from "../store/dynamo-operator-switch";
import type { MessageDeps } from "../chat/dispatch";
import { createMetrics } from "../metrics";
import { CachedConnectionStore } from "../store/cached-connections";
import { runtimeConfig, runtimeLog } from "./base";
import { stores } from "./stores";

let messageDeps: MessageDeps | undefined;

export function messageDependencies(): MessageDeps {
  if (messageDeps) return messageDeps;
  const cfg = runtimeConfig();
  const { connections, ...rest } = stores(cfg);
  messageDeps = {
    ...rest,
    // Every frame starts with the caller's connection: read once per socket in a warm container.
    connections: new CachedConnectionStore(connections),
    queue:
      cfg.worker.mode === "ecs" ? new SqsGenerationQueue(sqsClient, cfg.worker.queueUrl) : new LambdaGenerationQueue(lambdaClient, cfg.worker.functionName),
    operator: new CachedOperatorSwitch(new DynamoOperatorSwitch(dynamo, cfg.historyTable), cfg.operatorSwitchCacheMs, Date.now, runtimeLog()),
    frameBudget: new FrameBudget(cfg.frameBudget),
    contextReach: new ContextReach(),
    clock: systemClock,
    log: runtimeLog(),
    metrics: createMetrics(),
    settings: {
      region: cfg.region,
      modelId: cfg.model.modelId,
      messagesPerMinute: cfg.messagesPerMinute,
      maxConcurrentPerConnection: cfg.maxConcurrentPerConnection,
      maxConcurrentPerUser: cfg.maxConcurrentPerUser,
      dailyTokenBudget: cfg.dailyTokenBudget,
      contextBudgetTokens: cfg.contextBudgetTokens,
    },
  };
  return messageDeps;
}

export function resetMessage(): void {
  messageDeps = undefined;
}
