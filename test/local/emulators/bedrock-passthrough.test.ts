import { BedrockRuntimeClient, ConverseStreamCommand, InvokeModelWithResponseStreamCommand } from "@aws-sdk/client-bedrock-runtime";
import { expect } from "chai";
import { createServer, type Server } from "node:http";
import { BedrockEmulator } from "../../../runtime/local/emulators/bedrock";

/** A stand-in for Ollama's OpenAI-compatible `/v1/chat/completions`, streaming server-sent events. */
function fakeOllama(received: unknown[]): Server {
  return createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      received.push({ url: req.url, body: JSON.parse(body) as unknown });
      res.writeHead(200, { "content-type": "text/event-stream" });
      const pieces = ["Hello", " from", " the", " local", " model."];
      for (const content of pieces) res.write(`data: ${JSON.stringify({ choices: [{ delta: { content }, finish_reason: null }] })}\n\n`);
      res.write(`data: ${JSON.stringify({ choices: [{ delta: {}, finish_reason: "stop" }] })}\n\n`);
      res.write(`data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 12, completion_tokens: 5 } })}\n\n`);
      res.end("data: [DONE]\n\n");
    });
  });
}

describe("local/bedrock: passthrough to a local OpenAI-compatible server", function () {
  this.timeout(10_000);
  const received: Array<{ url?: string; body: { model: string; stream: boolean; messages: Array<{ role: string; content: string }> } }> = [];
  let server: Server;
  let bedrock: BedrockEmulator;
  let client: BedrockRuntimeClient;

  before(async () => {
    server = fakeOllama(received);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as { port: number }).port;
    bedrock = await new BedrockEmulator({
      timing: { timeToFirstTokenMs: 0 },
      passthrough: { baseUrl: `http://127.0.0.1:${port}/v1`, model: "llama3.2" },
    }).start();
    client = new BedrockRuntimeClient({ endpoint: bedrock.endpoint, region: "us-east-1", credentials: { accessKeyId: "l", secretAccessKey: "l" } });
  });
  after(async () => {
    client.destroy();
    await bedrock.stop();
    server.close();
  });

  it("relays the server's answer as ConverseStream events with its usage", async () => {
    const response = await client.send(
      new ConverseStreamCommand({
        modelId: "anthropic.claude-3-haiku-20240307-v1:0",
        system: [{ text: "Be brief." }],
        messages: [{ role: "user", content: [{ text: "Say hello" }] }],
      }),
    );
    let text = "";
    let usage: { inputTokens?: number; outputTokens?: number } | undefined;
    for await (const event of response.stream!) {
      text += event.contentBlockDelta?.delta?.text ?? "";
      usage = event.metadata?.usage ?? usage;
    }
    expect(text).to.equal("Hello from the local model.");
    expect(usage).to.include({ inputTokens: 12, outputTokens: 5 });
    const sent = received.at(-1)!;
    expect(sent.url).to.equal("/v1/chat/completions");
    expect(sent.body.model).to.equal("llama3.2");
    expect(sent.body.stream).to.equal(true);
    expect(sent.body.messages).to.deep.equal([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Say hello" },
    ]);
  });

  it("relays it as Anthropic chunks through InvokeModelWithResponseStream", async () => {
    const response = await client.send(
      new InvokeModelWithResponseStreamCommand({
        modelId: "anthropic.claude-3-haiku-20240307-v1:0",
        body: JSON.stringify({ anthropic_version: "bedrock-2023-05-31", max_tokens: 100, messages: [{ role: "user", content: "hi" }] }),
      }),
    );
    const chunks: Array<{ type: string; delta?: { text?: string } }> = [];
    for await (const event of response.body!) chunks.push(JSON.parse(Buffer.from(event.chunk!.bytes!).toString()));
    expect(chunks.filter((c) => c.type === "content_block_delta").map((c) => c.delta!.text).join("")).to.equal("Hello from the local model.");
    expect(chunks.at(-1)!.type).to.equal("message_stop");
  });
});
