/**
 * The chat page in a real browser (Debian's Chromium via playwright-core) against a backend that speaks the
 * real wire protocol over a real WebSocket.
 */
import { expect } from "chai";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { ensureWebBuild, launchBrowser, openPage, sendMessage, signIn, waitAnswerDone, waitConnected } from "./support/browser";
import { describeChatPage } from "./support/chat-suite";
import { startFakeChatServer, type FakeChatServer } from "./support/fake-chat-server";

describeChatPage("web chat page against the fake protocol server", async () => startFakeChatServer(ensureWebBuild()));

describe("web chat page: untrusted output and delivery edge cases (fake protocol server)", function () {
  this.timeout(60_000);
  let server: FakeChatServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];

  before(async () => {
    server = await startFakeChatServer(ensureWebBuild());
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });
  beforeEach(async () => {
    ({ context, page, errors } = await openPage(browser));
  });
  afterEach(async () => {
    await context.close();
  });

  it("renders model markup inert: no script runs, no event handler attribute, no javascript: link", async () => {
    await signIn(page, server.webUrl, "mallory");
    server.script({
      pieces: [
        "Here you go:\n\n",
        "<script>window.__xss = 'script'</script>\n\n",
        '<img src="x" onerror="window.__xss = \'img\'">\n\n',
        "[click me](javascript:window.__xss='link') and ",
        '<a href="https://example.com" onclick="window.__xss=\'click\'">safe link</a>\n\n',
        "![pixel](https://attacker.example/pixel.png?leak=1)",
      ],
      intervalMs: 20,
    });
    await sendMessage(page, "show me some html");
    expect(await waitAnswerDone(page)).to.equal("complete");
    const answer = page.locator("article.turn.assistant .markdown").last();
    await answer.getByRole("link", { name: "click me" }).click({ timeout: 5000 }).catch(() => undefined);
    await answer.getByText("safe link").click({ timeout: 5000, modifiers: [] }).catch(() => undefined);
    const report = await page.evaluate(() => {
      const root = document.querySelector("#app")!;
      const handlerAttributes = [...root.querySelectorAll("*")].flatMap((el) => [...el.attributes].filter((a) => a.name.startsWith("on")).map((a) => `${el.tagName}.${a.name}`));
      return {
        xss: (window as unknown as { __xss?: string }).__xss ?? null,
        scripts: root.querySelectorAll("script").length,
        images: root.querySelectorAll(".markdown img").length,
        handlerAttributes,
        javascriptLinks: [...root.querySelectorAll("a")].filter((a) => /^\s*javascript:/i.test(a.getAttribute("href") ?? "")).length,
        text: document.querySelector("article.turn.assistant .markdown")!.textContent,
      };
    });
    expect(report.xss).to.equal(null);
    expect(report.scripts).to.equal(0);
    expect(report.images).to.equal(0);
    expect(report.handlerAttributes).to.deep.equal([]);
    expect(report.javascriptLinks).to.equal(0);
    // The markup is shown as text, so the reader sees what the model wrote.
    expect(report.text).to.contain("<script>window.__xss = 'script'</script>");
    expect(errors.filter((e) => !e.includes("Content Security Policy"))).to.deep.equal([]);
  });

  it("puts deltas that arrive out of order or twice back in seq order", async () => {
    await signIn(page, server.webUrl, "reorder");
    server.script({ pieces: ["one ", "two ", "three ", "four ", "five"], order: [0, 2, 1, 1, 3, 0, 4], intervalMs: 30 });
    await sendMessage(page, "count to five");
    expect(await waitAnswerDone(page)).to.equal("complete");
    expect((await page.locator("article.turn.assistant .markdown").last().textContent())?.trim()).to.equal("one two three four five");
  });

  it("keeps a message typed while reconnecting and sends it once with the same clientMessageId", async () => {
    await signIn(page, server.webUrl, "offline-typist");
    await page.route("**/local/token**", (route) => route.continue());
    server.dropConnections();
    await sendMessage(page, "sent while the socket is down");
    expect(await waitAnswerDone(page)).to.equal("complete");
    await waitConnected(page);
    const sends = server.received.filter((f) => f.action === "send" && f.text === "sent while the socket is down");
    expect(sends.length).to.be.greaterThan(0);
    expect(new Set(sends.map((f) => (f.action === "send" ? f.clientMessageId : ""))).size).to.equal(1);
    expect(await page.locator("article.turn.user").count()).to.equal(1);
  });
});
