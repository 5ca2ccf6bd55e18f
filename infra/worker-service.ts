/**
 * One region's ECS worker service (`chat:worker: ecs`): a Fargate service on ARM64 that long-polls the region's job
 * queue and streams many turns in one Node process (runtime/worker-service/main.ts).
 *
 * No Docker build: the task runs a pinned public Node image and starts with worker-bootstrap.js, which fetches the
 * service's esbuild bundle from this region's code bucket by its SHA-256 (the object's key) and runs it. A code
 * change is a new key, a new task definition revision and a rolling deployment (with the circuit breaker's rollback).
 *
 * Plain @pulumi/aws resources, not awsx.ecs.FargateService: awsx's components are remote and opaque under the
 * tests' mocks, so neither the tests nor the policy pack could see the task definition, roles or network.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ENV, WORKER_IN_FLIGHT_METRIC } from "../runtime/env";
import { healthProbeScript } from "../runtime/worker-service/health";
import type { ServiceBundle } from "./bundle";
import type { WorkerServiceSettings } from "./config";
import { assumeRolePolicy, workerExecutionPolicy, workerServicePolicy, type PolicyTargets } from "./permissions";
import { WorkerNetwork } from "./worker-network";

/**
 * node:22-bookworm-slim (Node 22.23.2), pinned by its multi-platform image index, which includes linux/arm64 v8:
 * docker-library/repo-info, repos/node/remote/22-bookworm-slim.md at commit 3179cb4d576b9929bf86873c87f279ac67661c6e
 * ("docker pull node@sha256:48e4…"). Pulled from ECR Public's mirror of the Docker Official Images (same manifests,
 * no Docker Hub pull limits, no credentials). Re-pin with the same file when Node 22 gets a security release.
 */
export const WORKER_IMAGE = "public.ecr.aws/docker/library/node@sha256:48e4b67d85f87bd551df43704e24d252f56cc5f8e9718841aace50f19948f0f9";

/** Asserted as strings by the tests and the policy pack (tsc cannot catch a wrong value). */
export const WORKER_CPU_ARCHITECTURE = "ARM64";
export const WORKER_LAUNCH_TYPE = "FARGATE";
export const WORKER_CONTAINER = "worker";

/** The worker service's loopback health endpoint (runtime/worker-service/health.ts) and the container check that asks it. */
export const WORKER_HEALTH_PORT = 8081;
/**
 * ECS container health check, in seconds (ECS API reference, HealthCheck: interval 5-300, timeout 2-60, retries 1-10,
 * startPeriod 0-300). The start period covers fetching the bundle from S3 and loading it; then three failed checks in a
 * row (about 90 s of a blocked event loop) mark the task unhealthy, and the service replaces it.
 */
export const WORKER_HEALTH_CHECK = { interval: 30, timeout: 5, retries: 3, startPeriod: 60 } as const;

/** S3 key prefix of the bundles; the task role may read only these. */
export const BUNDLE_PREFIX = "worker-service/";

/** The worker service's scaling target: in-flight turns per task, as a share of the turns a task may take. */
export const IN_FLIGHT_TARGET_SHARE = 0.7;
/** The oldest job's age (s) from which the backlog policy adds tasks, and from which it adds two at a time. */
export const BACKLOG_AGE_SECONDS = 10;
export const BACKLOG_SURGE_AGE_SECONDS = 30;

/** worker-bootstrap.js followed by its start call: the container's `node -e` script. */
export function bootstrapScript(): string {
  return `${fs.readFileSync(path.join(__dirname, "worker-bootstrap.js"), "utf8")}\nstart();\n`;
}

export interface WorkerServiceArgs {
  /** Task size, scaling bounds, networking, drain and stop timeout (config.ts). */
  readonly settings: WorkerServiceSettings;
  /** The runtime's environment shared with the functions (runtime/env.ts names). */
  readonly environment: Record<string, pulumi.Input<string>>;
  /** The job queue this service consumes. */
  readonly queue: { url: pulumi.Input<string>; arn: pulumi.Input<string>; name: pulumi.Input<string> };
  /** What the task role's policy names: the worker function's targets (tables, APIs, model, guardrail). */
  readonly policyTargets: pulumi.Input<Omit<PolicyTargets, "logGroupArn" | "workerQueueArn" | "workerBundleArn">>;
  /** The service's esbuild bundle and its SHA-256. */
  readonly bundle: ServiceBundle;
  /** CloudWatch namespace of the service's EMF metrics (POWERTOOLS_METRICS_NAMESPACE), one per stack. */
  readonly metricNamespace: string;
  readonly logRetentionDays: pulumi.Input<number>;
}

export class WorkerService extends pulumi.ComponentResource {
  public readonly clusterName: pulumi.Output<string>;
  public readonly serviceName: pulumi.Output<string>;
  public readonly taskRoleArn: pulumi.Output<string>;
  /** The task role's rendered policy (JSON), for tests and reviews. */
  public readonly taskPolicy: pulumi.Output<string>;

  constructor(name: string, args: WorkerServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chat:worker:WorkerService", name, {}, opts);
    const parent = { parent: this };
    const { settings } = args;
    const region = aws.getRegionOutput({}, parent).region;
    const account = aws.getCallerIdentityOutput({}, parent).accountId;
    const network = new WorkerNetwork(`${name}-net`, { mode: settings.network }, parent);

    // The code bucket: private, encrypted, the bundles as objects named by their hash.
    const bucket = new aws.s3.Bucket(`${name}-code`, { forceDestroy: true }, parent);
    new aws.s3.BucketPublicAccessBlock(
      `${name}-code-private`,
      { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      parent,
    );
    new aws.s3.BucketOwnershipControls(`${name}-code-ownership`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, parent);
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-code-encryption`,
      { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }] },
      parent,
    );
    const bundleKey = `${BUNDLE_PREFIX}${args.bundle.sha256}.cjs`;
    // Kept when a new bundle replaces it: ECS may still start tasks of the previous revision (a deployment that the
    // circuit breaker rolls back, after `pulumi up` has finished). Old bundles cost cents; `forceDestroy` empties the
    // bucket when the stack is destroyed.
    const bundleObject = new aws.s3.BucketObjectv2(
      `${name}-bundle`,
      { bucket: bucket.id, key: bundleKey, content: args.bundle.code, contentType: "application/javascript" },
      { ...parent, retainOnDelete: true },
    );

    const logs = new aws.cloudwatch.LogGroup(`${name}-logs`, { retentionInDays: args.logRetentionDays }, parent);

    // ECS tasks assume both roles; only for this account (ECS developer guide, "Amazon ECS task IAM role":
    // aws:SourceAccount against the confused deputy).
    const trust = account.apply((id) => assumeRolePolicy("ecs-tasks.amazonaws.com", { "aws:SourceAccount": id }));
    const executionRole = new aws.iam.Role(`${name}-execution-role`, { assumeRolePolicy: trust }, parent);
    const executionPolicy = new aws.iam.RolePolicy(
      `${name}-execution-policy`,
      { role: executionRole.id, policy: logs.arn.apply((arn) => JSON.stringify(workerExecutionPolicy(arn))) },
      parent,
    );
    const taskRole = new aws.iam.Role(`${name}-task-role`, { assumeRolePolicy: trust }, parent);
    this.taskPolicy = pulumi
      .all([pulumi.output(args.policyTargets), args.queue.arn, bucket.arn, logs.arn])
      .apply(([targets, workerQueueArn, bucketArn, logGroupArn]) =>
        JSON.stringify(workerServicePolicy({ ...targets, logGroupArn, workerQueueArn, workerBundleArn: `${bucketArn}/${BUNDLE_PREFIX}*` })),
      );
    const taskPolicy = new aws.iam.RolePolicy(`${name}-task-policy`, { role: taskRole.id, policy: this.taskPolicy }, parent);

    const environment: Record<string, pulumi.Input<string>> = {
      ...args.environment,
      [ENV.workerMode]: "ecs",
      [ENV.workerQueueUrl]: args.queue.url,
      [ENV.workerQueueMaxReceives]: String(settings.queueMaxReceives),
      [ENV.workerTurnsPerTask]: String(settings.turnsPerTask),
      [ENV.workerDrainMs]: String(settings.drainSeconds * 1000),
      [ENV.workerHealthPort]: String(WORKER_HEALTH_PORT),
      POWERTOOLS_METRICS_NAMESPACE: args.metricNamespace,
      AWS_REGION: region,
      // worker-bootstrap.js: what to fetch and check.
      WORKER_BUNDLE_URL: pulumi.interpolate`https://${bucket.bucketRegionalDomainName}/${bundleKey}`,
      WORKER_BUNDLE_SHA256: args.bundle.sha256,
    };
    const containerDefinitions = pulumi
      .all([pulumi.output(environment), logs.name, region])
      .apply(([variables, logGroup, logRegion]) =>
        JSON.stringify([
          {
            name: WORKER_CONTAINER,
            image: WORKER_IMAGE,
            essential: true,
            // node stays PID 1 (no shell in between), so ECS's SIGTERM reaches the worker service's handler.
            entryPoint: ["node"],
            command: ["-e", bootstrapScript()],
            user: "node",
            readonlyRootFilesystem: true,
            environment: Object.entries(variables)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([key, value]) => ({ name: key, value })),
            // SIGKILL this long after SIGTERM; the service drains within it (config.ts keeps drain < stopTimeout ≤ 120).
            stopTimeout: settings.stopTimeoutSeconds,
            // The probe itself answers within the check's timeout (1 s less), so a hung endpoint is a failed check.
            healthCheck: { command: ["CMD", "node", "-e", healthProbeScript(WORKER_HEALTH_PORT, (WORKER_HEALTH_CHECK.timeout - 1) * 1000)], ...WORKER_HEALTH_CHECK },
            logConfiguration: {
              logDriver: "awslogs",
              // The EMF lines (in-flight turns) become metrics from these logs (CloudWatch user guide, "Using the
              // PutLogEvents API to send manually-created embedded metric format logs": no header needed).
              // non-blocking: a slow log delivery must not stall stdout and with it every answer this process streams.
              options: { "awslogs-group": logGroup, "awslogs-region": logRegion, "awslogs-stream-prefix": "worker", mode: "non-blocking", "max-buffer-size": "4m" },
            },
          },
        ]),
      );
    const taskDefinition = new aws.ecs.TaskDefinition(
      `${name}-task`,
      {
        family: name,
        requiresCompatibilities: [WORKER_LAUNCH_TYPE],
        networkMode: "awsvpc",
        cpu: String(settings.cpu),
        memory: String(settings.memoryMb),
        runtimePlatform: { cpuArchitecture: WORKER_CPU_ARCHITECTURE, operatingSystemFamily: "LINUX" },
        executionRoleArn: executionRole.arn,
        taskRoleArn: taskRole.arn,
        containerDefinitions,
      },
      { ...parent, dependsOn: [bundleObject] },
    );

    const cluster = new aws.ecs.Cluster(`${name}-cluster`, {}, parent);
    const service = new aws.ecs.Service(
      `${name}-service`,
      {
        cluster: cluster.arn,
        taskDefinition: taskDefinition.arn,
        desiredCount: settings.minTasks,
        launchType: WORKER_LAUNCH_TYPE,
        platformVersion: "LATEST",
        networkConfiguration: { subnets: network.taskSubnetIds, securityGroups: [network.securityGroupId], assignPublicIp: network.assignPublicIp },
        // A revision whose tasks keep failing to start is rolled back to the last one that ran.
        deploymentCircuitBreaker: { enable: true, rollback: true },
        deploymentMinimumHealthyPercent: 100,
        deploymentMaximumPercent: 200,
        propagateTags: "SERVICE",
        enableEcsManagedTags: true,
      },
      // Scaling owns the task count after creation; the roles' policies and the subnets' way out must be in place
      // before a task starts.
      { ...parent, ignoreChanges: ["desiredCount"], dependsOn: [taskPolicy, executionPolicy, ...network.ready] },
    );
    this.scaling(name, settings, cluster.name, service.name, args);

    this.clusterName = cluster.name;
    this.serviceName = service.name;
    this.taskRoleArn = taskRole.arn;
    this.registerOutputs({ clusterName: this.clusterName, serviceName: this.serviceName, taskRoleArn: this.taskRoleArn });
  }

  /**
   * Target tracking on in-flight turns per task (the service's own EMF metric, Average over its tasks' data points),
   * and a step policy that adds tasks while jobs wait (the oldest job's age), which also covers a burst that
   * arrives faster than the in-flight metric (one data point per WORKER_METRIC_INTERVAL_MS) moves.
   */
  private scaling(name: string, settings: WorkerServiceSettings, cluster: pulumi.Output<string>, service: pulumi.Output<string>, args: WorkerServiceArgs): void {
    const parent = { parent: this };
    const target = new aws.appautoscaling.Target(
      `${name}-scaling`,
      {
        serviceNamespace: "ecs",
        scalableDimension: "ecs:service:DesiredCount",
        resourceId: pulumi.interpolate`service/${cluster}/${service}`,
        minCapacity: settings.minTasks,
        maxCapacity: settings.maxTasks,
      },
      parent,
    );
    const scalable = { serviceNamespace: target.serviceNamespace, scalableDimension: target.scalableDimension, resourceId: target.resourceId };
    new aws.appautoscaling.Policy(
      `${name}-in-flight`,
      {
        ...scalable,
        policyType: "TargetTrackingScaling",
        targetTrackingScalingPolicyConfiguration: {
          targetValue: Math.max(1, Math.round(settings.turnsPerTask * IN_FLIGHT_TARGET_SHARE)),
          customizedMetricSpecification: {
            namespace: args.metricNamespace,
            metricName: WORKER_IN_FLIGHT_METRIC.name,
            dimensions: Object.entries(WORKER_IN_FLIGHT_METRIC.dimensions).map(([key, value]) => ({ name: key, value })),
            statistic: "Average",
            unit: "Count",
          },
          scaleOutCooldown: 60,
          // A scale-in stops a task, which drains its turns for up to the drain time first.
          scaleInCooldown: 300,
        },
      },
      parent,
    );
    const backlog = new aws.appautoscaling.Policy(
      `${name}-backlog`,
      {
        ...scalable,
        policyType: "StepScaling",
        stepScalingPolicyConfiguration: {
          adjustmentType: "ChangeInCapacity",
          metricAggregationType: "Maximum",
          cooldown: 60,
          stepAdjustments: [
            { metricIntervalLowerBound: "0", metricIntervalUpperBound: String(BACKLOG_SURGE_AGE_SECONDS - BACKLOG_AGE_SECONDS), scalingAdjustment: 1 },
            { metricIntervalLowerBound: String(BACKLOG_SURGE_AGE_SECONDS - BACKLOG_AGE_SECONDS), scalingAdjustment: 2 },
          ],
        },
      },
      parent,
    );
    new aws.cloudwatch.MetricAlarm(
      `${name}-backlog-alarm`,
      {
        alarmDescription: `Generation jobs wait ${BACKLOG_AGE_SECONDS} s or more: add worker tasks`,
        namespace: "AWS/SQS",
        metricName: "ApproximateAgeOfOldestMessage",
        dimensions: { QueueName: args.queue.name },
        statistic: "Maximum",
        period: 60,
        evaluationPeriods: 1,
        threshold: BACKLOG_AGE_SECONDS,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        treatMissingData: "notBreaching",
        alarmActions: [backlog.arn],
      },
      parent,
    );
  }
}
