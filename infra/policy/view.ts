/**
 * The shapes the policy rules read, and small accessors over untyped resource properties.
 * Plain data only: no @pulumi/policy import, so mocha can run the same rules that the CrossGuard pack runs
 * (importing a module that builds a PolicyPack starts the analyzer's gRPC server, which never exits).
 *
 * Under `pulumi preview` CrossGuard hands the rules a proxy that throws `UnknownValueError` when a rule reads a
 * value that is not known yet; CrossGuard then reports the policy as advisory "can't run during preview" and runs it
 * for real during `pulumi up`. So rules read only the properties they judge, and never swallow exceptions around a
 * property read.
 */

/** One resource as a resource-validation policy sees it: its type token and its input properties. */
export interface ResourceView {
  /** Pulumi type token, e.g. `aws:lambda/function:Function`. */
  type: string;
  /** Logical name (Pulumi resource name). */
  name?: string;
  urn?: string;
  props: Record<string, unknown>;
}

/**
 * One resource as a stack-validation policy sees it. Resources refer to each other by value (a route's
 * `authorizerId` equals the authorizer's id) and, under CrossGuard, also by dependency URNs — which are known even
 * in a preview where the referenced ids are not. `identities` are the values other resources may refer to this one
 * by (id, arn, name) when the caller knows them (the mocks harness records the id, CrossGuard does not pass it).
 */
export interface StackResourceView extends ResourceView {
  /** URNs this resource's properties depend on, by property name (CrossGuard's `propertyDependencies`). */
  propertyDependencies?: Record<string, readonly string[]>;
  /** The provider-assigned id, when known. */
  id?: string;
  /** The AWS region of the resource's provider, when known. */
  region?: string;
}

/** A rule's finding. `urn` names the offending resource when a stack rule found it. */
export interface Violation {
  message: string;
  urn?: string;
  name?: string;
}

/** A rule over one resource: the messages of its violations (empty = pass). */
export interface ResourceRule {
  name: string;
  description: string;
  /** The type tokens this rule reads; other resources pass without being looked at. */
  types: readonly string[];
  check(resource: ResourceView): string[];
}

/** A rule over the whole stack (needs to relate resources to each other). */
export interface StackRule {
  name: string;
  description: string;
  check(resources: readonly StackResourceView[]): Violation[];
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The property as an object, or an empty one when missing or not an object. */
export function record(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

/** The property as a list; a single value becomes a one-element list; missing becomes empty. */
export function list(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

export function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** Strings of a string-or-list property (IAM's `Action: "s3:GetObject"` or `Action: [...]`). */
export function texts(value: unknown): string[] {
  return list(value).filter((v): v is string => typeof v === "string");
}

/** Short label for messages: `name (type)`. */
export function label(resource: ResourceView): string {
  const shortType = resource.type.split(":").pop() ?? resource.type;
  return resource.name ? `${resource.name} (${shortType})` : shortType;
}
