/**
 * Issue 14, "Answers", in Chromium against the local stack (the real handlers and the Bedrock emulator): Continue
 * an answer cut at the length limit, the versions of a regenerated answer (also after a reload), editing a sent
 * message, times on messages, Escape to stop, and code highlighted by the lazily loaded chunk. Controls are found
 * by their accessible names.
 */
import { expect } from "chai";
import type { BrowserContext, Page } from "playwright-core";
import { openPage, sendMessage, signIn, waitAnswerDone } from "./support/browser";
import { usePageStack } from "./support/page-stack";
import type { PageGlobals } from "./support/page-globals";

const lastAnswer = (page: Page) => page.locator("article.turn.assistant").last();

describe("web chat page: edit, continue, versions, times, Escape, highlighting (local stack)", function () {
  this.timeout(120_000);
  // A short length limit, so that answers are cut and can be continued.
  const fixture = usePageStack({ timing: { timeToFirstTokenMs: 50, tokensPerSecond: 300 }, env: { FLUSH_INTERVAL_MS: "20", MAX_OUTPUT_TOKENS: "40" } });
  let context: BrowserContext;
  let page: Page;
  let errors: string[];

  beforeEach(async () => {
    ({ context, page, errors } = await openPage(fixture.browser));
  });
  afterEach(async () => {
    await context.close();
  });

  it("continues an answer cut by the length limit until it ends, with highlighted code and a time on each message", async () => {
    await signIn(page, fixture.stack.webUrl, "continue-user");
    await sendMessage(page, "Write a typescript function that retries [[tokens:100]]");
    expect(await waitAnswerDone(page)).to.equal("complete");
    await lastAnswer(page).getByText("Reached the length limit").waitFor();
    const cut = await lastAnswer(page).locator(".markdown").innerText();
    for (let round = 0; round < 5 && (await lastAnswer(page).getByRole("button", { name: "Continue" }).count()) > 0; round++) {
      await lastAnswer(page).getByRole("button", { name: "Continue" }).click();
      await waitAnswerDone(page);
    }
    expect(await lastAnswer(page).getByRole("button", { name: "Continue" }).count()).to.equal(0);
    const whole = await lastAnswer(page).locator(".markdown").innerText();
    expect(whole.length).to.be.greaterThan(cut.length);
    expect(await page.locator("article.turn").count()).to.equal(2, "one message, one answer: the continuation is the same turn");

    // Times: a <time datetime> on each message, in ISO 8601.
    const times = await page.locator("article.turn time").evaluateAll((els) => els.map((el) => el.getAttribute("datetime") ?? ""));
    expect(times).to.have.length(2);
    for (const t of times) expect(Number.isNaN(Date.parse(t))).to.equal(false, t);

    // The code block is highlighted by the chunk loaded on demand.
    await lastAnswer(page).locator("code.hljs").first().waitFor();
    expect(await lastAnswer(page).locator("code.hljs span[class^='hljs-']").count()).to.be.greaterThan(0);

    // A reload reads the one, longer turn from history.
    await page.reload();
    await lastAnswer(page).locator(".markdown").getByText(whole.slice(-20).trim()).first().waitFor();
    expect(await page.locator("article.turn").count()).to.equal(2);
    expect(errors).to.deep.equal([]);
  });

  it("keeps the earlier versions of a regenerated answer: ‹ 1 of 2 ›, also after a reload", async () => {
    await signIn(page, fixture.stack.webUrl, "versions-user");
    await sendMessage(page, "Tell me about lighthouses [[tokens:20]]");
    await waitAnswerDone(page);
    const first = await lastAnswer(page).locator(".markdown").innerText();
    await lastAnswer(page).getByRole("button", { name: "Regenerate" }).click();
    await waitAnswerDone(page);
    const versions = lastAnswer(page).getByRole("group", { name: "Versions of this answer" });
    await versions.getByText("2 of 2").waitFor();
    const second = await lastAnswer(page).locator(".markdown").innerText();
    expect(second).to.not.equal(first);
    await versions.getByRole("button", { name: "Previous version" }).click();
    await lastAnswer(page).getByRole("group", { name: "Versions of this answer" }).getByText("1 of 2").waitFor();
    expect(await lastAnswer(page).locator(".markdown").innerText()).to.equal(first);

    await page.reload();
    const again = lastAnswer(page).getByRole("group", { name: "Versions of this answer" });
    await again.getByText("2 of 2").waitFor();
    await again.getByRole("button", { name: "Previous version" }).click();
    await lastAnswer(page).getByRole("group", { name: "Versions of this answer" }).getByText("1 of 2").waitFor();
    expect(await lastAnswer(page).locator(".markdown").innerText()).to.equal(first);
    expect(await page.locator("article.turn").count()).to.equal(2);
    expect(errors).to.deep.equal([]);
  });

  it("edits a sent message: the answers after it are replaced, in the page and in history", async () => {
    await signIn(page, fixture.stack.webUrl, "edit-user");
    await sendMessage(page, "First question about tides [[tokens:10]]");
    await waitAnswerDone(page);
    await sendMessage(page, "Second question [[tokens:10]]");
    await waitAnswerDone(page);
    await page.locator("article.turn.user").first().getByRole("button", { name: "Edit" }).click();
    const editor = page.getByRole("textbox", { name: "Edit your message" });
    await editor.fill("A better first question about waves [[tokens:10]]");
    await editor.press("Enter");
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.querySelectorAll("article.turn").length === 2);
    expect(await waitAnswerDone(page)).to.equal("complete");
    expect(await page.locator("article.turn.user .bubble").allInnerTexts()).to.deep.equal(["A better first question about waves [[tokens:10]]"]);

    await page.reload();
    await page.locator("article.turn.assistant").first().waitFor();
    await waitAnswerDone(page);
    expect(await page.locator("article.turn.user .bubble").allInnerTexts()).to.deep.equal(["A better first question about waves [[tokens:10]]"]);
    expect(await page.locator("article.turn").count()).to.equal(2);

    // Escape in the editor cancels the edit and leaves the message as it was.
    await page.locator("article.turn.user").first().getByRole("button", { name: "Edit" }).click();
    await page.getByRole("textbox", { name: "Edit your message" }).press("Escape");
    await page.locator("article.turn.user").first().getByRole("button", { name: "Edit" }).waitFor();
    expect(await page.locator("article.turn").count()).to.equal(2);
    expect(errors).to.deep.equal([]);
  });

  it("Escape stops the answer being written, but first closes a dialog; the stopped answer can be continued", async () => {
    await signIn(page, fixture.stack.webUrl, "escape-user");
    await sendMessage(page, "A long story about the sea [[fault:slow]] [[tokens:200]]");
    await page.locator("article.turn.assistant[data-status='streaming']").waitFor();
    // While the delete confirmation is open, Escape closes it and the answer streams on.
    await page.getByRole("button", { name: /^Delete “/ }).first().click();
    const dialog = page.getByRole("dialog", { name: "Delete this conversation?" });
    await dialog.waitFor();
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    await page.getByRole("button", { name: "Stop" }).waitFor();
    expect(await lastAnswer(page).getAttribute("data-status")).to.equal("streaming");
    await page.keyboard.press("Escape");
    expect(await waitAnswerDone(page)).to.equal("stopped");
    await lastAnswer(page).getByRole("button", { name: "Continue" }).waitFor();
    expect(errors).to.deep.equal([]);
  });
});
