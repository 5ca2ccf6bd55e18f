/**
 * The policy pack over stacks with the ECS worker (`chat:worker: ecs`, public subnets and NAT): every rule passes on
 * every resource (the new queues, security group, task definition, service, roles and code bucket included), and
 * each of the worker's rules fails a bad variant derived from the real recorded resource.
 */
import { expect } from "chai";
import { resourceRules, stackRules, TYPES as T, WORKER_RULE_NAMES, type ResourceView, type StackResourceView } from "../../infra/policy/rules";
import { HEALTH_CHECK_RANGES, MAX_STOP_TIMEOUT_SECONDS, SQS_RANGES } from "../../infra/policy/worker-rules";
import { ECS_HEALTH_CHECK_RANGES, FARGATE_STOP_TIMEOUT_MAX_SECONDS, SQS_MAX_MESSAGE_BYTES, SQS_MAX_RECEIVE_COUNT, SQS_MAX_WAIT_SECONDS } from "../../infra/worker-limits";
import { bundleOptions, ONE_REGION_ECS, TWO_REGIONS_ECS_NAT } from "./fixtures";
import { buildStack, regionOfProvider, type RecordedResource } from "./harness";

type Props = Record<string, unknown>;
const copy = <V>(value: V): V => structuredClone(value);
const resourceView = (r: RecordedResource): ResourceView => ({ type: r.type, name: r.name, props: r.inputs });
const stackView = (r: RecordedResource): StackResourceView => ({
  type: r.type,
  name: r.name,
  id: r.id,
  props: { ...r.inputs, ...r.state },
  ...(regionOfProvider(r.provider) !== undefined ? { region: regionOfProvider(r.provider) } : {}),
});

function rule(name: string) {
  const found = resourceRules.find((r) => r.name === name);
  if (!found) throw new Error(`no resource rule ${name}`);
  return found;
}
function stackRule(name: string) {
  const found = stackRules.find((r) => r.name === name);
  if (!found) throw new Error(`no stack rule ${name}`);
  return found;
}

const isJobQueue = (r: RecordedResource) => r.type === T.sqsQueue && r.name.endsWith("-jobs-queue");
type Container = Props & { environment: { name: string; value: string }[] };
const editContainers = (p: Props, edit: (c: Container) => void) => {
  const containers = JSON.parse(String(p.containerDefinitions)) as Container[];
  containers.forEach(edit);
  p.containerDefinitions = JSON.stringify(containers);
};

const BAD_VARIANTS: { rule: string; what: string; type: string; pick?: (r: RecordedResource) => boolean; spoil: (p: Props) => void; expected: RegExp }[] = [
  { rule: "sqs-queue-encrypted", what: "a queue without SSE", type: T.sqsQueue, spoil: (p) => (p.sqsManagedSseEnabled = false), expected: /not encrypted at rest/ },
  {
    rule: "sqs-queue-settings-in-range",
    what: "maxReceiveCount 0, a 21 s wait and a 2 MiB message",
    type: T.sqsQueue,
    pick: isJobQueue,
    spoil: (p) => {
      p.redrivePolicy = JSON.stringify({ ...(JSON.parse(String(p.redrivePolicy)) as Props), maxReceiveCount: 0 });
      p.receiveWaitTimeSeconds = 21;
      p.maxMessageSize = 2 * 1_048_576;
    },
    expected: /maxReceiveCount is 0, expected 1-1000\nreceiveWaitTimeSeconds is 21, expected 0-20\nmaxMessageSize is 2097152, expected 1024-1048576/,
  },
  { rule: "security-group-https-egress-only", what: "all traffic out", type: T.securityGroup, spoil: (p) => (p.egress = [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }]), expected: /lets out -1 0-0, expected TCP 443 only/ },
  { rule: "security-group-no-inbound", what: "an inline ingress rule", type: T.securityGroup, spoil: (p) => (p.ingress = [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }]), expected: /has 1 inbound rule/ },
  { rule: "ecs-fargate-arm64-task", what: "X86_64", type: T.ecsTaskDefinition, spoil: (p) => (p.runtimePlatform = { cpuArchitecture: "X86_64", operatingSystemFamily: "LINUX" }), expected: /cpuArchitecture is X86_64, expected ARM64/ },
  { rule: "ecs-fargate-arm64-task", what: "the EC2 launch type", type: T.ecsTaskDefinition, spoil: (p) => (p.requiresCompatibilities = ["EC2"]), expected: /requiresCompatibilities is \["EC2"\], expected \["FARGATE"\]/ },
  { rule: "ecs-fargate-arm64-task", what: "stopTimeout 121", type: T.ecsTaskDefinition, spoil: (p) => editContainers(p, (c) => (c.stopTimeout = 121)), expected: /stopTimeout is 121, expected 1-120 s/ },
  {
    rule: "ecs-fargate-arm64-task",
    what: "a drain as long as stopTimeout",
    type: T.ecsTaskDefinition,
    spoil: (p) => editContainers(p, (c) => (c.environment.find((v) => v.name === "WORKER_DRAIN_MS")!.value = "120000")),
    expected: /drains for 120000 ms, not less than its stopTimeout of 120 s/,
  },
  { rule: "ecs-fargate-arm64-task", what: "no health check", type: T.ecsTaskDefinition, spoil: (p) => editContainers(p, (c) => delete c.healthCheck), expected: /container worker has no health check/ },
  {
    rule: "ecs-fargate-arm64-task",
    what: "a health check out of range",
    type: T.ecsTaskDefinition,
    spoil: (p) => editContainers(p, (c) => (c.healthCheck = { command: ["node"], interval: 1, retries: 11 })),
    expected: /health check command is \["node"\], expected.*\n.*interval is 1, expected 5-300\n.*retries is 11, expected 1-10/,
  },
  { rule: "ecs-fargate-arm64-task", what: "an image by tag", type: T.ecsTaskDefinition, spoil: (p) => editContainers(p, (c) => (c.image = "node:22")), expected: /image node:22 is not pinned by digest/ },
  { rule: "ecs-service-fargate-circuit-breaker", what: "no rollback", type: T.ecsService, spoil: (p) => (p.deploymentCircuitBreaker = { enable: true, rollback: false }), expected: /not enabled with rollback/ },
  { rule: "ecs-service-fargate-circuit-breaker", what: "the EC2 launch type", type: T.ecsService, spoil: (p) => (p.launchType = "EC2"), expected: /launchType is EC2/ },
];

describe("policy rules over the ECS worker", () => {
  it("repeats AWS's limits exactly as infra/worker-limits.ts has them", () => {
    expect(MAX_STOP_TIMEOUT_SECONDS).to.equal(FARGATE_STOP_TIMEOUT_MAX_SECONDS);
    expect(SQS_RANGES.maxReceiveCount).to.deep.equal([SQS_MAX_RECEIVE_COUNT.min, SQS_MAX_RECEIVE_COUNT.max]);
    expect(HEALTH_CHECK_RANGES).to.deep.equal(ECS_HEALTH_CHECK_RANGES);
    expect(SQS_RANGES.receiveWaitTimeSeconds[1]).to.equal(SQS_MAX_WAIT_SECONDS);
    expect(SQS_RANGES.maxMessageSize[1]).to.equal(SQS_MAX_MESSAGE_BYTES);
  });

  it("judges separate egress rule resources too: HTTPS passes, anything else fails, ingress is another rule's", () => {
    const check = rule("security-group-https-egress-only").check;
    expect(check({ type: T.vpcEgressRule, props: { ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" } })).to.deep.equal([]);
    expect(check({ type: T.vpcEgressRule, props: { ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" } })).to.have.length(1);
    expect(check({ type: T.securityGroupRule, props: { type: "egress", protocol: "udp", fromPort: 53, toPort: 53 } })).to.have.length(1);
    expect(check({ type: T.securityGroupRule, props: { type: "ingress", protocol: "tcp", fromPort: 22, toPort: 22 } })).to.deep.equal([]);
  });

  it("fails a separate ingress rule resource too", () => {
    expect(rule("security-group-no-inbound").check({ type: T.vpcIngressRule, props: { cidrIpv4: "0.0.0.0/0" } })).to.have.length(1);
    expect(rule("security-group-no-inbound").check({ type: T.securityGroupRule, props: { type: "egress" } })).to.deep.equal([]);
    expect(rule("security-group-no-inbound").check({ type: T.securityGroupRule, props: { type: "ingress" } })).to.have.length(1);
  });

  for (const [title, config] of [
    ["one region, public subnets", ONE_REGION_ECS],
    ["two regions behind NAT", TWO_REGIONS_ECS_NAT],
  ] as const) {
    describe(`over the program (${title})`, function () {
      this.timeout(120_000);
      let resources: RecordedResource[];
      before(async () => {
        ({ resources } = await buildStack(config, bundleOptions()));
      });

      for (const each of resourceRules) {
        it(`${each.name}: passes on every resource it judges${WORKER_RULE_NAMES.includes(each.name) ? " (and judges some)" : ""}`, () => {
          const judged = resources.filter((r) => each.types.includes(r.type));
          if (WORKER_RULE_NAMES.includes(each.name)) expect(judged).to.have.length.above(0);
          expect(judged.flatMap((r) => each.check(resourceView(r)).map((m) => `${r.name}: ${m}`))).to.deep.equal([]);
        });
      }
      for (const each of stackRules) {
        it(`${each.name}: passes on the stack`, () => expect(each.check(resources.map(stackView))).to.deep.equal([]));
      }

      it("every worker resource rule has a bad variant", () => {
        const covered = new Set(BAD_VARIANTS.map((v) => v.rule));
        for (const name of WORKER_RULE_NAMES.filter((n) => resourceRules.some((r) => r.name === n))) expect(covered.has(name), name).to.equal(true);
      });

      for (const variant of BAD_VARIANTS) {
        it(`${variant.rule} fails ${variant.what}`, () => {
          const original = resources.find((r) => r.type === variant.type && (variant.pick?.(r) ?? true));
          if (!original) throw new Error(`no ${variant.type} to spoil`);
          const props = copy(original.inputs);
          variant.spoil(props);
          expect(rule(variant.rule).check({ type: original.type, name: original.name, props }).join("\n")).to.match(variant.expected);
          expect(rule(variant.rule).check(resourceView(original))).to.deep.equal([]);
        });
      }

      it("sqs-dead-letter-queue fails a job queue without its redrive policy", () => {
        const views = copy(resources).map(stackView);
        for (const queue of views.filter((v) => v.type === T.sqsQueue && v.name?.endsWith("-jobs-queue"))) delete queue.props.redrivePolicy;
        const messages = stackRule("sqs-dead-letter-queue").check(views).map((v) => v.message);
        // The job queue, and its former dead-letter queue, which no queue redrives to any more.
        expect(messages).to.have.length(2 * config.regions.length);
        expect(messages.join("\n")).to.match(/jobs-queue \(Queue\) has no dead-letter queue of this stack/);
      });

      it("ecs-model-callers-guarded fails a task whose containers lost GUARDRAIL_ID", () => {
        const views = copy(resources).map(stackView);
        for (const task of views.filter((v) => v.type === T.ecsTaskDefinition)) {
          const containers = JSON.parse(String(task.props.containerDefinitions)) as Container[];
          for (const c of containers) c.environment = c.environment.filter((v) => v.name !== "GUARDRAIL_ID");
          task.props.containerDefinitions = JSON.stringify(containers);
        }
        const messages = stackRule("ecs-model-callers-guarded").check(views).map((v) => v.message);
        expect(messages).to.have.length(config.regions.length);
        for (const message of messages) expect(message).to.match(/container worker may invoke a model but its environment lacks GUARDRAIL_ID$/);
      });

      it("ecs-task-role-scoped fails a task role that reaches another region's queue or table", () => {
        const views = copy(resources).map(stackView);
        const task = views.find((v) => v.type === T.ecsTaskDefinition)!;
        const role = views.find((v) => v.type === T.role && v.props.arn === task.props.taskRoleArn)!;
        const policy = views.find((v) => v.type === T.rolePolicy && v.props.role === role.id)!;
        const document = JSON.parse(String(policy.props.policy)) as { Statement: Props[] };
        document.Statement.push({ Sid: "Foreign", Effect: "Allow", Action: ["sqs:ReceiveMessage"], Resource: [`arn:aws:sqs:ap-south-1:123456789012:elsewhere`] });
        document.Statement.push({ Sid: "ForeignTable", Effect: "Allow", Action: ["dynamodb:GetItem"], Resource: [`arn:aws:dynamodb:ap-south-1:123456789012:table/other`] });
        policy.props.policy = JSON.stringify(document);
        const messages = stackRule("ecs-task-role-scoped").check(views).map((v) => v.message);
        expect(messages).to.have.length(2);
        expect(messages[0]).to.match(/grants SQS on arn:aws:sqs:ap-south-1:123456789012:elsewhere, not a queue of this stack in its region/);
        expect(messages[1]).to.match(/grants DynamoDB on arn:aws:dynamodb:ap-south-1:123456789012:table\/other in another region/);
      });
    });
  }
});
