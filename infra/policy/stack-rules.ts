/**
 * Rules that need the whole stack (CrossGuard stack-validation policies): a route and its authorizer, a function
 * and the policies of its role, a bucket and its public access block.
 */
import { statementGrants } from "./iam";
import { ofType, refersTo, roleStatements } from "./links";
import { T } from "./types";
import { label, record, text, type StackResourceView, type StackRule, type Violation } from "./view";
import { workerStackRules } from "./worker-rules";

const websocketConnectAuthorizer: StackRule = {
  name: "websocket-connect-authorized",
  description:
    "Every WebSocket API has a `$connect` route behind a Lambda REQUEST authorizer of the same API (without a " +
    "`$connect` route API Gateway accepts every connection).",
  check(resources) {
    const violations: Violation[] = [];
    const routes = ofType(resources, T.route);
    const authorizers = ofType(resources, T.authorizer);
    for (const api of ofType(resources, T.api)) {
      if (api.props.protocolType !== "WEBSOCKET") continue;
      const connects = routes.filter((route) => refersTo(route, "apiId", api) && route.props.routeKey === "$connect");
      if (connects.length === 0) {
        violations.push({ message: `${label(api)} has no $connect route, so connections are never authorized`, urn: api.urn, name: api.name });
      }
      for (const route of connects) {
        const problem = connectProblem(route, api, authorizers);
        if (problem) violations.push({ message: `${label(route)}: ${problem}`, urn: route.urn, name: route.name });
      }
    }
    return violations;
  },
};

function connectProblem(route: StackResourceView, api: StackResourceView, authorizers: StackResourceView[]): string | undefined {
  if (route.props.authorizationType !== "CUSTOM") {
    return `$connect authorizationType is ${String(route.props.authorizationType)}, expected CUSTOM (Lambda authorizer)`;
  }
  const authorizer = authorizers.find((a) => refersTo(route, "authorizerId", a));
  if (!authorizer) return "$connect names no authorizer of this stack";
  if (!refersTo(authorizer, "apiId", api)) return `$connect uses ${label(authorizer)} of another API`;
  if (authorizer.props.authorizerType !== "REQUEST") return `${label(authorizer)} is not a REQUEST authorizer`;
  return undefined;
}

/** The Bedrock actions that run a model; ConverseStream and Converse are authorized by the InvokeModel actions. */
const MODEL_ACTIONS = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"];
const GUARDRAIL_ENV = ["GUARDRAIL_ID", "GUARDRAIL_VERSION"];

/**
 * The stack's guardrails a function's environment names. Under CrossGuard (dependencies known) by dependency URN
 * only, so nothing unknown is read in a preview; otherwise by the GUARDRAIL_ID value.
 */
function namedGuardrails(fn: StackResourceView, variables: Record<string, unknown>, guardrails: StackResourceView[]): StackResourceView[] {
  if (fn.region === undefined || guardrails.length === 0) return [];
  if (fn.propertyDependencies !== undefined) {
    const urns = fn.propertyDependencies.environment ?? [];
    return guardrails.filter((g) => g.urn !== undefined && urns.includes(g.urn));
  }
  const id = text(variables.GUARDRAIL_ID);
  return id === undefined ? [] : guardrails.filter((g) => g.props.guardrailId === id || g.props.guardrailArn === id);
}

const modelCallersGuarded: StackRule = {
  name: "model-callers-guarded",
  description:
    "Every Lambda function whose role may invoke a Bedrock model gets a guardrail: GUARDRAIL_ID and " +
    "GUARDRAIL_VERSION in its environment; a guardrail of this stack named there is in the function's own region " +
    "(guardrails are regional).",
  check(resources) {
    const violations: Violation[] = [];
    const roles = ofType(resources, T.role);
    const guardrails = ofType(resources, T.guardrail);
    for (const fn of ofType(resources, T.lambdaFunction)) {
      // Environment first: `in` reads no values, so a guarded function passes in a preview where the guardrail id
      // and its role's policy document are still unknown. Only an unguarded function needs its role's policy read.
      const variables = record(record(fn.props.environment).variables);
      const missing = GUARDRAIL_ENV.filter((key) => !(key in variables));
      if (missing.length === 0) {
        const foreign = namedGuardrails(fn, variables, guardrails).filter(
          (g) => g.region !== undefined && fn.region !== undefined && g.region !== fn.region,
        );
        if (foreign.length > 0) {
          const where = foreign.map((g) => `${label(g)} in ${String(g.region)}`).join(", ");
          violations.push({ message: `${label(fn)} in ${String(fn.region)} names ${where}`, urn: fn.urn, name: fn.name });
        }
        continue;
      }
      const role = roles.find((r) => refersTo(fn, "role", r));
      if (!role) continue;
      const statements = roleStatements(role, resources);
      const callsModel = statements.some((s) => MODEL_ACTIONS.some((action) => statementGrants(s, action)));
      if (callsModel) {
        violations.push({
          message: `${label(fn)} may invoke a model but its environment lacks ${missing.join(", ")}`,
          urn: fn.urn,
          name: fn.name,
        });
      }
    }
    return violations;
  },
};

const lambdaLogsRetained: StackRule = {
  name: "lambda-logs-retained",
  description:
    "Every Lambda function logs to a log group of this stack (loggingConfig.logGroup, or /aws/lambda/<name>), so " +
    "the log-group-retention rule governs it; otherwise Lambda creates /aws/lambda/<name> that never expires.",
  check(resources) {
    const logGroups = ofType(resources, T.logGroup);
    const violations: Violation[] = [];
    for (const fn of ofType(resources, T.lambdaFunction)) {
      const dependencies = fn.propertyDependencies?.loggingConfig ?? [];
      if (logGroups.some((group) => group.urn !== undefined && dependencies.includes(group.urn))) continue;
      const configured = text(record(fn.props.loggingConfig).logGroup);
      const target = configured ?? `/aws/lambda/${String(fn.props.name)}`;
      if (logGroups.some((group) => group.props.name === target || group.id === target)) continue;
      violations.push({ message: `${label(fn)} logs to ${target}, which no log group of this stack manages`, urn: fn.urn, name: fn.name });
    }
    return violations;
  },
};

const BUCKET_TYPES: readonly string[] = [T.bucket, T.bucketV2];

const bucketsBlocked: StackRule = {
  name: "s3-buckets-have-public-access-block",
  description: "Every S3 bucket has its own public access block resource (the flags are judged by s3-public-access-blocked).",
  check(resources) {
    const blocks = ofType(resources, T.bucketPublicAccessBlock);
    return resources
      .filter((r) => BUCKET_TYPES.includes(r.type))
      .filter((bucket) => !blocks.some((block) => refersTo(block, "bucket", bucket)))
      .map((bucket) => ({ message: `${label(bucket)} has no BucketPublicAccessBlock`, urn: bucket.urn, name: bucket.name }));
  },
};

export const stackRules: readonly StackRule[] = [websocketConnectAuthorizer, modelCallersGuarded, lambdaLogsRetained, bucketsBlocked, ...workerStackRules];
