/**
 * Evaluates a Lambda authorizer's answer the way API Gateway does ("Output from an API Gateway Lambda
 * authorizer"): the connection is allowed when an Allow statement for `execute-api:Invoke` matches the method ARN
 * and no Deny does; `context` values must be strings, numbers or booleans.
 */

export type AuthorizerDecision =
  | { allow: true; principalId: string; context: Record<string, string | number | boolean> }
  | { allow: false; status: 401 | 403 | 500; reason: string };

interface Statement {
  Effect?: string;
  Action?: string | string[];
  Resource?: string | string[];
}

function wildcardMatch(pattern: string, value: string): boolean {
  const regex = new RegExp(
    "^" +
      pattern
        .split("")
        .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\/]/g, "\\$&")))
        .join("") +
      "$",
  );
  return regex.test(value);
}

function list(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

export function evaluateAuthorizerResult(result: unknown, methodArn: string): AuthorizerDecision {
  if (typeof result !== "object" || result === null) return { allow: false, status: 500, reason: "malformed authorizer result" };
  const { principalId, policyDocument, context } = result as {
    principalId?: unknown;
    policyDocument?: { Statement?: Statement[] | Statement };
    context?: Record<string, unknown>;
  };
  const statements = policyDocument?.Statement
    ? Array.isArray(policyDocument.Statement)
      ? policyDocument.Statement
      : [policyDocument.Statement]
    : null;
  if (typeof principalId !== "string" || !statements) {
    return { allow: false, status: 500, reason: "authorizer result lacks principalId or policyDocument" };
  }
  const matching = statements.filter(
    (s) =>
      list(s.Action).some((a) => wildcardMatch(a, "execute-api:Invoke")) &&
      list(s.Resource).some((r) => wildcardMatch(r, methodArn)),
  );
  const allowed = matching.some((s) => s.Effect === "Allow") && !matching.some((s) => s.Effect === "Deny");
  if (!allowed) return { allow: false, status: 403, reason: "policy does not allow execute-api:Invoke" };
  const flat: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(context ?? {})) {
    if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
      // API Gateway refuses nested context values (500 AuthorizerConfigurationException).
      return { allow: false, status: 500, reason: `authorizer context value "${key}" is not a string, number or boolean` };
    }
    flat[key] = value;
  }
  return { allow: true, principalId, context: flat };
}
