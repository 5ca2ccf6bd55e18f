/**
 * Structured JSON logs (Powertools for AWS Lambda logger). Callers pass the correlation ids (connectionId,
 * turnId) on every line; nothing logs tokens, prompts or answers.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import type { Log, LogAttributes } from "./chat/ports";
import type { LogLevel } from "./config";

export const SERVICE_NAME = "streaming-chat";

/** The Log port over Powertools; attributes become top-level JSON keys. One per container (runtime/container.ts). */
export function createLog(level: LogLevel = "INFO"): Log {
  const target = new Logger({ serviceName: SERVICE_NAME, logLevel: level });
  const clean = (attributes?: LogAttributes) => (attributes ? Object.fromEntries(Object.entries(attributes).filter(([, v]) => v !== undefined)) : {});
  return {
    debug: (message, attributes) => target.debug(message, clean(attributes)),
    info: (message, attributes) => target.info(message, clean(attributes)),
    warn: (message, attributes) => target.warn(message, clean(attributes)),
    error: (message, attributes) => target.error(message, clean(attributes)),
  };
}

/** A Log that drops everything (tests, tools). */
export const silentLog: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
