/**
 * Rules over the ECS worker (`chat:worker: ecs`): its job queues, the tasks' security group, the Fargate task
 * definition and service, and the task role's scope. The limits are AWS's, each cited (the pack stays self-contained,
 * so they are repeated here rather than imported from infra/worker-limits.ts; test/infra/policy-worker.test.ts keeps
 * the two in step).
 */
import { statementGrants } from "./iam";
import { ofType, refersTo, roleStatements } from "./links";
import { T } from "./types";
import { isRecord, label, list, record, text, texts, type ResourceRule, type StackResourceView, type StackRule, type Violation } from "./view";

/** Fargate: stopTimeout at most 120 s (ECS API reference, ContainerDefinition.stopTimeout). */
export const MAX_STOP_TIMEOUT_SECONDS = 120;
/** SQS: RedrivePolicy maxReceiveCount 1-1000; ReceiveMessageWaitTimeSeconds 0-20; MaximumMessageSize 1024-1048576 (SetQueueAttributes). */
/** ECS HealthCheck ranges (ECS API reference, HealthCheck), as infra/worker-limits.ts has them. */
export const HEALTH_CHECK_RANGES = { interval: [5, 300], timeout: [2, 60], retries: [1, 10], startPeriod: [0, 300] } as const;
export const SQS_RANGES = { maxReceiveCount: [1, 1000], receiveWaitTimeSeconds: [0, 20], maxMessageSize: [1024, 1_048_576] } as const;

/** The environment variable of the worker service's drain time (runtime/env.ts ENV.workerDrainMs). */
const DRAIN_VARIABLE = "WORKER_DRAIN_MS";

function json(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}

const sqsEncrypted: ResourceRule = {
  name: "sqs-queue-encrypted",
  description: "SQS queues (the worker's jobs and dead letters) are encrypted at rest: SSE-SQS (sqsManagedSseEnabled) or a KMS key.",
  types: [T.sqsQueue],
  check({ props }) {
    return props.sqsManagedSseEnabled === true || text(props.kmsMasterKeyId) ? [] : ["neither sqsManagedSseEnabled nor kmsMasterKeyId is set: the queue is not encrypted at rest"];
  },
};

const sqsInRange: ResourceRule = {
  name: "sqs-queue-settings-in-range",
  description:
    "SQS settings within what SetQueueAttributes accepts: a redrive policy names a dead-letter queue with maxReceiveCount 1-1000, " +
    "long polling waits at most 20 s, messages are at most 1 MiB.",
  types: [T.sqsQueue],
  check({ props }) {
    const messages: string[] = [];
    const outside = (what: string, value: unknown, [min, max]: readonly [number, number]) => {
      if (value === undefined || value === null) return;
      if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) messages.push(`${what} is ${String(value)}, expected ${min}-${max}`);
    };
    if (props.redrivePolicy !== undefined && props.redrivePolicy !== null && props.redrivePolicy !== "") {
      const policy = record(json(props.redrivePolicy));
      if (!text(policy.deadLetterTargetArn)) messages.push("redrivePolicy names no deadLetterTargetArn");
      if (policy.maxReceiveCount === undefined) messages.push("redrivePolicy has no maxReceiveCount");
      outside("redrivePolicy maxReceiveCount", policy.maxReceiveCount, SQS_RANGES.maxReceiveCount);
    }
    outside("receiveWaitTimeSeconds", props.receiveWaitTimeSeconds, SQS_RANGES.receiveWaitTimeSeconds);
    outside("maxMessageSize", props.maxMessageSize, SQS_RANGES.maxMessageSize);
    return messages;
  },
};

const noInbound: ResourceRule = {
  name: "security-group-no-inbound",
  description: "The stack's security groups (the worker tasks') allow no inbound traffic: no ingress rules, inline or separate.",
  types: [T.securityGroup, T.securityGroupRule, T.vpcIngressRule],
  check({ type, props }) {
    if (type === T.vpcIngressRule) return ["an ingress rule opens the group to inbound traffic"];
    if (type === T.securityGroupRule) return props.type === "ingress" ? ["an ingress rule opens the group to inbound traffic"] : [];
    const rules = list(props.ingress);
    return rules.length === 0 ? [] : [`has ${rules.length} inbound rule(s)`];
  },
};

/** An outbound rule's protocol and ports as the providers spell them (ec2 inline/SecurityGroupRule, or vpc egress rule). */
function isHttpsOnly(rule: Record<string, unknown>): boolean {
  const protocol = String(rule.protocol ?? rule.ipProtocol ?? "").toLowerCase();
  return (protocol === "tcp" || protocol === "6") && Number(rule.fromPort) === 443 && Number(rule.toPort) === 443;
}

const httpsEgressOnly: ResourceRule = {
  name: "security-group-https-egress-only",
  description:
    "The stack's security groups (the worker tasks') let out HTTPS (TCP 443) only, which is all the tasks speak; the VPC's DNS " +
    "resolver, the task credentials endpoint and time sync are not filtered by security groups (VPC user guide, \"Security group rules\").",
  types: [T.securityGroup, T.securityGroupRule, T.vpcEgressRule],
  check({ type, props }) {
    if (type === T.securityGroupRule && props.type !== "egress") return [];
    const rules = type === T.securityGroup ? list(props.egress).map(record) : [props];
    return rules.filter((rule) => !isHttpsOnly(rule)).map((rule) => `lets out ${String(rule.protocol ?? rule.ipProtocol)} ${String(rule.fromPort)}-${String(rule.toPort)}, expected TCP 443 only`);
  },
};

interface ContainerView {
  name?: unknown;
  image?: unknown;
  stopTimeout?: unknown;
  environment?: unknown;
  healthCheck?: unknown;
}

/** What is wrong with a container's health check: missing, without a command, or a setting outside ECS's range. */
function healthCheckProblems(name: string, value: unknown): string[] {
  if (!isRecord(value)) return [`container ${name} has no health check (ECS cannot replace a task whose process hangs)`];
  const command = texts(value.command);
  const problems = command.length < 2 || !["CMD", "CMD-SHELL"].includes(command[0]!) ? [`container ${name} health check command is ${JSON.stringify(value.command)}, expected ["CMD", …] or ["CMD-SHELL", …]`] : [];
  for (const [field, [min, max]] of Object.entries(HEALTH_CHECK_RANGES)) {
    const setting = value[field];
    if (setting === undefined) continue;
    if (typeof setting !== "number" || !Number.isInteger(setting) || setting < min || setting > max) problems.push(`container ${name} health check ${field} is ${String(setting)}, expected ${min}-${max}`);
  }
  return problems;
}

const fargateTask: ResourceRule = {
  name: "ecs-fargate-arm64-task",
  description:
    "ECS task definitions run on Fargate only (awsvpc), on ARM64 Linux; every container has a stopTimeout of at most 120 s " +
    "(Fargate's maximum) above the worker's drain time, an image pinned by digest, and a health check within ECS's ranges.",
  types: [T.ecsTaskDefinition],
  check({ props }) {
    const messages: string[] = [];
    const compatibilities = texts(props.requiresCompatibilities);
    if (compatibilities.length !== 1 || compatibilities[0] !== "FARGATE") messages.push(`requiresCompatibilities is ${JSON.stringify(compatibilities)}, expected ["FARGATE"]`);
    if (props.networkMode !== "awsvpc") messages.push(`networkMode is ${String(props.networkMode)}, expected awsvpc`);
    const platform = record(props.runtimePlatform);
    if (platform.cpuArchitecture !== "ARM64") messages.push(`runtimePlatform.cpuArchitecture is ${String(platform.cpuArchitecture)}, expected ARM64`);
    if (platform.operatingSystemFamily !== "LINUX") messages.push(`runtimePlatform.operatingSystemFamily is ${String(platform.operatingSystemFamily)}, expected LINUX`);
    const containers = json(props.containerDefinitions);
    if (!Array.isArray(containers)) return [...messages, "containerDefinitions is not a JSON list"];
    for (const container of containers.filter(isRecord) as ContainerView[]) {
      const name = text(container.name) ?? "?";
      const stop = container.stopTimeout;
      if (typeof stop !== "number" || stop > MAX_STOP_TIMEOUT_SECONDS || stop < 1) {
        messages.push(`container ${name} stopTimeout is ${String(stop)}, expected 1-${MAX_STOP_TIMEOUT_SECONDS} s (the default 30 s cuts a drain short)`);
      }
      const drain = list(container.environment).map(record).find((v) => v.name === DRAIN_VARIABLE);
      if (drain !== undefined && typeof stop === "number" && !(Number(drain.value) < stop * 1000)) {
        messages.push(`container ${name} drains for ${String(drain.value)} ms, not less than its stopTimeout of ${stop} s`);
      }
      if (!/@sha256:[0-9a-f]{64}$/.test(text(container.image) ?? "")) messages.push(`container ${name} image ${String(container.image)} is not pinned by digest`);
      messages.push(...healthCheckProblems(name, container.healthCheck));
    }
    return messages;
  },
};

const fargateService: ResourceRule = {
  name: "ecs-service-fargate-circuit-breaker",
  description: "ECS services run on Fargate (launch type or capacity providers) with the deployment circuit breaker on and rolling back.",
  types: [T.ecsService],
  check({ props }) {
    const messages: string[] = [];
    const providers = list(props.capacityProviderStrategies).map((s) => text(record(s).capacityProvider));
    const onFargate = props.launchType === "FARGATE" || (providers.length > 0 && providers.every((p) => p === "FARGATE" || p === "FARGATE_SPOT"));
    if (!onFargate) messages.push(`launchType is ${String(props.launchType)} and no Fargate capacity provider: expected FARGATE`);
    const breaker = record(props.deploymentCircuitBreaker);
    if (breaker.enable !== true || breaker.rollback !== true) messages.push("deploymentCircuitBreaker is not enabled with rollback");
    return messages;
  },
};

/** A queue's redrive policy names `deadLetters` (by dependency URN under CrossGuard, else by ARN). */
function redrivesTo(queue: StackResourceView, deadLetters: StackResourceView): boolean {
  const urns = queue.propertyDependencies?.redrivePolicy;
  if (urns && urns.length > 0 && deadLetters.urn) return urns.includes(deadLetters.urn);
  const target = text(record(json(queue.props.redrivePolicy)).deadLetterTargetArn);
  return target !== undefined && target === text(deadLetters.props.arn);
}

const deadLetterQueues: StackRule = {
  name: "sqs-dead-letter-queue",
  description: "Every SQS queue that is not itself a dead-letter queue redrives to a dead-letter queue of this stack.",
  check(resources) {
    const queues = ofType(resources, T.sqsQueue);
    const isDeadLetterQueue = (q: StackResourceView) => queues.some((other) => other !== q && redrivesTo(other, q));
    return queues
      .filter((queue) => !isDeadLetterQueue(queue) && !queues.some((other) => other !== queue && redrivesTo(queue, other)))
      .map((queue) => ({ message: `${label(queue)} has no dead-letter queue of this stack`, urn: queue.urn, name: queue.name }));
  },
};

/** The region of an ARN (`arn:partition:service:region:…`). */
const arnRegion = (arn: string) => arn.split(":")[3];

const taskRoleScoped: StackRule = {
  name: "ecs-task-role-scoped",
  description:
    "An ECS task role's SQS rights name only queues of this stack in the task's own region, and its DynamoDB table rights " +
    "only tables of that region (the per-user counters of the home region, under a dynamodb:LeadingKeys condition, excepted).",
  check(resources) {
    const violations: Violation[] = [];
    const roles = ofType(resources, T.role);
    const queueArns = ofType(resources, T.sqsQueue).map((q) => text(q.props.arn)).filter((a): a is string => a !== undefined);
    for (const task of ofType(resources, T.ecsTaskDefinition)) {
      if (task.region === undefined) continue;
      const role = roles.find((r) => refersTo(task, "taskRoleArn", r));
      if (!role) continue;
      for (const statement of roleStatements(role, resources)) {
        const resourcesOf = texts(statement.Resource);
        if (texts(statement.Action).some((a) => a.toLowerCase().startsWith("sqs:"))) {
          for (const arn of resourcesOf.filter((arn) => arnRegion(arn) !== task.region || !queueArns.includes(arn))) {
            violations.push({ message: `${label(role)} of ${label(task)} in ${task.region} grants SQS on ${arn}, not a queue of this stack in its region`, urn: role.urn, name: role.name });
          }
        }
        const pinnedToUsers = JSON.stringify(statement.Condition).includes("dynamodb:LeadingKeys");
        if (statementGrants(statement, "dynamodb:GetItem") || statementGrants(statement, "dynamodb:UpdateItem") || statementGrants(statement, "dynamodb:Query")) {
          if (pinnedToUsers) continue;
          for (const arn of resourcesOf.filter((arn) => arn.includes(":table/") && arnRegion(arn) !== task.region)) {
            violations.push({ message: `${label(role)} of ${label(task)} in ${task.region} grants DynamoDB on ${arn} in another region`, urn: role.urn, name: role.name });
          }
        }
      }
    }
    return violations;
  },
};

/** The Bedrock actions that run a model (ConverseStream is authorized by InvokeModelWithResponseStream). */
const MODEL_ACTIONS = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"];

const tasksGuarded: StackRule = {
  name: "ecs-model-callers-guarded",
  description:
    "Every ECS task definition whose task role may invoke a Bedrock model gives its containers GUARDRAIL_ID and " +
    "GUARDRAIL_VERSION (the worker service's counterpart of model-callers-guarded).",
  check(resources) {
    const violations: Violation[] = [];
    const roles = ofType(resources, T.role);
    for (const task of ofType(resources, T.ecsTaskDefinition)) {
      const role = roles.find((r) => refersTo(task, "taskRoleArn", r));
      if (!role) continue;
      if (!roleStatements(role, resources).some((s) => MODEL_ACTIONS.some((action) => statementGrants(s, action)))) continue;
      const containers = json(task.props.containerDefinitions);
      for (const container of (Array.isArray(containers) ? containers.filter(isRecord) : []) as ContainerView[]) {
        const names = list(container.environment).map((v) => record(v).name);
        const missing = ["GUARDRAIL_ID", "GUARDRAIL_VERSION"].filter((name) => !names.includes(name));
        if (missing.length > 0) {
          violations.push({ message: `${label(task)} container ${String(container.name)} may invoke a model but its environment lacks ${missing.join(", ")}`, urn: task.urn, name: task.name });
        }
      }
    }
    return violations;
  },
};

/** Every rule of this file, by name: the worker-less stacks have nothing for them to judge. */
export const workerResourceRules: readonly ResourceRule[] = [sqsEncrypted, sqsInRange, noInbound, httpsEgressOnly, fargateTask, fargateService];
export const workerStackRules: readonly StackRule[] = [deadLetterQueues, taskRoleScoped, tasksGuarded];
export const WORKER_RULE_NAMES: readonly string[] = [...workerResourceRules, ...workerStackRules].map((rule) => rule.name);

