/**
 * The chat page in a real browser (Debian's Chromium via playwright-core), for what the local stack cannot be
 * made to do on demand: hostile markup in exact form, deltas out of order or twice, an answer lost with its
 * connection, refused reconnects, any error code, an unreachable region. The fake server speaks the real wire
 * protocol over a real WebSocket; the page's main flows run against the local stack (local-stack.test.ts).
 */
import { expect } from "chai";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { ensureWebBuild, launchBrowser, openPage, sendMessage, signIn, waitAnswerDone, waitConnected } from "./support/browser";
import { startFakeChatServer, type FakeChatServer } from "./support/fake-chat-server";
import type { PageGlobals, PageNode } from "./support/page-globals";


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
    // Clicking what is left of the links must run nothing either.
    await answer.getByText("click me").click();
    await answer.getByText("safe link").click();
    const report = await page.evaluate(() => {
      const w = globalThis as unknown as PageGlobals;
      const root = w.document.querySelector("#app")!;
      const handlerAttributes = [...root.querySelectorAll("*")].flatMap((el) => [...el.attributes].filter((a) => a.name.startsWith("on")).map((a) => `${el.tagName}.${a.name}`));
      return {
        xss: w.__xss ?? null,
        scripts: root.querySelectorAll("script").length,
        images: root.querySelectorAll(".markdown img").length,
        handlerAttributes,
        javascriptLinks: [...root.querySelectorAll("a")].filter((a) => /^\s*javascript:/i.test(a.getAttribute("href") ?? "")).length,
        text: w.document.querySelector("article.turn.assistant .markdown")!.textContent,
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

  it("keeps a message typed while reconnecting and sends it once the connection is back", async () => {
    await signIn(page, server.webUrl, "offline-typist");
    server.refuseConnections(true);
    server.dropConnections();
    await page.getByRole("status").filter({ hasText: /Reconnecting/ }).waitFor();
    await sendMessage(page, "typed while the socket is down");
    expect(await page.locator("article.turn.user .turn-note").innerText()).to.contain("Sending…");
    server.refuseConnections(false);
    expect(await waitAnswerDone(page)).to.equal("complete");
    const sends = server.received.filter((f) => f.action === "send" && f.text === "typed while the socket is down");
    expect(sends).to.have.length(1);
    expect(await page.locator("article.turn.user").count()).to.equal(1);
  });

  it("says it is offline while the browser has no network, and reconnects when it is back", async () => {
    await signIn(page, server.webUrl, "commuter");
    await context.setOffline(true);
    await page.getByRole("status").filter({ hasText: "Offline — waiting for the network" }).waitFor();
    await context.setOffline(false);
    await waitConnected(page);
    await sendMessage(page, "back online [[tokens:5]]");
    expect(await waitAnswerDone(page)).to.equal("complete");
  });

  it("shows a connection error in words when no token can be had, and recovers when it can", async () => {
    await signIn(page, server.webUrl, "unlucky-token");
    server.failTokens(true);
    server.refuseConnections(true);
    server.dropConnections();
    // The refused handshake makes the page fetch a fresh token, which fails.
    await page.getByRole("status").filter({ hasText: "Not connected. The local sign-in service is not answering (HTTP 503)." }).waitFor({ timeout: 20_000 });
    server.failTokens(false);
    server.refuseConnections(false);
    await waitConnected(page);
  });

  it("re-sends a message whose answer was lost with the connection, with the same clientMessageId", async () => {
    await signIn(page, server.webUrl, "unlucky");
    server.dropOnNextSend();
    await sendMessage(page, "lost on the way back [[tokens:20]]");
    expect(await waitAnswerDone(page)).to.equal("complete");
    const sends = server.received.filter((f) => f.action === "send" && f.text === "lost on the way back [[tokens:20]]");
    expect(sends.length).to.equal(2);
    expect(new Set(sends.map((f) => (f.action === "send" ? f.clientMessageId : "")))).to.have.property("size", 1);
    expect(await page.locator("article.turn.user").count()).to.equal(1);
    expect(await page.locator("article.turn.assistant").count()).to.equal(1);
    expect(await page.locator("article.turn.assistant .markdown").innerText()).to.contain("That is all.");
  });

  it("reconnects silently with a fresh token when the server refuses a frame after the token's expiry", async () => {
    await signIn(page, server.webUrl, "expiring");
    await sendMessage(page, "before expiry [[tokens:5]]");
    expect(await waitAnswerDone(page)).to.equal("complete");
    const handshakes = server.handshakeTokens.length;
    const oldToken = server.handshakeTokens.at(-1);
    server.expireConnections();
    await sendMessage(page, "after expiry [[tokens:5]]");
    await page.locator("article.turn.assistant").nth(1).waitFor();
    expect(await waitAnswerDone(page)).to.equal("complete");
    // The refused send went out again, with the same clientMessageId, on a new connection with a new token.
    const sends = server.received.filter((f) => f.action === "send" && f.text === "after expiry [[tokens:5]]");
    expect(sends).to.have.length(2);
    expect(new Set(sends.map((f) => (f.action === "send" ? f.clientMessageId : "")))).to.have.property("size", 1);
    expect(server.handshakeTokens.length).to.equal(handshakes + 1);
    expect(server.handshakeTokens.at(-1)).to.not.equal(oldToken);
    // Expected, so nothing is shown: no alert, no error state, no console error.
    expect(await page.getByRole("alert").count()).to.equal(0);
    expect(await page.locator("article.turn.assistant").count()).to.equal(2);
    await waitConnected(page);
    expect(errors).to.deep.equal([]);
  });

  it("takes a fresh token before sending once its clock passes the token's expiry", async () => {
    await page.clock.install();
    await signIn(page, server.webUrl, "clockwatcher");
    const handshakes = server.handshakeTokens.length;
    // The fake server's tokens live an hour; the page's clock moves past that.
    await page.clock.fastForward("01:01:00");
    await sendMessage(page, "an hour later [[tokens:5]]");
    expect(await waitAnswerDone(page)).to.equal("complete");
    // Sent once, on a new connection: the page did not offer the expired token's socket a frame.
    expect(server.received.filter((f) => f.action === "send" && f.text === "an hour later [[tokens:5]]")).to.have.length(1);
    expect(server.handshakeTokens.length).to.equal(handshakes + 1);
    expect(await page.getByRole("alert").count()).to.equal(0);
    expect(errors).to.deep.equal([]);
  });

  it("reads every history page after a reload and shows the turns in order", async () => {
    await signIn(page, server.webUrl, "pager");
    for (const n of [1, 2, 3]) {
      await sendMessage(page, `message ${n} [[tokens:3]]`);
      await waitAnswerDone(page);
    }
    const pagesBefore = server.received.filter((f) => f.action === "history").length;
    await page.reload();
    await page.locator("article.turn").nth(5).waitFor();
    // The fake server pages 4 turns at a time, so six turns take two pages.
    expect(server.received.filter((f) => f.action === "history").length - pagesBefore).to.equal(2);
    expect(await page.locator("article.turn.user .bubble").allInnerTexts()).to.deep.equal(["message 1 [[tokens:3]]", "message 2 [[tokens:3]]", "message 3 [[tokens:3]]"]);
    expect(await page.locator("article.turn").evaluateAll((els) => els.map((el) => el.getAttribute("aria-label")))).to.deep.equal([
      "You said",
      "Answer",
      "You said",
      "Answer",
      "You said",
      "Answer",
    ]);
  });

  it("shows a server error frame in words on the message it concerns", async () => {
    await signIn(page, server.webUrl, "hasty");
    await sendMessage(page, "too fast [[error:rate_limited]]");
    const alert = page.locator("article.turn.user").getByRole("alert");
    await alert.waitFor();
    expect(await alert.innerText()).to.contain("You are sending messages too quickly");
    expect(await page.locator("article.turn.assistant").count()).to.equal(0);
    expect(await page.getByRole("button", { name: "Send" }).isVisible()).to.equal(true);
    // The refused text is back in the box, ready to send again.
    expect(await page.getByLabel("Message", { exact: true }).inputValue()).to.equal("too fast [[error:rate_limited]]");
  });

  it("stops following the answer when the reader scrolls up, and offers a way back", async () => {
    const small = await openPage(browser, { viewport: { width: 900, height: 500 } });
    try {
      await signIn(small.page, server.webUrl, "reader");
      server.script({ pieces: Array.from({ length: 150 }, (_, i) => `Line ${i} of a long answer.\n\n`), intervalMs: 15 });
      await sendMessage(small.page, "a long answer please");
      await small.page.waitForFunction(
        () => (globalThis as unknown as PageGlobals).document.querySelectorAll("article.turn.assistant .markdown p").length > 30,
      );
      await small.page.locator(".scroller").hover();
      await small.page.mouse.wheel(0, -2000);
      expect(await waitAnswerDone(small.page)).to.equal("complete");
      const position = await small.page.locator(".scroller").evaluate((el) => ({ top: el.scrollTop, end: el.scrollHeight - el.clientHeight }));
      expect(position.end - position.top).to.be.greaterThan(500);
      const jump = small.page.getByRole("button", { name: "Jump to latest" });
      await jump.click();
      await small.page.waitForFunction(() => {
        const el = (globalThis as unknown as PageGlobals).document.querySelector(".scroller")!;
        return el.scrollHeight - el.clientHeight - el.scrollTop < 5;
      });
    } finally {
      await small.context.close();
    }
  });
});

describe("web chat page: keyboard and screen reader (fake protocol server)", function () {
  this.timeout(60_000);
  let server: FakeChatServer;
  let browser: Browser;

  before(async () => {
    server = await startFakeChatServer(ensureWebBuild());
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("works from the keyboard alone and announces the answer politely when it completes", async () => {
    const { page, context } = await openPage(browser);
    try {
      await page.goto(server.webUrl);
      await page.getByLabel("User name").waitFor();
      await page.keyboard.type("keyboard-user");
      await page.keyboard.press("Enter");
      await page.getByRole("status").filter({ hasText: "Connected" }).waitFor();
      // Focus lands in the message box; Enter sends.
      await page.keyboard.type("Hello by keyboard [[tokens:30]]");
      await page.keyboard.press("Enter");
      expect(await waitAnswerDone(page)).to.equal("complete");
      const live = page.locator("[aria-live=polite]");
      expect(await live.textContent()).to.contain("Answer complete.");
      // Shift+Tab from the message box reaches the answer's actions.
      let focused = "";
      for (let i = 0; i < 12 && focused !== "Regenerate"; i += 1) {
        await page.keyboard.press("Shift+Tab");
        focused = await page.evaluate(() => ((globalThis as unknown as PageGlobals & { document: { activeElement: PageNode | null } }).document.activeElement?.textContent ?? "").trim());
      }
      expect(focused).to.equal("Regenerate");
      await page.keyboard.press("Enter");
      await page.locator("article.turn.assistant").filter({ hasText: "Regenerated" }).waitFor();
      expect(await waitAnswerDone(page)).to.equal("complete");
    } finally {
      await context.close();
    }
  });

  it("copies an answer's markdown source with its Copy button", async () => {
    const { page, context } = await openPage(browser);
    try {
      await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.webUrl });
      await signIn(page, server.webUrl, "copier");
      server.script({ pieces: ["Some **bold** text", " and `code`."] });
      await sendMessage(page, "copy me");
      await waitAnswerDone(page);
      const copy = page.locator("article.turn.assistant").getByRole("button", { name: "Copy" });
      await copy.click();
      await page.locator("article.turn.assistant").getByRole("button", { name: "Copied" }).waitFor();
      const copied = await page.evaluate(() => (globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }).navigator.clipboard.readText());
      expect(copied).to.equal("Some **bold** text and `code`.");
    } finally {
      await context.close();
    }
  });

  it("fits a phone: the conversation list slides in from a button and Escape closes it", async () => {
    const { page, context } = await openPage(browser, { viewport: { width: 390, height: 844 } });
    try {
      await signIn(page, server.webUrl, "phone-user");
      const list = page.getByRole("navigation", { name: "Conversations" });
      expect(await list.isVisible()).to.equal(false);
      const menu = page.getByRole("button", { name: "Conversations" });
      await menu.click();
      expect(await menu.getAttribute("aria-expanded")).to.equal("true");
      await list.waitFor({ state: "visible" });
      expect(await page.getByRole("button", { name: "New chat" }).evaluate((el) => el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement)).to.equal(true);
      await page.keyboard.press("Escape");
      await list.waitFor({ state: "hidden" });
      expect(await menu.getAttribute("aria-expanded")).to.equal("false");
      const width = await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth);
      expect(width, "no horizontal scrolling").to.be.at.most(390);
    } finally {
      await context.close();
    }
  });

  it("follows the system colour scheme and lets the user choose light or dark", async () => {
    const { page, context } = await openPage(browser, { colorScheme: "dark" });
    try {
      await signIn(page, server.webUrl, "night-owl");
      type Styled = { document: { body: unknown }; getComputedStyle(element: unknown): { backgroundColor: string } };
      const background = () =>
        page.evaluate(() => {
          const w = globalThis as unknown as Styled;
          return w.getComputedStyle(w.document.body).backgroundColor;
        });
      const systemDark = await background();
      await page.getByRole("button", { name: "Theme: System" }).click();
      expect(await page.locator("html").getAttribute("data-theme")).to.equal("light");
      const light = await background();
      await page.getByRole("button", { name: "Theme: Light" }).click();
      expect(await page.locator("html").getAttribute("data-theme")).to.equal("dark");
      expect(await background()).to.equal(systemDark);
      expect(light).to.not.equal(systemDark);
      await page.reload();
      await waitConnected(page);
      expect(await page.locator("html").getAttribute("data-theme")).to.equal("dark");
    } finally {
      await context.close();
    }
  });
});

describe("web chat page: keepalive (fake protocol server)", function () {
  this.timeout(60_000);
  let server: FakeChatServer;
  let browser: Browser;

  before(async () => {
    server = await startFakeChatServer(ensureWebBuild());
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("pings an idle connection well inside API Gateway's 10-minute idle timeout", async () => {
    const { page, context } = await openPage(browser);
    try {
      await page.clock.install();
      await signIn(page, server.webUrl, "idler");
      const pingsBefore = server.received.filter((f) => f.action === "ping").length;
      await page.clock.fastForward("04:00");
      await page.clock.fastForward("01:05");
      await page.waitForFunction(() => true);
      const deadline = Date.now() + 5000;
      while (server.received.filter((f) => f.action === "ping").length === pingsBefore && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(server.received.filter((f) => f.action === "ping").length).to.be.greaterThan(pingsBefore);
      expect(await page.getByRole("status").innerText()).to.equal("Connected · us-east-1");
    } finally {
      await context.close();
    }
  });
});

describe("web chat page: region failover (fake protocol server)", function () {
  this.timeout(60_000);
  let server: FakeChatServer;
  let browser: Browser;

  before(async () => {
    // The first region's endpoint refuses every connection (nothing listens on a closed port).
    server = await startFakeChatServer(ensureWebBuild(), {
      region: "eu-west-1",
      configRegions: (own) => [
        { region: "us-east-1", url: "ws://127.0.0.1:9/unreachable" },
        { region: "eu-west-1", url: own },
      ],
    });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("connects to the next configured region when the first cannot be reached", async () => {
    const { page, context } = await openPage(browser);
    try {
      await signIn(page, server.webUrl, "traveller");
      expect(await page.getByRole("status").innerText()).to.equal("Connected · eu-west-1");
      await sendMessage(page, "hello from the second region [[tokens:10]]");
      expect(await waitAnswerDone(page)).to.equal("complete");
      await page.locator("article.turn.assistant summary").click();
      expect(await page.locator("article.turn.assistant dl").innerText()).to.match(/Region\s+eu-west-1/);
    } finally {
      await context.close();
    }
  });
});
