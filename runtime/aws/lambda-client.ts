/** The Lambda client (worker invocations), once per container; endpoint from AWS_ENDPOINT_URL_LAMBDA when set. */
import { LambdaClient } from "@aws-sdk/client-lambda";

let lambda: LambdaClient | undefined;

export function lambdaClient(): LambdaClient {
  lambda ??= new LambdaClient({});
  return lambda;
}

export function resetLambda(): void {
  lambda?.destroy();
  lambda = undefined;
}
