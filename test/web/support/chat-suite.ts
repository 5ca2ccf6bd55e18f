/**
 * The chat page's behaviour, as a suite that runs against any backend speaking the wire protocol: the local
 * stack (the real handlers on emulators) or the fake protocol server. Prompts use the emulators' magic words
 * (`[[tokens:N]]` sets the answer's length), which the fake server honours too.
 */
import { expect } from "chai";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchBrowser, openPage, sendMessage, signIn, waitAnswerDone, waitConnected } from "./browser";
import type { PageGlobals } from "./page-globals";

export interface ChatBackend {
  webUrl: string;
  /** Closes every browser WebSocket from the server side. */
  dropConnections(): Promise<void> | void;
  stop(): Promise<void>;
}

export function describeChatPage(title: string, startBackend: () => Promise<ChatBackend>): void {
  describe(title, function () {
    this.timeout(90_000);
    let backend: ChatBackend;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    let errors: string[];
    let userCount = 0;
    const newUser = () => `user${++userCount}-${Date.now().toString(36)}`;

    before(async function () {
      this.timeout(120_000);
      backend = await startBackend();
      browser = await launchBrowser();
    });
    after(async () => {
      await browser?.close();
      await backend?.stop();
    });
    beforeEach(async () => {
      ({ context, page, errors } = await openPage(browser));
    });
    afterEach(async function () {
      if (this.currentTest?.state === "failed") console.error("page errors:", errors);
      await context.close();
    });

    it("signs in through the dev sign-in, which says it is local, and says answers come from the emulator", async () => {
      await page.goto(backend.webUrl);
      await page.getByText("Local development only").waitFor();
      expect(await page.getByText("Local development only").isVisible()).to.equal(true);
      await page.getByLabel("User name").fill(newUser());
      await page.getByRole("button", { name: "Sign in" }).click();
      await waitConnected(page);
      expect(await page.getByText("Answers on this page come from the local emulator").isVisible()).to.equal(true);
      expect(await page.getByRole("button", { name: "New chat" }).isVisible()).to.equal(true);
      expect(await page.getByLabel("Message", { exact: true }).evaluate((el) => el === (globalThis as unknown as PageGlobals & { document: { activeElement: unknown } }).document.activeElement)).to.equal(true);
    });

    it("streams an answer in several paints, renders its markdown, and shows TTFT and tokens on demand", async () => {
      await signIn(page, backend.webUrl, newUser());
      await page.evaluate(() => {
        const state = { paints: 0, last: "" };
        const w = globalThis as unknown as PageGlobals;
        w.__paints = state;
        new w.MutationObserver(() => {
          const answers = w.document.querySelectorAll("article.turn.assistant .markdown");
          const text = answers[answers.length - 1]?.textContent ?? "";
          if (text !== "" && text !== state.last) {
            state.paints += 1;
            state.last = text;
          }
        }).observe(w.document.body, { subtree: true, childList: true, characterData: true });
      });
      const box = page.getByLabel("Message", { exact: true });
      await box.fill("Explain streaming");
      await box.press("Shift+Enter");
      await box.pressSequentially("in two lines [[tokens:120]]");
      expect(await box.inputValue()).to.equal("Explain streaming\nin two lines [[tokens:120]]");
      await box.press("Enter");
      expect(await box.inputValue()).to.equal("");
      expect(await waitAnswerDone(page)).to.equal("complete");
      const paints = await page.evaluate(() => (globalThis as unknown as PageGlobals).__paints!.paints);
      expect(paints, "answer painted progressively").to.be.greaterThan(2);
      const answer = page.locator("article.turn.assistant").last();
      expect((await answer.locator(".markdown").textContent())?.length).to.be.greaterThan(100);
      expect(await answer.locator(".markdown p").count()).to.be.greaterThan(0);
      expect(await page.locator("article.turn.user .bubble").last().textContent()).to.equal("Explain streaming\nin two lines [[tokens:120]]");

      const details = answer.locator("details.turn-details");
      expect(await details.locator("dl").isVisible()).to.equal(false);
      await details.locator("summary").click();
      const facts = await details.locator("dl").innerText();
      expect(facts).to.match(/Time to first token\s+\d+ ms/);
      expect(facts).to.match(/Output tokens\s+[1-9]\d*/);
      expect(facts).to.match(/Input tokens\s+[1-9]\d*/);
    });

    it("stops an answer mid-stream and keeps the partial text", async () => {
      await signIn(page, backend.webUrl, newUser());
      await sendMessage(page, "Write a long essay about rivers [[tokens:2000]]");
      const stop = page.getByRole("button", { name: "Stop" });
      await stop.waitFor({ state: "visible" });
      const answer = page.locator("article.turn.assistant").last();
      await page.waitForFunction(
        () => ((globalThis as unknown as PageGlobals).document.querySelector("article.turn.assistant .markdown")?.textContent ?? "").length > 40,
      );
      await stop.click();
      expect(await waitAnswerDone(page)).to.equal("stopped");
      expect(await answer.locator(".badge").innerText()).to.equal("Stopped");
      expect((await answer.locator(".markdown").textContent())?.length).to.be.greaterThan(40);
      await stop.waitFor({ state: "hidden" });
      expect(await page.getByRole("button", { name: "Send" }).isVisible()).to.equal(true);
      expect(await stop.isVisible()).to.equal(false);
    });

    it("regenerates the last answer, and only the last answer offers it", async () => {
      await signIn(page, backend.webUrl, newUser());
      await sendMessage(page, "First question [[tokens:30]]");
      await waitAnswerDone(page);
      await sendMessage(page, "Second question [[tokens:30]]");
      await waitAnswerDone(page);
      expect(await page.getByRole("button", { name: "Regenerate" }).count()).to.equal(1);
      const lastBefore = await page.locator("article.turn.assistant").last().getAttribute("data-turn-id");
      await page.getByRole("button", { name: "Regenerate" }).click();
      expect(await waitAnswerDone(page)).to.equal("complete");
      const lastAfter = await page.locator("article.turn.assistant").last().getAttribute("data-turn-id");
      expect(lastAfter).to.be.a("string").and.not.equal(lastBefore);
      expect(await page.locator("article.turn.user").count()).to.equal(2);
      expect(await page.locator("article.turn.assistant").count()).to.equal(2);
      // The earlier answer stays reachable: "‹ 2 of 2 ›" (issue 14).
      await page.locator("article.turn.assistant").last().getByRole("group", { name: "Versions of this answer" }).getByText("2 of 2").waitFor();
    });

    it("shows the conversation again after a reload, listed in the sidebar, and starts a new chat", async () => {
      const user = newUser();
      await signIn(page, backend.webUrl, user);
      await sendMessage(page, "Remember the word pelican [[tokens:40]]");
      await waitAnswerDone(page);
      const answerText = (await page.locator("article.turn.assistant .markdown").last().innerText()).trim();
      await page.waitForFunction(() => /^#\/s\/.+/.test((globalThis as unknown as PageGlobals).location.hash));
      await page.reload();
      await waitConnected(page);
      await page.locator("article.turn.assistant").last().waitFor();
      expect(await page.locator("article.turn.user .bubble").innerText()).to.equal("Remember the word pelican [[tokens:40]]");
      expect((await page.locator("article.turn.assistant .markdown").last().innerText()).trim()).to.equal(answerText);
      const current = page.getByRole("navigation", { name: "Conversations" }).locator('a[aria-current="page"]');
      await current.waitFor();
      expect(await current.count()).to.equal(1);

      await page.getByRole("button", { name: "New chat" }).click();
      // The page re-renders after the click: wait for the empty state, then read the count.
      await page.getByText("How can I help?").waitFor();
      await page.locator("article.turn").first().waitFor({ state: "detached" });
      expect(await page.locator("article.turn").count()).to.equal(0);
      expect(await page.getByText("How can I help?").isVisible()).to.equal(true);
      await current.waitFor({ state: "detached" });
      await page.getByRole("navigation", { name: "Conversations" }).getByRole("link").first().click();
      await page.locator("article.turn.user").waitFor();
      expect(await page.locator("article.turn.user .bubble").innerText()).to.equal("Remember the word pelican [[tokens:40]]");
    });

    it("reconnects after the server drops the socket, re-reads the session and keeps chatting", async () => {
      await signIn(page, backend.webUrl, newUser());
      await sendMessage(page, "Before the drop [[tokens:20]]");
      await waitAnswerDone(page);
      const states: string[] = [];
      await page.exposeFunction("__status", (text: string) => states.push(text));
      await page.evaluate(() => {
        const w = globalThis as unknown as PageGlobals;
        const status = w.document.querySelector('[role="status"]')!;
        new w.MutationObserver(() => w.__status!(status.textContent ?? "")).observe(status, {
          childList: true,
          characterData: true,
          subtree: true,
        });
      });
      await backend.dropConnections();
      await until(() => states.some((s) => s.startsWith("Reconnecting")), 15_000);
      await waitConnected(page);
      await sendMessage(page, "After the drop [[tokens:20]]");
      expect(await waitAnswerDone(page)).to.equal("complete");
      expect(await page.locator("article.turn.user").count()).to.equal(2);
      expect(await page.locator("article.turn.assistant").count()).to.equal(2);
    });
  });
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
