/**
 * The ECS worker's IAM, evaluated with the IAM policy simulator (@cloud-copilot/iam-simulate) over a two-region
 * stack with `chat:worker: ecs`: the message handler may only send to its region's queue; the task role may do what
 * the worker function does plus consume its region's queue and read its bundles; the execution role may only write
 * the service's logs. Each is denied the near misses (the other region's queue, the dead-letter queue, other buckets,
 * purging, invoking functions, images from private registries).
 */
import { expect } from "chai";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { MOCK_ACCOUNT } from "../../infra/offline/mock-state";
import { handlerPolicy, workerServicePolicy, type PolicyTargets } from "../../infra/permissions";
import { bundleOptions, TWO_REGIONS_ECS_NAT } from "./fixtures";
import { buildStack, type RecordedResource } from "./harness";
import { Stack, TYPES } from "./query";

const A = MOCK_ACCOUNT;
type Decision = "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied";

async function decide(policy: unknown, principal: string, action: string, resource: string, context: Record<string, string | string[]> = {}): Promise<Decision> {
  const response = await runSimulation(
    {
      identityPolicies: [{ name: "inline", policy: policy as Record<string, unknown> }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: { action, principal, resource: { accountId: A, resource }, contextVariables: context },
    },
    {},
  );
  if (response.resultType === "error") throw new Error(`simulation error for ${action} on ${resource}: ${JSON.stringify(response.errors)}`);
  return response.overallResult as Decision;
}

interface Probe {
  action: string;
  resource: string;
  why: string;
}

async function misjudged(policy: unknown, principal: string, allowed: Probe[], denied: Probe[]): Promise<string[]> {
  const wrong: string[] = [];
  for (const p of allowed) {
    const decision = await decide(policy, principal, p.action, p.resource);
    if (decision !== "Allowed") wrong.push(`should allow ${p.action} on ${p.resource} (${p.why}): ${decision}`);
  }
  for (const p of denied) {
    if ((await decide(policy, principal, p.action, p.resource)) === "Allowed") wrong.push(`should deny ${p.action} on ${p.resource} (${p.why})`);
  }
  return wrong;
}

describe("IAM of the ECS worker (two regions, chat:worker ecs)", function () {
  this.timeout(180_000);
  let stack: Stack;
  const [home, away] = TWO_REGIONS_ECS_NAT.regions;

  before(async () => {
    stack = new Stack((await buildStack(TWO_REGIONS_ECS_NAT, bundleOptions())).resources);
  });

  const queueOf = (region: string, suffix: "queue" | "dlq") => stack.inRegion("aws:sqs/queue:Queue", region).find((q) => q.name.endsWith(`-jobs-${suffix}`))!.state.arn as string;
  const policyOfRole = (role: RecordedResource) => JSON.parse(String(stack.ofType(TYPES.rolePolicy).find((p) => p.inputs.role === role.id)!.inputs.policy)) as unknown;
  const roleByArn = (arn: unknown) => stack.ofType(TYPES.role).find((r) => r.state.arn === arn)!;
  const taskOf = (region: string) => stack.inRegion("aws:ecs/taskDefinition:TaskDefinition", region)[0]!;

  for (const region of [home, away]) {
    const other = region === home ? away : home;

    it(`${region}: the message handler sends jobs to its region's queue only, and invokes nothing`, async () => {
      const fn = stack.fn(region, "message");
      const role = roleByArn(fn.inputs.role);
      const wrong = await misjudged(
        policyOfRole(role),
        String(role.state.arn),
        [{ action: "sqs:SendMessage", resource: queueOf(region, "queue"), why: "hands a turn to the worker service" }],
        [
          { action: "sqs:SendMessage", resource: queueOf(other, "queue"), why: "another region's queue" },
          { action: "sqs:SendMessage", resource: queueOf(region, "dlq"), why: "the dead-letter queue" },
          { action: "sqs:ReceiveMessage", resource: queueOf(region, "queue"), why: "only the worker service consumes" },
          { action: "sqs:PurgeQueue", resource: queueOf(region, "queue"), why: "queue administration" },
          { action: "lambda:InvokeFunction", resource: `arn:aws:lambda:${region}:${A}:function:chat-test-worker`, why: "no worker function in ecs mode" },
        ],
      );
      expect(wrong).to.deep.equal([]);
    });

    it(`${region}: the task role consumes its region's queue, reads its bundles, and streams like the worker function`, async () => {
      const task = taskOf(region);
      const role = roleByArn(task.inputs.taskRoleArn);
      const bucket = stack.inRegion(TYPES.bucket, region).find((b) => b.name.endsWith("-worker-code"))!.state.bucket as string;
      const history = stack.ofType(TYPES.table).find((t) => t.inputs.hashKey === "pk")!.state.name as string;
      const connections = stack.ofType(TYPES.table).find((t) => t.inputs.hashKey === "connectionId")!.state.name as string;
      const guardrail = stack.inRegion(TYPES.guardrail, region)[0]!.state.guardrailArn as string;
      const queue = queueOf(region, "queue");
      const wrong = await misjudged(
        policyOfRole(role),
        String(role.state.arn),
        [
          { action: "sqs:ReceiveMessage", resource: queue, why: "long-polls its queue" },
          { action: "sqs:DeleteMessage", resource: queue, why: "deletes claimed jobs (DeleteMessageBatch takes this permission)" },
          { action: "sqs:ChangeMessageVisibility", resource: queue, why: "releases unclaimed jobs on shutdown" },
          { action: "s3:GetObject", resource: `arn:aws:s3:::${bucket}/worker-service/${"a".repeat(64)}.cjs`, why: "fetches its bundle at start" },
          { action: "dynamodb:UpdateItem", resource: `arn:aws:dynamodb:${region}:${A}:table/${history}`, why: "updates the turn" },
          { action: "dynamodb:UpdateItem", resource: `arn:aws:dynamodb:${region}:${A}:table/${connections}`, why: "releases the slot" },
          { action: "bedrock:ApplyGuardrail", resource: guardrail, why: "its region's guardrail" },
          // The default model: the global inference profile, called from this region.
          { action: "bedrock:InvokeModelWithResponseStream", resource: `arn:aws:bedrock:${region}:${A}:inference-profile/global.anthropic.claude-haiku-4-5-20251001-v1:0`, why: "the model" },
        ],
        [
          { action: "sqs:SendMessage", resource: queue, why: "only the message handler produces" },
          { action: "sqs:ReceiveMessage", resource: queueOf(other, "queue"), why: "another region's queue" },
          { action: "sqs:ReceiveMessage", resource: queueOf(region, "dlq"), why: "the dead-letter queue is the operator's" },
          { action: "sqs:PurgeQueue", resource: queue, why: "queue administration" },
          { action: "s3:GetObject", resource: `arn:aws:s3:::${bucket}/other/key`, why: "only the bundles" },
          { action: "s3:PutObject", resource: `arn:aws:s3:::${bucket}/worker-service/x.cjs`, why: "the program uploads, not the task" },
          { action: "s3:GetObject", resource: `arn:aws:s3:::another-bucket/worker-service/x.cjs`, why: "another bucket" },
          { action: "dynamodb:Scan", resource: `arn:aws:dynamodb:${region}:${A}:table/${history}`, why: "history is read by Query only" },
          { action: "dynamodb:UpdateItem", resource: `arn:aws:dynamodb:${other}:${A}:table/${connections}`, why: "another region's replica" },
          { action: "logs:PutLogEvents", resource: `arn:aws:logs:${region}:${A}:log-group:x:log-stream:y`, why: "logs are the execution role's" },
          { action: "lambda:InvokeFunction", resource: `arn:aws:lambda:${region}:${A}:function:x`, why: "invokes nothing" },
          { action: "bedrock:InvokeModel", resource: `arn:aws:bedrock:${region}:${A}:inference-profile/global.anthropic.claude-haiku-4-5-20251001-v1:0`, why: "non-streaming invoke is not needed" },
        ],
      );
      expect(wrong).to.deep.equal([]);
    });

    it(`${region}: the execution role writes the service's logs and nothing else`, async () => {
      const task = taskOf(region);
      const role = roleByArn(task.inputs.executionRoleArn);
      const group = JSON.parse(String(task.inputs.containerDefinitions))[0].logConfiguration.options["awslogs-group"] as string;
      const wrong = await misjudged(
        policyOfRole(role),
        String(role.state.arn),
        [
          { action: "logs:CreateLogStream", resource: `arn:aws:logs:${region}:${A}:log-group:${group}:log-stream:worker/worker/1`, why: "awslogs driver" },
          { action: "logs:PutLogEvents", resource: `arn:aws:logs:${region}:${A}:log-group:${group}:log-stream:worker/worker/1`, why: "awslogs driver" },
        ],
        [
          { action: "logs:PutLogEvents", resource: `arn:aws:logs:${region}:${A}:log-group:other:log-stream:x`, why: "another log group" },
          { action: "ecr:GetAuthorizationToken", resource: "*", why: "the images are public" },
          { action: "ecr:BatchGetImage", resource: `arn:aws:ecr:${region}:${A}:repository/x`, why: "no private registry" },
          { action: "sqs:ReceiveMessage", resource: queueOf(region, "queue"), why: "the task role's, not the agent's" },
        ],
      );
      expect(wrong).to.deep.equal([]);
    });
  }
});

describe("IAM: the worker service has exactly the worker function's rights, plus its queue and bundles", () => {
  const targets: PolicyTargets = {
    region: "eu-west-1",
    homeRegion: "us-east-1",
    account: A,
    logGroupArn: `arn:aws:logs:eu-west-1:${A}:log-group:worker`,
    connectionsTableName: "connections",
    historyTableName: "history",
    historyIndexNames: ["byUser"],
    apiId: "abcdefghij",
    stageName: "live",
    peerApis: [{ region: "us-east-1", apiId: "klmnopqrst", stageName: "live" }],
    workerFunctionArn: `arn:aws:lambda:eu-west-1:${A}:function:w`,
    modelId: "eu.anthropic.claude-3-5-haiku-20241022-v1:0",
    guardrailArn: `arn:aws:bedrock:eu-west-1:${A}:guardrail/g`,
    workerQueueArn: `arn:aws:sqs:eu-west-1:${A}:jobs`,
    workerBundleArn: "arn:aws:s3:::code/worker-service/*",
  };
  it("renders the worker function's statements (without its log group), BatchGetItem on the history table, and two more", () => {
    const service = workerServicePolicy(targets).Statement;
    const fn = handlerPolicy("worker", targets).Statement.filter((s) => s.Sid !== "WriteOwnLogs");
    // The batched stop read of many turns (runtime/store/dynamo-control-signals.ts) is the only added table action.
    const withoutBatchGet = service.map((s) => {
      const actions = [s.Action].flat();
      return actions.includes("dynamodb:BatchGetItem") ? { ...s, Action: actions.filter((a) => a !== "dynamodb:BatchGetItem") } : s;
    });
    expect(withoutBatchGet.filter((s) => !["ConsumeWorkerQueue", "ReadWorkerBundle"].includes(s.Sid))).to.deep.equal(fn);
    expect(service.filter((s) => [s.Action].flat().includes("dynamodb:BatchGetItem"))).to.have.length(1);
    expect(service.map((s) => s.Sid)).to.include.members(["ConsumeWorkerQueue", "ReadWorkerBundle", "HomeRegionCounters", "PostToPeerRegions"]);
  });
  it("the message handler's ecs policy swaps InvokeWorker for SendToWorkerQueue and changes nothing else", () => {
    const lambda = handlerPolicy("message", targets).Statement;
    const ecs = handlerPolicy("message", targets, "ecs").Statement;
    expect(ecs.filter((s) => s.Sid !== "SendToWorkerQueue")).to.deep.equal(lambda.filter((s) => s.Sid !== "InvokeWorker"));
    expect(ecs.find((s) => s.Sid === "SendToWorkerQueue")).to.deep.equal({ Sid: "SendToWorkerQueue", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [targets.workerQueueArn] });
    expect(() => handlerPolicy("message", { ...targets, workerQueueArn: undefined }, "ecs")).to.throw(/worker queue's ARN/);
  });
});
