/**
 * The CrossGuard policy pack: `pulumi preview --policy-pack infra/policy` (and `pulumi up --policy-pack …`).
 * Every rule is a plain function from `rules.ts`; this file only adapts them to @pulumi/policy.
 * Do not import this module from tests: constructing a PolicyPack starts the analyzer server.
 */
import {
  PolicyPack,
  UnknownValueError,
  type PolicyResource,
  type ResourceValidationPolicy,
  type StackValidationPolicy,
} from "@pulumi/policy";
import { resourceRules, stackRules, type StackResourceView } from "./rules";

/** CrossGuard's stack resource → the rules' view; dependencies become URN lists (known even during preview). */
function toStackView(resource: PolicyResource): StackResourceView {
  const propertyDependencies: Record<string, string[]> = {};
  for (const [property, dependencies] of Object.entries(resource.propertyDependencies)) {
    propertyDependencies[property] = dependencies.map((d) => d.urn);
  }
  const view: StackResourceView = { type: resource.type, name: resource.name, urn: resource.urn, props: resource.props, propertyDependencies };
  const region = providerRegion(resource);
  return region === undefined ? view : { ...view, region };
}

/** The region of the resource's AWS provider; undefined when it has none or it is unknown (preview). */
function providerRegion(resource: PolicyResource): string | undefined {
  try {
    const region: unknown = resource.provider?.props.region;
    return typeof region === "string" ? region : undefined;
  } catch (error) {
    if (error instanceof UnknownValueError) return undefined;
    throw error;
  }
}

const resourcePolicies: ResourceValidationPolicy[] = resourceRules.map((rule) => ({
  name: rule.name,
  description: rule.description,
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (!rule.types.includes(args.type)) return;
    for (const message of rule.check({ type: args.type, name: args.name, urn: args.urn, props: args.props })) {
      reportViolation(message);
    }
  },
}));

const stackPolicies: StackValidationPolicy[] = stackRules.map((rule) => ({
  name: rule.name,
  description: rule.description,
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    for (const violation of rule.check(args.resources.map(toStackView))) reportViolation(violation.message, violation.urn);
  },
}));

new PolicyPack("chat-policies", {
  description: "Least privilege, encryption, edge TLS and guardrail rules for the streaming chat stack.",
  enforcementLevel: "mandatory",
  policies: [...resourcePolicies, ...stackPolicies],
});
