/**
 * Conversations in the page, in Chromium against the local stack (real handlers): rename in place from the sidebar
 * (Enter saves, Escape cancels), delete after an accessible confirmation, search by title and by loaded text, export
 * as Markdown and JSON (real downloads), a tab title that follows the conversation, and a second tab whose open
 * conversation is deleted elsewhere. Everything is found by its accessible name, as a screen reader would.
 */
import { readFile } from "node:fs/promises";
import { expect } from "chai";
import type { Page } from "playwright-core";
import type { SessionsFrameOut } from "../../runtime/protocol";
import { ChatClient } from "../runtime/integration/client";
import { sessionItems } from "../runtime/integration/session-items";
import { openPage, sendMessage, signIn, waitAnswerDone } from "./support/browser";
import { usePageStack } from "./support/page-stack";

describe("web chat page: conversations (rename, delete, search, export, tab title)", function () {
  this.timeout(120_000);
  const fixture = usePageStack();
  let users = 0;
  const newUser = () => `conv${++users}-${Date.now().toString(36)}`;

  async function chat(page: Page, text: string): Promise<void> {
    await sendMessage(page, text);
    expect(await waitAnswerDone(page)).to.equal("complete");
  }

  const sessionIdOf = (page: Page) => decodeURIComponent(new URL(page.url()).hash.split("/").pop()!);

  it("titles summarise the first message, the tab title follows, and a rename in place saves on Enter and cancels on Escape", async () => {
    const { page, context, errors } = await openPage(fixture.browser);
    try {
      await signIn(page, fixture.stack.webUrl, newUser());
      const base = await page.title();
      await chat(page, "Plan a week in Lisbon in May:\nmuseums, food and a day trip to Sintra, on a modest budget please [[tokens:20]]");
      const summary = "Plan a week in Lisbon in May: museums, food and a day trip…";
      await page.getByRole("link", { name: summary }).waitFor();
      await page.waitForFunction((t) => (globalThis as unknown as { document: { title: string } }).document.title === t, `${summary} · Chat`);

      await page.getByRole("button", { name: `Rename “${summary}”` }).click();
      const box = page.getByRole("textbox", { name: `New title for “${summary}”` });
      expect(await box.inputValue()).to.equal(summary);
      await box.fill("Not this one");
      await box.press("Escape");
      await page.getByRole("link", { name: summary }).waitFor();
      expect(await page.getByRole("textbox", { name: /New title/ }).count()).to.equal(0);
      expect(await page.locator("#sidebar").isVisible(), "Escape cancelled only the rename").to.equal(true);

      await page.getByRole("button", { name: `Rename “${summary}”` }).click();
      await box.fill("  Lisbon in May  ");
      await box.press("Enter");
      await page.getByRole("link", { name: "Lisbon in May" }).waitFor();
      await page.waitForFunction(() => (globalThis as unknown as { document: { title: string } }).document.title === "Lisbon in May · Chat");
      // Saved on the server: a fresh client lists the new title. The page renames at once, before the server has
      // saved it, so the client asks again until an answer shows the rename (or the attempts run out).
      const reader = await ChatClient.open(fixture.stack.wsUrl, await fixture.stack.token(await page.locator(".user-name").innerText()));
      const titles = async (): Promise<string[]> => {
        const asked = reader.of("sessions").length;
        reader.send({ action: "sessions" });
        await reader.waitFor(() => reader.of("sessions").length > asked);
        return (reader.of("sessions").at(-1) as SessionsFrameOut).sessions.map((s) => s.title);
      };
      let listed = await titles();
      for (let attempt = 1; attempt < 50 && listed[0] !== "Lisbon in May"; attempt++) listed = await titles();
      reader.close();
      expect(listed).to.deep.equal(["Lisbon in May"]);

      await page.getByRole("button", { name: "New chat" }).click();
      await page.waitForFunction((t) => (globalThis as unknown as { document: { title: string } }).document.title === t, base);
      expect(errors).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it("New chat opens at once: a message sent in the same instant as the click starts a new conversation", async () => {
    const { page, context, errors } = await openPage(fixture.browser);
    try {
      await signIn(page, fixture.stack.webUrl, newUser());
      await chat(page, "The first conversation [[tokens:10]]");
      const first = sessionIdOf(page);
      // The click and the message in one task of the page: the address's hashchange can only come after both.
      await page.evaluate(() => {
        const d = (globalThis as unknown as { document: { querySelector(s: string): { click(): void; value: string; form: { requestSubmit(): void } } } }).document;
        d.querySelector("button.new-chat").click();
        const box = d.querySelector("textarea#message");
        box.value = "The second conversation [[tokens:10]]";
        box.form.requestSubmit();
      });
      expect(await waitAnswerDone(page)).to.equal("complete");
      await page.waitForFunction((old) => !(globalThis as unknown as { location: { hash: string } }).location.hash.endsWith(old) && /#\/s\//.test((globalThis as unknown as { location: { hash: string } }).location.hash), first);
      expect(sessionIdOf(page)).to.not.equal(first);
      expect(await page.locator("article.turn.user").allInnerTexts()).to.have.length(1);
      await page.getByRole("navigation", { name: "Conversations" }).getByRole("link").nth(1).waitFor();
      expect(errors).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it("searches titles and the text of loaded conversations as you type, and says how many match", async () => {
    const { page, context, errors } = await openPage(fixture.browser);
    try {
      await signIn(page, fixture.stack.webUrl, newUser());
      await chat(page, "Tell me about sourdough starters [[tokens:20]]");
      await page.getByRole("button", { name: "New chat" }).click();
      await chat(page, "How do DynamoDB global tables replicate? [[tokens:20]]");
      await page.getByRole("link", { name: /sourdough/ }).waitFor();
      await page.getByRole("link", { name: /DynamoDB/ }).waitFor();
      const search = page.getByRole("searchbox", { name: "Search conversations" });
      const links = page.getByRole("navigation", { name: "Conversations" }).getByRole("link");

      await search.pressSequentially("sourd");
      await page.locator("#announcer", { hasText: "1 conversation matches." }).waitFor();
      expect(await links.allInnerTexts()).to.have.length(1);
      expect((await links.first().innerText())).to.match(/sourdough/);

      // A word only in the answer text of a loaded conversation (the emulator's answer echoes no title words).
      const answerWord = await uniqueAnswerWord(page);
      await search.fill(answerWord);
      await page.locator("#announcer", { hasText: /^\d+ conversations? match/ }).waitFor();
      await links.first().locator(".session-excerpt").waitFor();
      expect(await links.count()).to.be.at.least(1);

      await search.fill("zebra-crossing-nowhere");
      await page.getByText("No conversation matches “zebra-crossing-nowhere”.").waitFor();
      await page.locator("#announcer", { hasText: "0 conversations match." }).waitFor();
      await search.press("Escape");
      await page.getByRole("link", { name: /sourdough/ }).waitFor();
      expect(await links.count()).to.equal(2);
      expect(errors).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it("exports the open conversation as Markdown and as JSON (downloads), without internal fields", async () => {
    const { page, context, errors } = await openPage(fixture.browser);
    try {
      await signIn(page, fixture.stack.webUrl, newUser());
      await chat(page, "Export me, please [[tokens:20]]");
      const answer = await page.locator("article.turn.assistant .markdown").last().innerText();
      await page.getByRole("link", { name: "Export me, please" }).waitFor();
      await page.getByLabel("Export this conversation").click();
      const [md] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Markdown (.md)" }).click()]);
      expect(md.suggestedFilename()).to.equal("export-me-please-tokens-20.md");
      const markdown = await readFile((await md.path())!, "utf8");
      expect(markdown).to.match(/^# Export me, please \[\[tokens:20\]\]\n/);
      expect(markdown).to.contain("## You\n\nExport me, please [[tokens:20]]");
      expect(markdown).to.contain("## Assistant");
      expect(markdown.replace(/\s+/g, " ")).to.contain(answer.split("\n")[0]!.replace(/\s+/g, " ").slice(0, 20));

      await page.getByLabel("Export this conversation").click();
      const [json] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "JSON (.json)" }).click()]);
      expect(json.suggestedFilename()).to.equal("export-me-please-tokens-20.json");
      const doc = JSON.parse(await readFile((await json.path())!, "utf8")) as { format: string; session: { sessionId: string; title: string }; turns: Record<string, unknown>[] };
      expect(doc.format).to.equal("chat-export/1");
      expect(doc.session).to.include({ sessionId: sessionIdOf(page), title: "Export me, please [[tokens:20]]" });
      expect(doc.turns.map((t) => [t.role, t.status])).to.deep.equal([["user", "complete"], ["assistant", "complete"]]);
      for (const turn of doc.turns) {
        expect(turn).to.have.all.keys(...Object.keys(turn).filter((k) => ["turnId", "sessionId", "role", "text", "status", "parentTurnId", "usage", "model", "createdAt", "updatedAt"].includes(k)));
        expect(turn).to.not.have.any.keys("userId", "connectionId", "clientMessageId", "region", "generationStartedAt");
      }
      expect(doc.turns[0]!.text).to.equal("Export me, please [[tokens:20]]");
      expect(errors).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it("deletes after an accessible confirmation (Cancel and Escape keep it), erasing every item; a second tab sees the rename and is told its open one is gone", async () => {
    const user = newUser();
    const { page, context, errors } = await openPage(fixture.browser);
    const other = await openPage(fixture.browser);
    try {
      await signIn(page, fixture.stack.webUrl, user);
      await chat(page, "Keep this one [[tokens:10]]");
      await page.getByRole("button", { name: "New chat" }).click();
      await chat(page, "Delete this one [[tokens:10]]");
      const sessionId = sessionIdOf(page);
      // The second tab has the doomed conversation open.
      await signIn(other.page, `${fixture.stack.webUrl}#/s/${encodeURIComponent(sessionId)}`, user);
      await other.page.locator("article.turn.assistant[data-status=complete]").waitFor();

      const remove = page.getByRole("button", { name: /^Delete “Delete this one/ });
      await remove.click();
      const dialog = page.getByRole("dialog", { name: "Delete this conversation?" });
      await dialog.waitFor();
      expect(await dialog.getByText(/cannot be undone/).isVisible()).to.equal(true);
      expect(await dialog.getByRole("button", { name: "Cancel" }).evaluate((b) => b === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement)).to.equal(true, "Cancel has the focus");
      await dialog.getByRole("button", { name: "Cancel" }).click();
      await dialog.waitFor({ state: "detached" });
      await remove.click();
      await page.keyboard.press("Escape");
      await dialog.waitFor({ state: "detached" });
      expect(await page.getByRole("link", { name: "Delete this one" }).count()).to.equal(1);

      await remove.click();
      await dialog.getByRole("button", { name: "Delete", exact: true }).click();
      await page.getByRole("link", { name: "Delete this one" }).waitFor({ state: "detached" });
      await page.getByRole("link", { name: "Keep this one" }).waitFor();
      expect(new URL(page.url()).hash).to.equal("#/");
      expect(await page.locator("article.turn").count()).to.equal(0);
      const deadline = Date.now() + 15_000;
      while ((await sessionItems(fixture.stack, sessionId)).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await sessionItems(fixture.stack, sessionId)).to.deep.equal([]);

      // The first tab also renames the other conversation. The second tab comes back to the front: its list shows
      // both changes, and its open conversation, now gone, is closed with words that say what to do.
      await page.getByRole("button", { name: /^Rename “Keep this one/ }).click();
      await page.getByRole("textbox", { name: /^New title for/ }).fill("Kept");
      await page.getByRole("textbox", { name: /^New title for/ }).press("Enter");
      await page.getByRole("link", { name: "Kept" }).waitFor();
      await other.page.evaluate(() => (globalThis as unknown as { document: { dispatchEvent(e: unknown): void } }).document.dispatchEvent(new Event("visibilitychange")));
      await other.page.getByRole("link", { name: "Kept" }).waitFor();
      await other.page.getByText("This conversation was deleted, maybe in another tab or on another device.").waitFor();
      expect(new URL(other.page.url()).hash).to.equal("#/");
      expect(await other.page.getByRole("link", { name: /Delete this one/ }).count()).to.equal(0);
      expect(await other.page.locator("article.turn").count()).to.equal(0);
      await sendMessage(other.page, "One more question [[tokens:5]]");
      expect(await waitAnswerDone(other.page)).to.equal("complete");
      expect(other.errors).to.deep.equal([]);
      expect(errors).to.deep.equal([]);
    } finally {
      await other.context.close();
      await context.close();
    }
  });
});

/** A word of the last answer that is not in any conversation title (lower case, 6+ letters). */
async function uniqueAnswerWord(page: Page): Promise<string> {
  const answer = (await page.locator("article.turn.assistant .markdown").last().innerText()).toLowerCase();
  const titles = (await page.locator("a.session .session-title").allInnerTexts()).join(" ").toLowerCase();
  const word = answer.match(/[a-z]{6,}/g)?.find((w) => !titles.includes(w));
  if (word === undefined) throw new Error(`no distinctive word in the answer: ${answer.slice(0, 200)}`);
  return word;
}
