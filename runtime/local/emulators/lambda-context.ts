/**
 * A Lambda `Context` for handlers run by the local stack, shaped like the one the Node.js runtime passes
 * (https://docs.aws.amazon.com/lambda/latest/dg/nodejs-context.html): the deadline is real, so a handler that
 * plans around `getRemainingTimeInMillis()` behaves as it would in Lambda.
 */
import { randomUUID } from "node:crypto";
import type { Context } from "aws-lambda";

export interface LocalFunctionIdentity {
  functionName: string;
  region: string;
  accountId: string;
  /** The function's configured timeout, in milliseconds. */
  timeoutMs: number;
  memoryLimitInMB?: number;
}

export function lambdaContext(fn: LocalFunctionIdentity, startedAt = Date.now()): Context {
  const deadline = startedAt + fn.timeoutMs;
  const awsRequestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: fn.functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${fn.region}:${fn.accountId}:function:${fn.functionName}`,
    memoryLimitInMB: String(fn.memoryLimitInMB ?? 1024),
    awsRequestId,
    logGroupName: `/aws/lambda/${fn.functionName}`,
    logStreamName: `local/[$LATEST]${awsRequestId.replace(/-/g, "")}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
