/**
 * How stack rules relate resources to each other: by dependency URN when CrossGuard passes them (known even in a
 * preview where ids are not), else by value (a property equals the other resource's id, arn or name).
 */
import { parsePolicyDocument, type Statement } from "./iam";
import { T } from "./types";
import { list, record, text, type StackResourceView } from "./view";

/** The values other resources may use to refer to this one (an S3 bucket's id is its `bucket` name). */
function identities(resource: StackResourceView): string[] {
  const { props } = resource;
  const values = [resource.id, text(props.id), text(props.arn), text(props.name), text(props.bucket)];
  return values.filter((v): v is string => typeof v === "string" && v !== "");
}

/** True when `from.props[property]` refers to `to`. */
export function refersTo(from: StackResourceView, property: string, to: StackResourceView): boolean {
  const urns = from.propertyDependencies?.[property];
  if (urns && to.urn && urns.length > 0) return urns.includes(to.urn);
  const value = text(from.props[property]);
  return value !== undefined && identities(to).includes(value);
}

export function ofType(resources: readonly StackResourceView[], type: string): StackResourceView[] {
  return resources.filter((r) => r.type === type);
}

/**
 * Every identity-policy statement attached to a role: its inline policies, RolePolicy resources and customer
 * managed policies attached by RolePolicyAttachment. AWS managed policies are not in the stack and not seen.
 */
export function roleStatements(role: StackResourceView, resources: readonly StackResourceView[]): Statement[] {
  const documents: unknown[] = list(role.props.inlinePolicies).map((entry) => record(entry).policy);
  for (const rolePolicy of ofType(resources, T.rolePolicy)) {
    if (refersTo(rolePolicy, "role", role)) documents.push(rolePolicy.props.policy);
  }
  for (const attachment of ofType(resources, T.rolePolicyAttachment)) {
    if (!refersTo(attachment, "role", role)) continue;
    for (const policy of ofType(resources, T.policy)) {
      if (refersTo(attachment, "policyArn", policy)) documents.push(policy.props.policy);
    }
  }
  return documents.flatMap((document) => {
    const parsed = parsePolicyDocument(document);
    return parsed.ok ? parsed.statements : [];
  });
}
