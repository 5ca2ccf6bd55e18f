/**
 * Screenshots of the chat page's main states, light and dark, desktop and phone width, into docs/screenshots/.
 * Not part of `npm test`: run `npx tsx test/web/screenshots.ts` (builds dist/web if missing); `… answers` makes only
 * the pictures of edit, continue and versions.
 * The page runs against the local stack (the real handlers); the answers' text is scripted through the Bedrock
 * emulator's OpenAI-compatible passthrough so the pictures show code, a table and a list. The "reconnecting"
 * picture uses the fake protocol server, which can refuse connections for as long as it takes.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { ensureWebBuild, launchBrowser, openPage, REPO_ROOT, sendMessage, signIn, waitAnswerDone } from "./support/browser";
import { startLocalStack } from "../../runtime/local/stack";
import { startFakeChatServer } from "./support/fake-chat-server";
import { startScriptServer, type ScriptServer } from "./support/openai-script-server";
import type { PageGlobals } from "./support/page-globals";

const OUT = join(REPO_ROOT, "docs/screenshots");
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

const RICH_ANSWER = `WebSockets and server-sent events both push data to the browser, but they differ in direction and in what sits between you and the client.

| | WebSocket | Server-sent events |
| --- | --- | --- |
| Direction | both ways | server → browser |
| Transport | its own framing after an HTTP upgrade | plain HTTP response |
| Through API Gateway | WebSocket API, \`@connections\` | REST/HTTP API, buffered |
| Reconnect | yours to write | built into \`EventSource\` |

For a chat that must **stop** a generation mid-stream, the WebSocket wins: the stop travels on the same connection.

\`\`\`ts
const socket = new WebSocket(url);
socket.onmessage = (event) => render(JSON.parse(event.data));
socket.send(JSON.stringify({ action: "stop", turnId }));
\`\`\`

1. Keep frames small (API Gateway allows 32 KB per frame).
2. Coalesce tokens so the page paints a few times per second, not per token.
3. Ping every few minutes: idle connections close after 10 minutes.`;

function pieces(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [text];
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.waitForTimeout(150); // let the last animation frame and transitions settle
  await page.screenshot({ path: join(OUT, `${name}.png`) });
  console.log(`docs/screenshots/${name}.png`);
}

async function conversation(browser: Browser, webUrl: string, script: ScriptServer, scheme: "light" | "dark", viewport: { width: number; height: number }, user: string): Promise<Page> {
  const { page } = await openPage(browser, { colorScheme: scheme, viewport });
  await signIn(page, webUrl, user);
  script.script(pieces("Happy to help. What are you building?"), pieces(RICH_ANSWER));
  await sendMessage(page, "Hi! I'm building a streaming chat on AWS.");
  await waitAnswerDone(page);
  await sendMessage(page, "Compare WebSockets and server-sent events for streaming LLM tokens.");
  await waitAnswerDone(page);
  return page;
}

/** Search (a match in the loaded text), the delete confirmation, and in light the rename box and the export menu. */
async function conversationTools(page: Page, scheme: "light" | "dark"): Promise<void> {
  const search = page.getByRole("searchbox", { name: "Search conversations" });
  await search.fill("server-sent");
  await page.locator(".session-excerpt").first().waitFor();
  await shoot(page, `search-desktop-${scheme}`);
  await search.fill("");
  await page.getByRole("button", { name: /^Delete “/ }).first().click();
  const dialog = page.getByRole("dialog", { name: "Delete this conversation?" });
  await dialog.waitFor();
  await shoot(page, `delete-dialog-desktop-${scheme}`);
  await dialog.getByRole("button", { name: "Cancel" }).click();
  if (scheme !== "light") return;
  await page.getByRole("button", { name: /^Rename “/ }).first().click();
  const box = page.getByRole("textbox", { name: /^New title for/ });
  await box.fill("Streaming chat on AWS");
  await shoot(page, "rename-desktop-light");
  await box.press("Escape");
  await page.getByLabel("Export this conversation").click();
  await page.getByRole("button", { name: "JSON (.json)" }).waitFor();
  await shoot(page, "export-desktop-light");
  await page.getByLabel("Export this conversation").click();
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const webDir = ensureWebBuild();
  // `npx tsx test/web/screenshots.ts answers`: only the pictures of edit, continue and versions.
  if (process.argv.includes("answers")) return answersShots(webDir);
  const script = await startScriptServer();
  const stack = await startLocalStack({ ports: { web: 0 }, dataDir: null, staticDir: webDir, bedrock: { passthrough: { baseUrl: script.baseUrl, model: "scripted" } } });
  const browser = await launchBrowser();
  try {
    const signInPage = (await openPage(browser, { colorScheme: "light", viewport: DESKTOP })).page;
    await signInPage.goto(stack.webUrl);
    await signInPage.getByLabel("User name").waitFor();
    await shoot(signInPage, "sign-in-light");

    for (const scheme of ["light", "dark"] as const) {
      const desktop = await conversation(browser, stack.webUrl, script, scheme, DESKTOP, `ada-${scheme}`);
      const details = desktop.locator("article.turn.assistant").last().locator("details");
      await details.locator("summary").click();
      await details.scrollIntoViewIfNeeded();
      await shoot(desktop, `chat-desktop-${scheme}`);
      await conversationTools(desktop, scheme);

      const empty = (await openPage(browser, { colorScheme: scheme, viewport: DESKTOP })).page;
      await signIn(empty, stack.webUrl, `ada-${scheme}`);
      await empty.locator("a.session").first().waitFor();
      await shoot(empty, `new-chat-desktop-${scheme}`);

      const phone = await conversation(browser, stack.webUrl, script, scheme, PHONE, `grace-${scheme}`);
      await shoot(phone, `chat-phone-${scheme}`);
      await phone.getByRole("button", { name: "Conversations" }).click();
      await shoot(phone, `sidebar-phone-${scheme}`);
    }

    const streaming = (await openPage(browser, { colorScheme: "light", viewport: DESKTOP })).page;
    await signIn(streaming, stack.webUrl, "linus");
    script.script(pieces(RICH_ANSWER));
    await sendMessage(streaming, "Compare WebSockets and server-sent events for streaming LLM tokens.");
    await streaming.waitForFunction(
      () => ((globalThis as unknown as PageGlobals).document.querySelector("article.turn.assistant .markdown")?.textContent ?? "").length > 260,
    );
    await shoot(streaming, "streaming-desktop-light");
    await waitAnswerDone(streaming);
  } finally {
    await browser.close();
    await stack.stop();
    await script.stop();
  }

  await answersShots(webDir);

  const fake = await startFakeChatServer(webDir);
  const fakeBrowser = await launchBrowser();
  try {
    const reconnecting = (await openPage(fakeBrowser, { colorScheme: "dark", viewport: DESKTOP })).page;
    await signIn(reconnecting, fake.webUrl, "ada");
    await sendMessage(reconnecting, "Hello before the network drops [[tokens:40]]");
    await waitAnswerDone(reconnecting);
    fake.refuseConnections(true);
    fake.dropConnections();
    await reconnecting.getByRole("status").filter({ hasText: /Reconnecting in/ }).waitFor();
    await shoot(reconnecting, "reconnecting-desktop-dark");
  } finally {
    await fakeBrowser.close();
    await fake.stop();
  }
}

/**
 * Issue 14's answers, with the local model (its answers are cut at 200 tokens, so Continue shows): versions of a
 * regenerated answer with highlighted code and times, a message being edited, and an answer cut by the length limit.
 */
async function answersShots(webDir: string): Promise<void> {
  const stack = await startLocalStack({ ports: { web: 0 }, dataDir: null, staticDir: webDir, bedrock: { timing: { timeToFirstTokenMs: 50, tokensPerSecond: 400 } }, env: { MAX_OUTPUT_TOKENS: "200" } });
  const browser = await launchBrowser();
  try {
    for (const scheme of ["light", "dark"] as const) {
      const page = (await openPage(browser, { colorScheme: scheme, viewport: DESKTOP })).page;
      await signIn(page, stack.webUrl, `answers-${scheme}`);
      await sendMessage(page, "Show a short typescript function that retries with backoff");
      await waitAnswerDone(page);
      await page.locator("article.turn.assistant").last().getByRole("button", { name: "Regenerate" }).click();
      await waitAnswerDone(page);
      await page.getByRole("group", { name: "Versions of this answer" }).getByText("2 of 2").waitFor();
      await page.locator("code.hljs").first().waitFor();
      await shoot(page, `versions-desktop-${scheme}`);

      await sendMessage(page, "Now tell me a long story about a lighthouse keeper [[tokens:600]]");
      await waitAnswerDone(page);
      await page.locator("article.turn.assistant").last().getByRole("button", { name: "Continue" }).waitFor();
      await shoot(page, `continue-desktop-${scheme}`);

      await page.locator("article.turn.user").last().getByRole("button", { name: "Edit" }).click();
      await page.getByRole("textbox", { name: "Edit your message" }).fill("Now tell me a short story about a harbour pilot");
      await shoot(page, `edit-desktop-${scheme}`);
    }
  } finally {
    await browser.close();
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
