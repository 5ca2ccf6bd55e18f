/**
 * The chat stack's policy rules as plain functions: the CrossGuard pack (`index.ts`) and the mocha tests
 * (`test/infra/policy.test.ts`) run these same lists. Nothing here imports @pulumi/policy.
 */
export { resourceRules } from "./resource-rules";
export { stackRules } from "./stack-rules";
export { ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS, isUnscopedResource, isWildcardAction, parsePolicyDocument } from "./iam";
export { T as TYPES } from "./types";
export type { ResourceRule, ResourceView, StackResourceView, StackRule, Violation } from "./view";
export { WORKER_RULE_NAMES } from "./worker-rules";
