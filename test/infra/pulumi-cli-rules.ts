/**
 * The Pulumi CLI's rules for `Pulumi.yaml` and `Pulumi.<stack>.yaml`, as the CLI applies them before the program
 * runs (`pulumi stack init`, `config set`, `preview`, `up` all load the project first). Mocks never load these
 * files, so without this module a project the CLI refuses passes every other test.
 *
 * Source: pulumi/pulumi at 1b5949891b3cefcb9974752b24a5ecef0acc86c8
 * - sdk/go/common/workspace/project.go `Project.Validate`: a key of the project's namespace (`<name>:key` or no
 *   namespace) may declare `type` (an array needs `items`) and a `default` of that type; any other key may carry
 *   neither `type` nor `default`, only a `value`; no key has both `default` and `value`.
 * - the same file, `ValidateConfigValue`: string, integer (a whole number, or a string that parses as one),
 *   boolean (or the strings "true"/"false"), object, array with every item of `items`' type.
 * - sdk/go/common/tokens/project.go `ValidateProjectName`: 1-100 characters, alphanumerics, `-`, `_`, `.`.
 * - pkg/workspace/config.go `validateStackConfigValues`: a stack value of a typed project key must be of that type.
 * One rule is this project's own, stricter than the CLI: every stack key is declared by the project or belongs to a
 * provider the program uses, so a misspelt key fails here instead of being silently ignored.
 */

export interface ItemsType {
  type: string;
  items?: ItemsType;
}

export interface ProjectConfigType {
  type?: string;
  items?: ItemsType;
  default?: unknown;
  value?: unknown;
  description?: string;
  secret?: boolean;
}

export interface ProjectFile {
  name?: string;
  config?: Record<string, ProjectConfigType>;
}

export interface StackFile {
  config?: Record<string, unknown>;
}

/** `ValidateConfigValue` in project.go. */
export function isOfType(type: string, items: ItemsType | undefined, value: unknown): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "integer":
      return (typeof value === "number" && Number.isInteger(value)) || (typeof value === "string" && /^[+-]?\d+$/.test(value));
    case "boolean":
      return typeof value === "boolean" || value === "true" || value === "false";
    case "object":
      return value !== null && typeof value === "object" && !Array.isArray(value);
    default:
      // project.go: anything else must be an array whose items have the declared `items` type.
      return Array.isArray(value) && items !== undefined && value.every((item) => isOfType(items.type, items.items, item));
  }
}

function isProjectNamespaced(projectName: string, key: string): boolean {
  return !key.includes(":") || key.startsWith(`${projectName}:`);
}

function fullType(type: string, items: ItemsType | undefined): string {
  return items ? `array<${fullType(items.type, items.items)}>` : type;
}

/** The errors `pulumi` would print for this project file (empty: the CLI loads it). */
export function projectProblems(project: ProjectFile): string[] {
  const name = project.name ?? "";
  if (name === "") return ["project is missing a 'name' attribute"];
  if (name.length > 100 || !/^[A-Za-z0-9_.-]+$/.test(name)) return [`invalid project name '${name}'`];
  const problems: string[] = [];
  for (const [key, entry] of Object.entries(project.config ?? {})) {
    if (entry.default !== undefined && entry.value !== undefined) {
      problems.push(`project config '${key}' cannot have both a 'default' and 'value' attribute`);
    }
    if (isProjectNamespaced(name, key)) {
      if (entry.type === "array" && entry.items === undefined) {
        problems.push(`The configuration key '${key}' declares an array but does not specify the underlying type via the 'items' attribute`);
      }
      if (entry.type !== undefined && entry.default !== undefined && !isOfType(entry.type, entry.items, entry.default)) {
        problems.push(`The default value specified for configuration key '${key}' is not of the expected type '${fullType(entry.type, entry.items)}'`);
      }
    } else if (entry.type !== undefined) {
      problems.push(`Configuration key '${key}' is not namespaced by the project and should not define a type`);
    } else if (entry.default !== undefined) {
      problems.push(`Configuration key '${key}' is not namespaced by the project and should not define a default value`);
    } else if (entry.value === undefined) {
      problems.push(`Configuration key '${key}' is namespaced and must provide an attribute 'value'`);
    }
  }
  return problems;
}

/**
 * Problems of one stack file under `project`: values of typed project keys of the wrong type (the CLI's rule), and
 * keys that neither the project declares nor a provider in `providerNamespaces` owns (this project's rule).
 */
export function stackProblems(project: ProjectFile, stackName: string, stack: StackFile, providerNamespaces: readonly string[]): string[] {
  const name = project.name ?? "";
  const declared = project.config ?? {};
  const problems: string[] = [];
  for (const [rawKey, value] of Object.entries(stack.config ?? {})) {
    const key = rawKey.includes(":") ? rawKey : `${name}:${rawKey}`;
    const [namespace] = key.split(":");
    if (namespace === name) {
      const entry = declared[key] ?? declared[key.slice(name.length + 1)];
      if (!entry) {
        problems.push(`Stack '${stackName}': '${rawKey}' is not declared in Pulumi.yaml`);
      } else if (entry.type !== undefined && !isSecure(value) && !isOfType(entry.type, entry.items, value)) {
        problems.push(`Stack '${stackName}' with configuration key '${rawKey}' must be of type '${fullType(entry.type, entry.items)}'`);
      }
    } else if (!providerNamespaces.includes(namespace ?? "")) {
      problems.push(`Stack '${stackName}': '${rawKey}' belongs to neither the project '${name}' nor a provider it uses (${providerNamespaces.join(", ")})`);
    }
  }
  return problems;
}

/** `pulumi config set --secret` stores `{secure: <ciphertext>}`, which the CLI checks only once decrypted. */
function isSecure(value: unknown): boolean {
  return value !== null && typeof value === "object" && "secure" in value;
}
