/**
 * The Bedrock runtime client, once per container. It keeps the SDK's default HTTP/2 handler; its retries are the
 * worker's (bounded, with jitter, only before the first token), so the client makes one attempt per call.
 */
import { BedrockRuntimeClient } from "@aws-sdk/client-bedrock-runtime";

let bedrock: BedrockRuntimeClient | undefined;

export function bedrockRuntime(): BedrockRuntimeClient {
  bedrock ??= new BedrockRuntimeClient({ maxAttempts: 1 });
  return bedrock;
}

export function resetBedrock(): void {
  bedrock?.destroy();
  bedrock = undefined;
}
