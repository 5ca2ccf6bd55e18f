/**
 * A tiny OpenAI-compatible chat-completions server (`POST /chat/completions`, `stream: true`, SSE) that streams
 * scripted text. The local stack's Bedrock emulator can relay such a server (its passthrough, as it relays
 * Ollama), which lets a browser test put exact text — hostile markup included — into a real turn that goes
 * through the unchanged handlers, the Bedrock wire format and the gateway.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface ScriptServer {
  baseUrl: string;
  /** The next completions stream these pieces, one answer per call; then a short default answer. */
  script(...answers: string[][]): void;
  stop(): Promise<void>;
}

export async function startScriptServer(): Promise<ScriptServer> {
  const queue: string[][] = [];
  const server = createServer((req, res) => {
    if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
      res.writeHead(404).end();
      return;
    }
    req.resume();
    req.on("end", () => {
      const pieces = queue.shift() ?? ["This ", "is ", "a ", "scripted ", "answer."];
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
      let index = 0;
      const timer = setInterval(() => {
        if (res.destroyed) return clearInterval(timer);
        if (index < pieces.length) {
          res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: pieces[index++] }, finish_reason: null }] })}\n\n`);
          return;
        }
        clearInterval(timer);
        res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })}\n\n`);
        res.write(`data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 12, completion_tokens: pieces.length } })}\n\n`);
        res.end("data: [DONE]\n\n");
      }, 25);
      res.on("close", () => clearInterval(timer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    script: (...answers) => queue.push(...answers),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
