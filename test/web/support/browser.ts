/**
 * Browser-test plumbing: Debian's Chromium driven by playwright-core (never `playwright install`), and the web
 * build (dist/web) made once if a test run starts without it (`npm test` builds it first).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import type { PageGlobals } from "./page-globals";

export const REPO_ROOT = resolve(__dirname, "../../..");
export const WEB_DIST = join(REPO_ROOT, "dist/web");

export function ensureWebBuild(): string {
  if (existsSync(join(WEB_DIST, "index.html"))) return WEB_DIST;
  // vite's package exports do not include its bin script: find it through package.json's `bin`.
  const manifest = require.resolve("vite/package.json", { paths: [REPO_ROOT] });
  const { bin } = JSON.parse(readFileSync(manifest, "utf8")) as { bin: { vite: string } };
  const vite = join(dirname(manifest), bin.vite);
  // Built beside and renamed into place: test files in parallel workers may build at once, and none may read half a build.
  const staging = `${WEB_DIST}.build-${process.pid}`;
  const result = spawnSync(process.execPath, [vite, "build", "--config", "web/vite.config.mts", "--logLevel", "warn", "--outDir", staging, "--emptyOutDir"], { cwd: REPO_ROOT, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`web build failed:\n${result.stdout}\n${result.stderr}`);
  try {
    renameSync(staging, WEB_DIST);
  } catch (error) {
    // Another worker's build is in place already.
    if (!existsSync(join(WEB_DIST, "index.html"))) throw error;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return WEB_DIST;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking"],
  });
}

export interface PageOptions {
  colorScheme?: "light" | "dark";
  viewport?: { width: number; height: number };
  /** Lets a test inject its own script (axe-core) into a page whose CSP would refuse it; the page's CSP is tested elsewhere. */
  bypassCSP?: boolean;
}

/**
 * A fresh context (its own storage) whose page records uncaught errors and console errors (a Content-Security-Policy
 * violation is one: Chromium logs "Refused to … because it violates the following Content Security Policy …").
 */
export async function openPage(browser: Browser, options: PageOptions = {}): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({
    colorScheme: options.colorScheme ?? "light",
    viewport: options.viewport ?? { width: 1280, height: 860 },
    bypassCSP: options.bypassCSP ?? false,
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  return { context, page, errors };
}

/** Dev sign-in through the page's own form, then waits for the connection. */
export async function signIn(page: Page, webUrl: string, userName: string): Promise<void> {
  await page.goto(webUrl);
  await page.getByLabel("User name").fill(userName);
  await page.getByRole("button", { name: "Sign in" }).click();
  await waitConnected(page);
}

export async function waitConnected(page: Page): Promise<void> {
  await page.getByRole("status").filter({ hasText: "Connected" }).waitFor({ timeout: 15_000 });
}

/** Types into the box labelled "Message" and presses Enter. */
export async function sendMessage(page: Page, text: string): Promise<void> {
  const box = page.getByLabel("Message", { exact: true });
  await box.fill(text);
  await box.press("Enter");
}

/** Waits until the last answer is no longer pending or streaming and returns its status. */
export async function waitAnswerDone(page: Page, timeout = 20_000): Promise<string> {
  const last = page.locator("article.turn.assistant").last();
  await page.waitForFunction(
    () => {
      const answers = (globalThis as unknown as PageGlobals).document.querySelectorAll("article.turn.assistant");
      const status = answers[answers.length - 1]?.getAttribute("data-status");
      return status !== undefined && status !== null && status !== "pending" && status !== "streaming";
    },
    undefined,
    { timeout },
  );
  return (await last.getAttribute("data-status")) ?? "";
}

/** The CSP violations a page has reported so far (its `securitypolicyviolation` events, from before any script ran). */
export async function recordCspViolations(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    type Violation = { violatedDirective: string; blockedURI: string };
    const w = globalThis as unknown as { __cspViolations?: string[]; document: { addEventListener(type: string, listener: (event: Violation) => void): void } };
    const seen: string[] = [];
    w.__cspViolations = seen;
    w.document.addEventListener("securitypolicyviolation", (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
}

export async function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => (globalThis as unknown as { __cspViolations?: string[] }).__cspViolations ?? ["(not recorded)"]);
}
