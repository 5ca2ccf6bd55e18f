/**
 * The page's budget display in Chromium against the local stack with a small daily budget: what is left shows in
 * the sidebar's foot and goes down after an answer, and a send over the budget is refused in words that say when
 * to retry (the message goes back into the box).
 */
import { expect } from "chai";
import type { Page } from "playwright-core";
import { openPage, sendMessage, signIn, waitAnswerDone } from "./support/browser";
import { usePageStack } from "./support/page-stack";

describe("web chat page: the daily token budget", function () {
  this.timeout(90_000);
  const BUDGET = 400;
  const fixture = usePageStack({ timing: { timeToFirstTokenMs: 50, tokensPerSecond: 400 }, env: { DAILY_TOKEN_BUDGET: String(BUDGET) } });
  let page: Page;
  let errors: string[];

  // Its context closes with the browser (usePageStack's `after`).
  before(async () => {
    ({ page, errors } = await openPage(fixture.browser));
  });

  it("shows what is left, lowers it after an answer, and says when to retry once the budget is used up", async () => {
    await signIn(page, fixture.stack.webUrl, `budget-${Date.now().toString(36)}`);
    const usage = page.getByTestId("usage");
    await usage.getByText(`${BUDGET} of ${BUDGET} tokens left today`).waitFor();
    expect(await usage.locator("meter").getAttribute("aria-labelledby")).to.equal("usage-text");

    await sendMessage(page, "Explain streaming at length [[tokens:300]]");
    expect(await waitAnswerDone(page)).to.equal("complete");
    await usage.getByText(/tokens left today|used up/).filter({ hasNotText: `${BUDGET} of ${BUDGET}` }).waitFor();

    // Send until the server refuses: each answer uses a few hundred tokens of a 400-token budget.
    const box = page.getByLabel("Message", { exact: true });
    for (let i = 0; i < 3; i++) {
      if ((await page.getByText("You have used today's token budget").count()) > 0) break;
      await sendMessage(page, `And once more ${i} [[tokens:300]]`);
      await page.waitForFunction(() => {
        const doc = (globalThis as unknown as { document: { body: { textContent: string | null } } }).document;
        const text = doc.body.textContent ?? "";
        return text.includes("You have used today's token budget") || !/data-status="(pending|streaming)"/.test(text);
      });
      if ((await page.getByText("You have used today's token budget").count()) === 0) await waitAnswerDone(page);
    }
    const refusal = page.getByText("You have used today's token budget");
    await refusal.first().waitFor();
    expect(await refusal.first().textContent()).to.match(/You can try again (in \d+ (seconds|minutes)|at .+)\./);
    expect(await box.inputValue()).to.match(/^And once more \d \[\[tokens:300\]\]$/);
    await usage.getByText(/used up; it renews at/).waitFor();
    expect(errors).to.deep.equal([]);
  });
});
