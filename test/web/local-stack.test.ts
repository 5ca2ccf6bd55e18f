/**
 * The chat page in a real browser against the local stack: the unchanged runtime handlers behind the API Gateway
 * emulator, the Bedrock emulator, the local Lambda Invoke API, the Cognito-shaped issuer and DynamoDB.
 */
import { expect } from "chai";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { LocalStack } from "../../runtime/local/stack";
import { launchBrowser, openPage, sendMessage, signIn, waitAnswerDone } from "./support/browser";
import { describeChatPage } from "./support/chat-suite";
import { startScriptServer, type ScriptServer } from "./support/openai-script-server";
import type { PageGlobals } from "./support/page-globals";
import { startPageStack, type PageStackOptions } from "./support/page-stack";

/** Quick but still streamed: the first token after 150 ms, then 80 tokens/s, coalesced every 40 ms. */
function localStack(extra: PageStackOptions = {}): Promise<LocalStack> {
  return startPageStack({ timing: { timeToFirstTokenMs: 150, tokensPerSecond: 80 }, ...extra });
}

describeChatPage("web chat page against the local stack", async () => {
  const stack = await localStack();
  return {
    webUrl: stack.webUrl,
    dropConnections: () => {
      for (const connection of stack.gateway.connections()) stack.gateway.drop(connection.connectionId);
    },
    stop: () => stack.stop(),
  };
});

describe("web chat page against the local stack: a model answer with hostile markup", function () {
  this.timeout(90_000);
  let script: ScriptServer;
  let stack: LocalStack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  before(async function () {
    this.timeout(120_000);
    script = await startScriptServer();
    stack = await localStack({ bedrock: { passthrough: { baseUrl: script.baseUrl, model: "scripted" } } });
    browser = await launchBrowser();
    ({ context, page } = await openPage(browser));
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await stack?.stop();
    await script?.stop();
  });

  it("connects with the token as the second subprotocol, never in the URL, and Chromium accepts the gateway's answer", async () => {
    const fresh = await openPage(browser);
    try {
      const urls: string[] = [];
      fresh.page.on("websocket", (ws) => urls.push(ws.url()));
      const authorizersBefore = stack.gateway.invocations.filter((i) => i.functionName === "authorizer").length;
      await signIn(fresh.page, stack.webUrl, "subprotocol-user");
      expect(urls).to.have.length.greaterThan(0);
      for (const url of urls) expect(url).to.not.match(/token/i);
      const handshake = stack.gateway.invocations.filter((i) => i.functionName === "authorizer")[authorizersBefore]!.event as {
        headers: Record<string, string>;
        queryStringParameters?: unknown;
      };
      expect(handshake.headers["Sec-WebSocket-Protocol"]).to.match(/^chat\.v1, ?[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(handshake).to.not.have.property("queryStringParameters");
      // "Connected" means the browser kept the socket: its handshake answer named chat.v1, which it had offered.
      expect(stack.gateway.connections().some((c) => c.principalId !== undefined)).to.equal(true);
      expect(fresh.errors).to.deep.equal([]);
    } finally {
      await fresh.context.close();
    }
  });

  it("renders <script>, <img onerror> and javascript: links from the model inert", async () => {
    await signIn(page, stack.webUrl, "mallory");
    script.script([
      "Here you go:\n\n",
      "<script>window.__xss = 'script'</script>\n\n",
      "<img src=x onerror=\"window.__xss = 'img'\">\n\n",
      "[click me](javascript:window.__xss='link')\n\n",
      "<svg onload=\"window.__xss='svg'\"></svg> done.",
    ]);
    await sendMessage(page, "show me some markup");
    expect(await waitAnswerDone(page)).to.equal("complete");
    const answer = page.locator("article.turn.assistant .markdown").last();
    await answer.getByText("click me").click();
    const report = await page.evaluate(() => {
      const w = globalThis as unknown as PageGlobals;
      const root = w.document.querySelector("#app")!;
      return {
        xss: w.__xss ?? null,
        scripts: root.querySelectorAll("script").length,
        images: root.querySelectorAll(".markdown img, .markdown svg").length,
        handlers: [...root.querySelectorAll("*")].flatMap((el) => [...el.attributes].filter((a) => a.name.startsWith("on")).map((a) => `${el.tagName}.${a.name}`)),
        javascriptLinks: [...root.querySelectorAll("a")].filter((a) => /^\s*javascript:/i.test(a.getAttribute("href") ?? "")).length,
      };
    });
    expect(report).to.deep.equal({ xss: null, scripts: 0, images: 0, handlers: [], javascriptLinks: 0 });
    // The turn went through the real handlers: history has the same text the page shows as text.
    expect(await answer.innerText()).to.contain("<img src=x onerror=");
  });
});
