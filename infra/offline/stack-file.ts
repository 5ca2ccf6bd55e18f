/**
 * A stack's config as the Pulumi CLI would hand it to the program, read from `Pulumi.<stack>.yaml` without the CLI:
 * full keys (`chat:regions`, `aws:region`), lists and objects as JSON text, scalars as strings. Secrets cannot be
 * decrypted offline and arrive as the placeholder `[secret]`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";

/** The repository root (where Pulumi.yaml lives). */
export const REPO_ROOT = path.join(__dirname, "..", "..");

export function stackFilePath(stack: string, root = REPO_ROOT): string {
  return path.join(root, `Pulumi.${stack}.yaml`);
}

/** The stacks that have a file in `root`. */
export function stackNames(root = REPO_ROOT): string[] {
  return fs
    .readdirSync(root)
    .map((file) => /^Pulumi\.([^.]+)\.yaml$/.exec(file)?.[1])
    .filter((name): name is string => name !== undefined)
    .sort();
}

export function readStackConfig(stack: string, root = REPO_ROOT): Record<string, string> {
  const file = stackFilePath(stack, root);
  if (!fs.existsSync(file)) {
    throw new Error(`no stack file ${path.basename(file)} (stacks with a file: ${stackNames(root).join(", ") || "none"})`);
  }
  const parsed = yaml.load(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed?.config ?? {})) {
    const secret = value !== null && typeof value === "object" && "secure" in value;
    config[key] = secret ? "[secret]" : typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value);
  }
  return config;
}
