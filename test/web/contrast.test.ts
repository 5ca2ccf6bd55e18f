/**
 * WCAG AA contrast of every text on the page's main views, light and dark, checked by axe-core in Chromium
 * (rule `color-contrast`: 4.5:1 for normal text, 3:1 for large), with axe's other WCAG 2.1 A/AA rules, which pass
 * too. axe does not check placeholders, so the
 * composer's placeholder is measured here the same way (its colour over the box's background).
 */
import { createRequire } from "node:module";
import { expect } from "chai";
import type { Page } from "playwright-core";
import { openPage, sendMessage, signIn, waitAnswerDone } from "./support/browser";
import { usePageStack } from "./support/page-stack";

const AXE = createRequire(__filename).resolve("axe-core");
const PHONE = { width: 390, height: 844 };

interface Violation {
  id: string;
  nodes: { target: string[]; any: { message: string }[] }[];
}

/** Runs axe's WCAG 2.1 A and AA rules (colour contrast among them) on the page as it is now; the failures in words. */
async function contrastFailures(page: Page, view: string): Promise<string[]> {
  if (!(await page.evaluate(() => "axe" in globalThis))) await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (c: unknown, o: unknown) => Promise<{ violations: unknown[] }> } }).axe;
    const result = await axe.run((globalThis as unknown as { document: unknown }).document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
    return result.violations;
  });
  return (violations as Violation[]).flatMap((v) => v.nodes.map((n) => `${view}: ${n.target.join(" ")}: ${n.any[0]?.message ?? v.id}`));
}

/**
 * The placeholder's contrast over the composer's background (WCAG relative luminance). A string, so the test
 * compiler's helpers (esbuild's `__name`) do not leak into the page.
 */
const PLACEHOLDER_CONTRAST = `(() => {
  const box = document.getElementById("message");
  const rgb = (css) => (css.match(/[\\d.]+/g) || []).slice(0, 3).map(Number);
  const lum = (c) => c.map((v) => v / 255).map((v) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)).reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  let bg = getComputedStyle(box).backgroundColor;
  for (let e = box; e && /rgba\\(.*, 0\\)|transparent/.test(bg); e = e.parentElement) bg = getComputedStyle(e).backgroundColor;
  const a = lum(rgb(getComputedStyle(box, "::placeholder").color));
  const b = lum(rgb(bg));
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
})()`;

async function placeholderContrast(page: Page): Promise<number> {
  return (await page.evaluate(PLACEHOLDER_CONTRAST)) as number;
}

describe("web page contrast (axe-core, WCAG AA) on the main views, light and dark", function () {
  this.timeout(180_000);
  const fixture = usePageStack();

  for (const scheme of ["light", "dark"] as const) {
    it(`${scheme}: sign-in, empty chat, finished, streamed and failed answers, the sidebar and its conversation tools, phone width`, async () => {
      const { stack, browser } = fixture;
      const failures: string[] = [];
      // bypassCSP: axe is injected as a script tag, which the page's CSP (rightly) refuses.
      const { page } = await openPage(browser, { colorScheme: scheme, bypassCSP: true });
      await page.goto(stack.webUrl);
      await page.getByLabel("User name").waitFor();
      failures.push(...(await contrastFailures(page, "sign-in")));

      await signIn(page, stack.webUrl, `contrast-${scheme}`);
      failures.push(...(await contrastFailures(page, "empty chat")));
      const placeholder = await placeholderContrast(page);

      await sendMessage(page, "Compare DynamoDB vs Postgres in a table, with steps, a quote, docs and python code");
      await waitAnswerDone(page);
      await sendMessage(page, "And a second one, to have two conversations' worth of text [[tokens:60]]");
      await waitAnswerDone(page);
      failures.push(...(await contrastFailures(page, "finished answer")));

      await sendMessage(page, "This one fails midway [[fault:model-stream-error]]");
      expect(await waitAnswerDone(page)).to.equal("error");
      failures.push(...(await contrastFailures(page, "failed answer")));

      // Answers (issue 14): highlighted code, times, the version switcher of a regenerated answer, the message editor.
      await page.locator("code.hljs").first().waitFor();
      await page.locator("article.turn.assistant").last().getByRole("button", { name: "Regenerate" }).click();
      await waitAnswerDone(page);
      await page.getByRole("group", { name: "Versions of this answer" }).getByText("2 of 2").waitFor();
      failures.push(...(await contrastFailures(page, "highlighted code, times, versions")));
      await page.locator("article.turn.user").first().getByRole("button", { name: "Edit" }).click();
      await page.getByRole("textbox", { name: "Edit your message" }).waitFor();
      failures.push(...(await contrastFailures(page, "message editor")));
      await page.getByRole("textbox", { name: "Edit your message" }).press("Escape");

      // Conversation tools: a search with a match and one without, a row's actions, the rename box, the export
      // menu and the delete confirmation.
      const search = page.getByRole("searchbox", { name: "Search conversations" });
      await search.fill("second");
      await page.locator("#announcer", { hasText: /^\d+ conversations? match/ }).waitFor();
      failures.push(...(await contrastFailures(page, "search with a match")));
      await search.fill("nothing-matches-this");
      await page.getByText(/No conversation matches/).waitFor();
      failures.push(...(await contrastFailures(page, "search without a match")));
      await search.fill("");
      await page.locator("a.session").first().hover();
      failures.push(...(await contrastFailures(page, "a conversation's actions")));
      await page.getByRole("button", { name: /^Rename “/ }).first().click();
      await page.getByRole("textbox", { name: /^New title for/ }).waitFor();
      failures.push(...(await contrastFailures(page, "rename box")));
      await page.getByRole("textbox", { name: /^New title for/ }).press("Escape");
      await page.getByLabel("Export this conversation").click();
      await page.getByRole("button", { name: "JSON (.json)" }).waitFor();
      failures.push(...(await contrastFailures(page, "export menu")));
      await page.getByLabel("Export this conversation").click();
      await page.getByRole("button", { name: /^Delete “/ }).first().click();
      await page.getByRole("dialog", { name: "Delete this conversation?" }).waitFor();
      failures.push(...(await contrastFailures(page, "delete confirmation")));
      await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();

      await page.getByRole("button", { name: /new chat/i }).first().click();
      await sendMessage(page, "This one streams and stalls [[fault:stall]]");
      await page.locator('article.turn.assistant[data-status="streaming"] .markdown').filter({ hasText: /\S/ }).waitFor();
      failures.push(...(await contrastFailures(page, "streaming answer")));

      const phone = (await openPage(browser, { colorScheme: scheme, viewport: PHONE, bypassCSP: true })).page;
      await signIn(phone, stack.webUrl, `contrast-${scheme}`);
      await phone.getByRole("button", { name: "Conversations" }).click();
      // Newest first: the stalled answer's conversation, then the one with the finished and failed answers.
      await phone.locator("a.session").nth(1).waitFor();
      failures.push(...(await contrastFailures(phone, "phone sidebar")));
      await phone.locator("a.session").nth(1).click();
      await phone.locator('article.turn.assistant[data-status="error"]').waitFor();
      failures.push(...(await contrastFailures(phone, "phone conversation")));

      expect(failures, failures.join("\n")).to.deep.equal([]);
      expect(placeholder, "placeholder contrast").to.be.at.least(4.5);
    });
  }
});
