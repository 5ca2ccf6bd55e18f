/**
 * The ECS worker (`chat:worker: ecs`) as the program renders it under mocks: per region the job queue and its
 * dead-letter queue, the message handler's hand-off, the Fargate service (ARM64, pinned image, the bundle by its
 * hash), its network, roles and scaling. String values tsc cannot check are asserted here.
 */
import { createHash } from "node:crypto";
import { expect } from "chai";
import { ENV, WORKER_IN_FLIGHT_METRIC } from "../../runtime/env";
import { MOCK_ACCOUNT } from "../../infra/offline/mock-state";
import { WORKER_QUEUE_CONSUMER_ACTIONS } from "../../infra/permissions";
import { SQS_MAX_MESSAGE_BYTES, SQS_MAX_WAIT_SECONDS } from "../../infra/worker-limits";
import { bootstrapScript, WORKER_HEALTH_PORT, WORKER_IMAGE } from "../../infra/worker-service";
import { healthProbeScript } from "../../runtime/worker-service/health";
import { bundleOptions, ONE_REGION, ONE_REGION_ECS, TWO_REGIONS_ECS_NAT } from "./fixtures";
import { buildStack, type RecordedResource } from "./harness";
import { Stack, TYPES } from "./query";

const W = {
  queue: "aws:sqs/queue:Queue",
  cluster: "aws:ecs/cluster:Cluster",
  service: "aws:ecs/service:Service",
  taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
  ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  subnet: "aws:ec2/subnet:Subnet",
  routeTable: "aws:ec2/routeTable:RouteTable",
  association: "aws:ec2/routeTableAssociation:RouteTableAssociation",
  natGateway: "aws:ec2/natGateway:NatGateway",
  internetGateway: "aws:ec2/internetGateway:InternetGateway",
  scalingTarget: "aws:appautoscaling/target:Target",
  scalingPolicy: "aws:appautoscaling/policy:Policy",
  bucketObject: "aws:s3/bucketObjectv2:BucketObjectv2",
  invokeConfig: "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
} as const;

interface Statement {
  Sid: string;
  Action: string[];
  Resource: string[];
  Condition?: unknown;
}

interface Container {
  name: string;
  image: string;
  entryPoint: string[];
  command: string[];
  user: string;
  readonlyRootFilesystem: boolean;
  stopTimeout: number;
  healthCheck: { command: string[]; interval: number; timeout: number; retries: number; startPeriod: number };
  environment: { name: string; value: string }[];
  logConfiguration: { logDriver: string; options: Record<string, string> };
}

const statementsOf = (policy: RecordedResource) => (JSON.parse(String(policy.inputs.policy)) as { Statement: Statement[] }).Statement;

function containerOf(taskDefinition: RecordedResource): Container {
  const containers = JSON.parse(String(taskDefinition.inputs.containerDefinitions)) as Container[];
  expect(containers).to.have.length(1);
  return containers[0]!;
}

const envOf = (container: Container) => Object.fromEntries(container.environment.map(({ name, value }) => [name, value]));

describe("infra stack: the default worker is the Lambda (chat:worker lambda)", function () {
  this.timeout(120_000);
  it("creates no queue, cluster, service, VPC or code bucket object for a worker service", async () => {
    const stack = new Stack((await buildStack(ONE_REGION, bundleOptions())).resources);
    for (const type of [W.queue, W.cluster, W.service, W.taskDefinition, W.securityGroup, W.scalingTarget, "aws:ec2/vpc:Vpc"]) {
      expect(stack.ofType(type), type).to.have.length(0);
    }
    const message = stack.fn("eu-west-1", "message");
    expect(message.inputs.environment.variables).to.not.have.property(ENV.workerMode);
    expect(message.inputs.environment.variables[ENV.workerFunctionName]).to.be.a("string");
  });
});

for (const [title, config] of [
  ["one region, public subnets", ONE_REGION_ECS],
  ["two regions behind NAT", TWO_REGIONS_ECS_NAT],
] as const) {
  describe(`infra stack: the ECS worker service (${title})`, function () {
    this.timeout(120_000);
    let stack: Stack;
    const regions = config.regions;
    const nat = "workerNetwork" in config && config.workerNetwork === "nat";

    before(async () => {
      stack = new Stack((await buildStack(config, bundleOptions())).resources);
    });

    const queues = (region: string) => {
      const all = stack.inRegion(W.queue, region);
      expect(all).to.have.length(2);
      return { jobs: all.find((q) => q.name.endsWith("-jobs-queue"))!, deadLetters: all.find((q) => q.name.endsWith("-jobs-dlq"))! };
    };

    it("gives each region an SSE-SQS job queue, long-polled, 1 MiB messages, redriven to an encrypted dead-letter queue after 5 receives", () => {
      for (const region of regions) {
        const { jobs, deadLetters } = queues(region);
        for (const queue of [jobs, deadLetters]) expect(queue.inputs.sqsManagedSseEnabled, queue.name).to.equal(true);
        expect(jobs.inputs.receiveWaitTimeSeconds).to.equal(SQS_MAX_WAIT_SECONDS).and.equal(20);
        expect(jobs.inputs.maxMessageSize).to.equal(SQS_MAX_MESSAGE_BYTES);
        expect(JSON.parse(String(jobs.inputs.redrivePolicy))).to.deep.equal({ deadLetterTargetArn: deadLetters.state.arn, maxReceiveCount: 5 });
        // A moved message keeps its enqueue time: the dead-letter queue must keep messages longer.
        expect(deadLetters.inputs.messageRetentionSeconds).to.be.above(Number(jobs.inputs.messageRetentionSeconds));
        const allow = stack.inRegion("aws:sqs/redriveAllowPolicy:RedriveAllowPolicy", region);
        expect(allow).to.have.length(1);
        expect(JSON.parse(String(allow[0]!.inputs.redriveAllowPolicy))).to.deep.equal({ redrivePermission: "byQueue", sourceQueueArns: [jobs.state.arn] });
      }
    });

    it("alarms on dead letters and on the oldest job's age to the region's alarm topic", () => {
      for (const region of regions) {
        const { jobs, deadLetters } = queues(region);
        const topic = stack.inRegion("aws:sns/topic:Topic", region)[0]!;
        const alarms = stack.inRegion(TYPES.alarm, region);
        const dlq = alarms.find((a) => a.inputs.dimensions?.QueueName === deadLetters.state.name)!;
        expect(dlq.inputs).to.include({ namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", threshold: 1 });
        expect(dlq.inputs.alarmActions).to.deep.equal([topic.state.arn]);
        const age = alarms.filter((a) => a.inputs.dimensions?.QueueName === jobs.state.name && a.inputs.alarmActions?.[0] === topic.state.arn);
        expect(age).to.have.length(1);
        expect(age[0]!.inputs).to.include({ metricName: "ApproximateAgeOfOldestMessage", threshold: 60 });
      }
    });

    it("hands turns to the queue: the message function sends to its region's queue only, and no worker function exists", () => {
      for (const region of regions) {
        const { jobs } = queues(region);
        const names = stack.inRegion(TYPES.function, region).map((f) => f.name);
        expect(names.sort()).to.deep.equal(["authorizer", "connect", "disconnect", "message"].map((h) => `chat-${region}-${h}-fn`).sort());
        expect(stack.inRegion(W.invokeConfig, region)).to.have.length(0);
        const variables = stack.fn(region, "message").inputs.environment.variables as Record<string, string>;
        expect(variables[ENV.workerMode]).to.equal("ecs");
        expect(variables[ENV.workerQueueUrl]).to.equal(jobs.state.url);
        expect(variables[ENV.workerQueueMaxReceives]).to.equal("5");
        expect(variables).to.not.have.property(ENV.workerFunctionName);
        const policy = stack.one(TYPES.rolePolicy, `chat-${region}-message-policy`);
        const statements = statementsOf(policy);
        expect(statements.filter((s) => s.Action.some((a) => a.startsWith("sqs:")))).to.deep.equal([
          { Sid: "SendToWorkerQueue", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [jobs.state.arn] },
        ]);
        expect(statements.flatMap((s) => s.Action)).to.not.include("lambda:InvokeFunction");
      }
    });

    it("runs a Fargate task on ARM64 (Linux) from the pinned public Node image, started by the bootstrap as PID 1", () => {
      expect(WORKER_IMAGE).to.match(/^public\.ecr\.aws\/docker\/library\/node@sha256:[0-9a-f]{64}$/);
      for (const region of regions) {
        const [task] = stack.inRegion(W.taskDefinition, region);
        expect(task!.inputs.requiresCompatibilities).to.deep.equal(["FARGATE"]);
        expect(task!.inputs.networkMode).to.equal("awsvpc");
        expect(task!.inputs.runtimePlatform).to.deep.equal({ cpuArchitecture: "ARM64", operatingSystemFamily: "LINUX" });
        const container = containerOf(task!);
        expect(container.image).to.equal(WORKER_IMAGE);
        expect(container.entryPoint).to.deep.equal(["node"]);
        expect(container.command).to.deep.equal(["-e", bootstrapScript()]);
        expect(container).to.include({ user: "node", readonlyRootFilesystem: true });
        const logGroup = stack.inRegion(TYPES.logGroup, region).find((g) => g.state.name === container.logConfiguration.options["awslogs-group"]);
        expect(logGroup, "the container's log group is the stack's").to.not.equal(undefined);
        expect(logGroup!.inputs.retentionInDays).to.equal(30);
        expect(container.logConfiguration.logDriver).to.equal("awslogs");
        expect(container.logConfiguration.options["awslogs-region"]).to.equal(region);
      }
    });

    it("sizes the task from config and drains before stopTimeout (≤ 120 s)", () => {
      for (const region of regions) {
        const [task] = stack.inRegion(W.taskDefinition, region);
        expect(task!.inputs).to.include({ cpu: "512", memory: "1024" });
        const container = containerOf(task!);
        const env = envOf(container);
        expect(container.stopTimeout).to.equal(120);
        expect(Number(env[ENV.workerDrainMs])).to.equal(100_000).and.be.below(container.stopTimeout * 1000);
        expect(env[ENV.workerTurnsPerTask]).to.equal("100");
        expect(env[ENV.workerMode]).to.equal("ecs");
        expect(env[ENV.workerQueueUrl]).to.equal(queues(region).jobs.state.url);
        expect(env[ENV.workerQueueMaxReceives]).to.equal("5");
        expect(env.AWS_REGION).to.equal(region);
      }
    });

    it("checks the container's health: the probe asks the runtime's loopback endpoint on the port the environment names", () => {
      for (const region of regions) {
        const container = containerOf(stack.inRegion(W.taskDefinition, region)[0]!);
        expect(envOf(container)[ENV.workerHealthPort]).to.equal(String(WORKER_HEALTH_PORT));
        expect(container.healthCheck).to.deep.equal({
          command: ["CMD", "node", "-e", healthProbeScript(WORKER_HEALTH_PORT, 4_000)],
          interval: 30,
          timeout: 5,
          retries: 3,
          startPeriod: 60,
        });
        // The probe gives up before ECS's own timeout does.
        expect(4_000).to.be.below(container.healthCheck.timeout * 1000);
      }
    });

    it("fetches the bundle by its hash: the S3 object's key and content match WORKER_BUNDLE_SHA256 and the URL", () => {
      for (const region of regions) {
        const env = envOf(containerOf(stack.inRegion(W.taskDefinition, region)[0]!));
        const [object] = stack.inRegion(W.bucketObject, region).filter((o) => String(o.inputs.key).startsWith("worker-service/"));
        const sha = createHash("sha256").update(String(object!.inputs.content), "utf8").digest("hex");
        expect(env.WORKER_BUNDLE_SHA256).to.equal(sha);
        expect(object!.inputs.key).to.equal(`worker-service/${sha}.cjs`);
        // A rolled-back deployment still finds the previous bundle.
        expect(object!.retainOnDelete).to.equal(true);
        const bucket = stack.inRegion(TYPES.bucket, region).find((b) => b.state.bucket === object!.inputs.bucket)!;
        expect(env.WORKER_BUNDLE_URL).to.equal(`https://${bucket.state.bucketRegionalDomainName}/worker-service/${sha}.cjs`);
        const block = stack.inRegion(TYPES.publicAccessBlock, region).find((b) => b.inputs.bucket === bucket.state.bucket);
        expect(block?.inputs).to.include({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
      }
    });

    it(`runs the service on Fargate with the circuit breaker, ${nat ? "in private subnets behind one NAT gateway" : "in public subnets with public IPs and no NAT gateway"}`, () => {
      for (const region of regions) {
        const [service] = stack.inRegion(W.service, region);
        const [task] = stack.inRegion(W.taskDefinition, region);
        expect(service!.inputs.launchType).to.equal("FARGATE");
        expect(service!.inputs.taskDefinition).to.equal(task!.state.arn);
        expect(service!.inputs.cluster).to.equal(stack.inRegion(W.cluster, region)[0]!.state.arn);
        expect(service!.inputs.deploymentCircuitBreaker).to.deep.equal({ enable: true, rollback: true });
        expect(service!.inputs.desiredCount).to.equal(nat ? 2 : 1);
        const network = service!.inputs.networkConfiguration as { subnets: string[]; securityGroups: string[]; assignPublicIp: boolean };
        expect(network.assignPublicIp).to.equal(!nat);
        expect(network.subnets).to.have.length(2);
        // Each task subnet's route table sends 0.0.0.0/0 to the internet gateway (public) or the NAT gateway.
        for (const subnetId of network.subnets) {
          const association = stack.inRegion(W.association, region).find((a) => a.inputs.subnetId === subnetId)!;
          const table = stack.inRegion(W.routeTable, region).find((t) => t.id === association.inputs.routeTableId)!;
          const [route] = table.inputs.routes as { cidrBlock: string; gatewayId?: string; natGatewayId?: string }[];
          expect(route!.cidrBlock).to.equal("0.0.0.0/0");
          if (nat) expect(route!.natGatewayId).to.equal(stack.inRegion(W.natGateway, region)[0]!.id);
          else expect(route!.gatewayId).to.equal(stack.inRegion(W.internetGateway, region)[0]!.id);
        }
        expect(stack.inRegion(W.natGateway, region)).to.have.length(nat ? 1 : 0);
        // DynamoDB and S3 through free gateway endpoints on the tasks' route table, never through the NAT's per-GB charge.
        const taskRouteTables = network.subnets.map((subnetId) => stack.inRegion(W.association, region).find((a) => a.inputs.subnetId === subnetId)!.inputs.routeTableId);
        const endpoints = stack.inRegion("aws:ec2/vpcEndpoint:VpcEndpoint", region);
        expect(endpoints.map((e) => e.inputs.serviceName).sort()).to.deep.equal([`com.amazonaws.${region}.dynamodb`, `com.amazonaws.${region}.s3`]);
        for (const endpoint of endpoints) {
          expect(endpoint.inputs.vpcEndpointType).to.equal("Gateway");
          expect(endpoint.inputs.routeTableIds).to.deep.equal([taskRouteTables[0]]);
        }
        const subnetZones = stack.inRegion(W.subnet, region).filter((s) => network.subnets.includes(s.id)).map((s) => s.inputs.availabilityZone);
        expect(new Set(subnetZones).size, "two Availability Zones").to.equal(2);
        // No task starts before its subnets have their way out: until a subnet's association exists it uses the VPC's
        // main route table (no route out), and the NAT gateway takes minutes to become available.
        const taskAssociations = stack.inRegion(W.association, region).filter((a) => network.subnets.includes(a.inputs.subnetId as string));
        expect(taskAssociations).to.have.length(2);
        for (const needed of [...taskAssociations, ...endpoints]) expect(service!.dependencies, needed.name).to.include(needed.urn);
      }
    });

    it("lets nothing in and only HTTPS out: the tasks' security group has no inbound rule and one outbound rule, TCP 443", () => {
      expect(stack.ofType(W.ingressRule)).to.have.length(0);
      for (const region of regions) {
        const [service] = stack.inRegion(W.service, region);
        const groups = stack.inRegion(W.securityGroup, region);
        expect(groups).to.have.length(1);
        expect((service!.inputs.networkConfiguration as { securityGroups: string[] }).securityGroups).to.deep.equal([groups[0]!.id]);
        expect(groups[0]!.inputs.ingress).to.deep.equal([]);
        expect(groups[0]!.inputs.egress).to.deep.equal([{ description: "HTTPS to AWS APIs and the image registry", protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }]);
      }
    });

    it("scales between min and max tasks on in-flight turns per task (the runtime's metric, exactly) and on the oldest job's age", () => {
      for (const region of regions) {
        const [target] = stack.inRegion(W.scalingTarget, region);
        const [service] = stack.inRegion(W.service, region);
        const [cluster] = stack.inRegion(W.cluster, region);
        expect(target!.inputs).to.include({ serviceNamespace: "ecs", scalableDimension: "ecs:service:DesiredCount", minCapacity: nat ? 2 : 1, maxCapacity: nat ? 10 : 4 });
        expect(target!.inputs.resourceId).to.equal(`service/${cluster!.state.name}/${service!.state.name}`);
        const policies = stack.inRegion(W.scalingPolicy, region);
        const tracking = policies.find((p) => p.inputs.policyType === "TargetTrackingScaling")!;
        const metric = tracking.inputs.targetTrackingScalingPolicyConfiguration.customizedMetricSpecification;
        const env = envOf(containerOf(stack.inRegion(W.taskDefinition, region)[0]!));
        expect(metric).to.deep.equal({
          namespace: env.POWERTOOLS_METRICS_NAMESPACE,
          metricName: WORKER_IN_FLIGHT_METRIC.name,
          dimensions: [{ name: "service", value: "worker-service" }],
          statistic: "Average",
          unit: "Count",
        });
        expect(env.POWERTOOLS_METRICS_NAMESPACE).to.equal("StreamingChat/chat-test");
        expect(tracking.inputs.targetTrackingScalingPolicyConfiguration.targetValue).to.equal(70);
        const step = policies.find((p) => p.inputs.policyType === "StepScaling")!;
        expect(step.inputs.stepScalingPolicyConfiguration.adjustmentType).to.equal("ChangeInCapacity");
        const alarm = stack.inRegion(TYPES.alarm, region).find((a) => a.inputs.alarmActions?.[0] === step.state.arn)!;
        expect(alarm.inputs).to.include({ namespace: "AWS/SQS", metricName: "ApproximateAgeOfOldestMessage" });
        expect(alarm.inputs.dimensions).to.deep.equal({ QueueName: queues(region).jobs.state.name });
      }
    });

    it("gives the task role the worker function's rights plus its own queue and bundles, and the execution role only its logs", () => {
      for (const region of regions) {
        const { jobs } = queues(region);
        const task = stack.inRegion(W.taskDefinition, region)[0]!;
        const taskRole = stack.inRegion(TYPES.role, region).find((r) => r.state.arn === task.inputs.taskRoleArn)!;
        const executionRole = stack.inRegion(TYPES.role, region).find((r) => r.state.arn === task.inputs.executionRoleArn)!;
        for (const role of [taskRole, executionRole]) {
          expect(JSON.parse(String(role.inputs.assumeRolePolicy)).Statement).to.deep.equal([
            { Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole", Condition: { StringEquals: { "aws:SourceAccount": MOCK_ACCOUNT } } },
          ]);
        }
        const policyOf = (role: RecordedResource) => stack.inRegion(TYPES.rolePolicy, region).filter((p) => p.inputs.role === role.id);
        const [taskPolicy] = policyOf(taskRole);
        const statements = statementsOf(taskPolicy!);
        expect(statements.map((s) => s.Sid)).to.include.members(["ConnectionsTable", "HistoryTable", "PostToConnections", "ApplyOwnGuardrail", "ConsumeWorkerQueue", "ReadWorkerBundle"]);
        expect(statements.map((s) => s.Sid)).to.not.include.members(["WriteOwnLogs", "SendToWorkerQueue", "InvokeWorker"]);
        expect(statements.find((s) => s.Sid === "ConsumeWorkerQueue")).to.deep.include({ Action: [...WORKER_QUEUE_CONSUMER_ACTIONS], Resource: [jobs.state.arn] });
        const bucket = stack.inRegion(TYPES.bucket, region).find((b) => b.name.endsWith("-worker-code"))!;
        expect(statements.find((s) => s.Sid === "ReadWorkerBundle")).to.deep.include({ Action: ["s3:GetObject"], Resource: [`${bucket.state.arn}/worker-service/*`] });
        // Only this region's queue and table replicas (the per-user counters of the home region have their own statement).
        const regional = statements.filter((s) => ["ConnectionsTable", "HistoryTable", "ConsumeWorkerQueue"].includes(s.Sid)).flatMap((s) => s.Resource);
        expect(regional).to.have.length(3);
        for (const resource of regional) expect(resource.split(":")[3], resource).to.equal(region);
        const [executionPolicy] = policyOf(executionRole);
        const logGroup = containerOf(task).logConfiguration.options["awslogs-group"];
        expect(statementsOf(executionPolicy!)).to.deep.equal([
          { Sid: "WriteServiceLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`arn:aws:logs:${region}:${MOCK_ACCOUNT}:log-group:${logGroup}:*`] },
        ]);
      }
    });
  });
}

describe("infra stack: a code change rolls the worker service", function () {
  this.timeout(120_000);
  it("a different bundle is a different object key and task definition", async () => {
    const build = async (code: string) => {
      const sha256 = createHash("sha256").update(code).digest("hex");
      const stack = new Stack((await buildStack(ONE_REGION_ECS, { ...bundleOptions(), workerServiceBundle: () => ({ code, sha256 }) })).resources);
      const object = stack.ofType(W.bucketObject).find((o) => String(o.inputs.key).startsWith("worker-service/"))!;
      return { key: object.inputs.key as string, containers: String(stack.ofType(W.taskDefinition)[0]!.inputs.containerDefinitions), sha256 };
    };
    const one = await build("console.log(1);");
    const two = await build("console.log(2);");
    expect(one.key).to.equal(`worker-service/${one.sha256}.cjs`);
    expect(two.key).to.not.equal(one.key);
    expect(two.containers).to.not.equal(one.containers);
    expect(two.containers).to.include(two.sha256);
  });
});

describe("infra stack: the worker's subnets are only in zones where Fargate runs", function () {
  this.timeout(120_000);
  it("leaves out us-west-1's usw1-az2 and ap-northeast-1's apne1-az3 by zone ID (the mocks map a → az1, b → az2, c → az3)", async () => {
    const stack = new Stack((await buildStack({ regions: ["us-west-1", "ap-northeast-1"], worker: "ecs", workerNetwork: "nat" }, bundleOptions())).resources);
    for (const [region, unsupported] of [["us-west-1", "us-west-1b"], ["ap-northeast-1", "ap-northeast-1c"]] as const) {
      const [service] = stack.inRegion(W.service, region);
      const taskSubnets = (service!.inputs.networkConfiguration as { subnets: string[] }).subnets;
      const zones = stack.inRegion(W.subnet, region).filter((s) => taskSubnets.includes(s.id)).map((s) => s.inputs.availabilityZone);
      expect(zones, region).to.have.length(2).and.not.include(unsupported);
      expect(new Set(zones).size, region).to.equal(2);
    }
  });
});

describe("infra stack: the worker service's names and sizes AWS accepts (long regions, a long stack name)", function () {
  this.timeout(120_000);
  let stack: Stack;
  before(async () => {
    const config = { regions: ["ap-southeast-2", "ap-northeast-1"], worker: "ecs", workerNetwork: "nat" };
    stack = new Stack((await buildStack(config, { ...bundleOptions(), stack: "customer-production-eu" })).resources);
  });

  // Physical names: the given name, else Pulumi's autoname `<logical>-<7 random chars>` (what the mocks record).
  const RULES: { type: string; field: string; max: number; pattern: RegExp; source: string }[] = [
    { type: W.queue, field: "name", max: 80, pattern: /^[A-Za-z0-9_-]+$/, source: "SQS CreateQueue QueueName" },
    { type: W.cluster, field: "name", max: 255, pattern: /^[A-Za-z0-9_-]+$/, source: "ECS CreateCluster clusterName" },
    { type: W.service, field: "name", max: 255, pattern: /^[A-Za-z0-9_-]+$/, source: "ECS CreateService serviceName" },
    { type: W.taskDefinition, field: "family", max: 255, pattern: /^[A-Za-z0-9_-]+$/, source: "ECS RegisterTaskDefinition family" },
    { type: W.securityGroup, field: "name", max: 255, pattern: /^[\x20-\x7e]+$/, source: "EC2 CreateSecurityGroup GroupName" },
    { type: W.scalingPolicy, field: "name", max: 256, pattern: /^[\x20-\x7e]+$/, source: "Application Auto Scaling PutScalingPolicy PolicyName" },
    { type: TYPES.role, field: "name", max: 64, pattern: /^[\w+=,.@-]+$/, source: "IAM CreateRole RoleName" },
    { type: TYPES.bucket, field: "bucket", max: 63, pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, source: "S3 bucket naming rules" },
  ];
  for (const rule of RULES) {
    it(`${rule.type.split(":").pop()} names fit ${rule.source} (≤ ${rule.max})`, () => {
      const resources = stack.ofType(rule.type);
      expect(resources).to.have.length.above(0);
      for (const resource of resources) {
        const name = String(resource.inputs[rule.field] ?? resource.state[rule.field]);
        expect(name.length, name).to.be.at.most(rule.max);
        expect(name, rule.source).to.match(rule.pattern);
      }
    });
  }

  it("keeps each task definition under ECS's 64 KiB (the bootstrap script and the environment included)", () => {
    // ECS service quotas: "Task definition size", 64 KiB.
    for (const task of stack.ofType(W.taskDefinition)) {
      expect(Buffer.byteLength(JSON.stringify(task.inputs), "utf8")).to.be.below(64 * 1024);
    }
  });
});
