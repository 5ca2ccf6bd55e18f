/**
 * GenerationQueue over Lambda Invoke with InvocationType "Event": the route handler returns at once and the
 * worker streams for as long as the answer takes (API Gateway's 29 s integration timeout does not apply to it).
 */
import { InvokeCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import type { GenerationJob, GenerationQueue } from "../chat/ports";
import { timeout } from "./timeout";

export const INVOKE_TIMEOUT_MS = 5_000;

export class LambdaGenerationQueue implements GenerationQueue {
  constructor(
    private readonly client: () => LambdaClient,
    private readonly functionName: string,
  ) {}

  async enqueue(job: GenerationJob): Promise<void> {
    const response = await this.client().send(
      new InvokeCommand({
        FunctionName: this.functionName,
        InvocationType: "Event",
        Payload: new TextEncoder().encode(JSON.stringify(job)),
      }),
      timeout(INVOKE_TIMEOUT_MS),
    );
    // An accepted asynchronous invocation answers 202.
    if (response.StatusCode !== undefined && response.StatusCode !== 202) {
      throw new Error(`worker invoke answered ${response.StatusCode}`);
    }
  }
}
