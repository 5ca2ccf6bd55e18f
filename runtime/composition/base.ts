/**
 * What every handler uses: the config and the logger, read once per container (module scope, lazily). Each
 * handler composes its dependencies in its own module under runtime/composition/, so its bundle holds only what it
 * calls (the authorizer no AWS SDK client at all, connect/disconnect only DynamoDB).
 */
import type { Log } from "../chat/ports";
import { loadConfig, type RuntimeConfig } from "../config";
import { createLog } from "../log";

const LOG_LEVELS = ["DEBUG", "INFO", "WARN", "ERROR", "SILENT"] as const;

let config: RuntimeConfig | undefined;
let log: Log | undefined;

export function runtimeConfig(): RuntimeConfig {
  config ??= loadConfig(process.env);
  return config;
}

export function runtimeLog(): Log {
  const level = (process.env.LOG_LEVEL ?? "INFO").toUpperCase();
  log ??= createLog(LOG_LEVELS.find((l) => l === level) ?? "INFO");
  return log;
}

export function resetBase(): void {
  config = undefined;
  log = undefined;
}
