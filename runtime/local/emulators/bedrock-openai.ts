/**
 * Optional passthrough: when `LOCAL_OPENAI_BASE_URL` points at an OpenAI-compatible server (Ollama's
 * `http://127.0.0.1:11434/v1`, llama.cpp's server), the Bedrock emulator streams that server's chat completion
 * through the Bedrock wire format instead of writing its own answer.
 */
import type { PromptMessage } from "./bedrock-formats";

export interface OpenAiPassthrough {
  baseUrl: string;
  /** The local model name (LOCAL_OPENAI_MODEL); defaults to the Bedrock model id, which rarely exists locally. */
  model?: string;
  apiKey?: string;
}

export interface PassthroughResult {
  text: AsyncIterable<string>;
  /** Usage as the server reported it, known once `text` has been read to the end. */
  usage(): { inputTokens?: number; outputTokens?: number; finishReason?: string };
}

export async function streamChatCompletion(
  config: OpenAiPassthrough,
  request: { modelId: string; system: string; messages: PromptMessage[]; maxTokens?: number },
  signal: AbortSignal,
): Promise<PassthroughResult> {
  const messages = [
    ...(request.system ? [{ role: "system", content: request.system }] : []),
    ...request.messages.map((m) => ({ role: m.role === "assistant" ? "assistant" : "user", content: m.text })),
  ];
  const response = await fetch(`${config.baseUrl.replace(/\/$/, "")}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${config.apiKey ?? "local"}` },
    body: JSON.stringify({
      model: config.model ?? request.modelId,
      messages,
      stream: true,
      stream_options: { include_usage: true },
      ...(request.maxTokens ? { max_tokens: request.maxTokens } : {}),
    }),
    signal,
  });
  if (!response.ok || !response.body) {
    throw new Error(`local model server answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
  }
  const usage: { inputTokens?: number; outputTokens?: number; finishReason?: string } = {};
  const body = response.body;
  async function* text(): AsyncIterable<string> {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const bytes of body as unknown as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(bytes, { stream: true });
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (!line.startsWith("data:")) continue;
        const data = line.slice(5).trim();
        if (data === "[DONE]") return;
        const event = JSON.parse(data) as {
          choices?: Array<{ delta?: { content?: string }; finish_reason?: string | null }>;
          usage?: { prompt_tokens?: number; completion_tokens?: number };
        };
        if (event.usage) {
          usage.inputTokens = event.usage.prompt_tokens;
          usage.outputTokens = event.usage.completion_tokens;
        }
        const choice = event.choices?.[0];
        if (choice?.finish_reason) usage.finishReason = choice.finish_reason;
        if (choice?.delta?.content) yield choice.delta.content;
      }
    }
  }
  return { text: text(), usage: () => usage };
}
