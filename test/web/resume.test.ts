/**
 * The page keeps an answer through a dropped connection and through the loss of a region: it resumes the answer
 * on its new connection (the text continues where it stopped, once), and an answer whose worker is gone shows as
 * interrupted with its text and a Regenerate, never as a complete answer cut short.
 */
import { expect } from "chai";
import { ageLastWrite } from "../runtime/integration/age-turn";
import type { Browser } from "playwright-core";
import { SILENT_WORKER_MS } from "../../runtime/chat/liveness";
import type { LocalStack } from "../../runtime/local/stack";
import type { WebConfig } from "../../runtime/protocol";
import { ChatClient } from "../runtime/integration/client";
import { launchBrowser, openPage, sendMessage, signIn, waitAnswerDone } from "./support/browser";
import type { PageGlobals } from "./support/page-globals";
import { startPageStack } from "./support/page-stack";

async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("web chat page: resuming answers", function () {
  this.timeout(120_000);
  let browser: Browser;
  before(async () => (browser = await launchBrowser()));
  after(async () => browser?.close());

  describe("after a dropped connection", () => {
    let stack: LocalStack;
    before(async () => {
      stack = await startPageStack({ timing: { tokensPerSecond: 40 } });
    });
    after(async () => stack?.stop());

    it("continues the answer on the new connection where it stopped, and tells a screen reader once", async () => {
      const { page, context, errors } = await openPage(browser);
      try {
        await signIn(page, stack.webUrl, "dropped");
        const said: string[] = [];
        await page.exposeFunction("__said", (text: string) => said.push(text));
        await page.evaluate(() => {
          const w = globalThis as unknown as PageGlobals;
          const region = w.document.querySelector("#announcer")!;
          new w.MutationObserver(() => w.__said!(region.textContent ?? "")).observe(region, { childList: true, characterData: true, subtree: true });
        });
        await sendMessage(page, "Tell me a long story that survives a drop [[tokens:200]]");
        const answer = page.locator("article.turn.assistant").last();
        await until(async () => (await answer.locator(".markdown").innerText()).length > 40, "some text");
        for (const connection of stack.gateway.connections()) stack.gateway.drop(connection.connectionId);
        expect(await waitAnswerDone(page, 60_000)).to.equal("complete");

        const turnId = (await answer.getAttribute("data-turn-id"))!;
        const sessionId = new URL(page.url()).hash.split("/").pop()!;
        const reader = await ChatClient.open(stack.wsUrl, await stack.token("dropped"));
        reader.send({ action: "history", sessionId });
        const history = await reader.waitFor((f) => f.type === "history");
        reader.close();
        const saved = (history as { turns: Array<{ turnId: string; text: string; status: string }> }).turns.find((t) => t.turnId === turnId)!;
        expect(saved.status).to.equal("complete");
        // No seam: the page's text is the saved text, nothing lost or shown twice (compared without markup).
        const shown = (await answer.locator(".markdown").innerText()).replace(/\s+/g, " ").trim();
        const markdownAsText = (md: string) => md.replace(/^\s*(\d+\.|[-*])\s+/gm, "").replace(/[*_`#>]/g, "").replace(/\s+/g, " ").trim();
        expect(shown).to.equal(markdownAsText(saved.text));
        expect(said.filter((s) => s === "Reconnected. The answer continues.")).to.have.length(1);
        expect(stack.bedrock.requests.filter((r) => r.prompt.includes("survives a drop")).map((r) => r.outcome)).to.deep.equal(["complete"]);
        expect(errors).to.deep.equal([]);
      } finally {
        await context.close();
      }
    });
  });

  describe("after the loss of a region", () => {
    let stack: LocalStack;
    before(async () => {
      stack = await startPageStack({ regions: ["us-east-1", "eu-west-1"], replicationLagMs: 200, timing: { tokensPerSecond: 20 } });
    });
    after(async () => stack?.stop());

    it("moves to the next region, finds the session there, and shows the cut answer as interrupted with Regenerate", async () => {
      const { page, context } = await openPage(browser);
      try {
        // This page prefers eu-west-1 (the region about to be lost), then us-east-1.
        await page.route("**/config.json", async (route) => {
          const config = (await (await route.fetch()).json()) as WebConfig;
          await route.fulfill({ json: { ...config, regions: [...config.regions].reverse() } });
        });
        await signIn(page, stack.webUrl, "roamer");
        await sendMessage(page, "An answer that a region outage will cut [[tokens:400]]");
        const answer = page.locator("article.turn.assistant").last();
        await until(async () => (await answer.locator(".markdown").innerText()).length > 20, "some text");
        const turnId = (await answer.getAttribute("data-turn-id"))!;
        const sessionId = new URL(page.url()).hash.split("/").pop()!;
        expect(stack.bedrock.requests.find((r) => r.prompt.includes("region outage"))).to.not.equal(undefined);
        // A checkpoint of the answer has reached us-east-1 before eu-west-1 goes.
        const us = await ChatClient.open(stack.regions[0]!.wsUrl, await stack.token("roamer"));
        await until(async () => {
          const from = us.frames.length;
          us.send({ action: "history", sessionId });
          const reply = await us.waitFor((f) => us.frames.indexOf(f) >= from && (f.type === "history" || f.type === "error"));
          return reply.type === "history" && reply.turns.some((t) => t.turnId === turnId && t.text.length > 0);
        }, "a checkpoint in us-east-1");
        us.close();

        stack.killRegion("eu-west-1");
        // The page fails over: its status says it is connected again, now to us-east-1.
        await page.getByRole("status").filter({ hasText: "Connected" }).waitFor({ timeout: 30_000 });
        expect(await answer.getAttribute("data-status"), "not shown complete").to.not.equal("complete");

        // The worker is gone; once it has been silent past the rule the turn reads as interrupted (time is moved
        // by ageing the turn's last write instead of waiting SILENT_WORKER_MS).
        await ageLastWrite(stack, sessionId, turnId, SILENT_WORKER_MS + 1_000);
        await until(async () => (await answer.getAttribute("data-status")) === "error", "the answer shown as interrupted", 60_000);
        expect((await answer.locator(".markdown").innerText()).length).to.be.greaterThan(0);
        await page.getByRole("button", { name: "Regenerate" }).click();
        expect(await waitAnswerDone(page, 60_000)).to.equal("complete");
        expect(stack.bedrock.requests.filter((r) => r.prompt.includes("region outage"))).to.have.length(2);
      } finally {
        await context.close();
      }
    });
  });
});
