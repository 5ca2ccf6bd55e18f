/**
 * The setup most browser tests share: the local stack (real handlers on the emulators, in memory, serving the built
 * page) and one Chromium, started before a suite and stopped after it. Streaming is quick but still streamed; a
 * test passes its own timing and environment where it needs them.
 */
import type { Browser } from "playwright-core";
import { startLocalStack, type LocalStack, type LocalStackOptions } from "../../../runtime/local/stack";
import { ensureWebBuild, launchBrowser } from "./browser";

export interface PageStackOptions extends LocalStackOptions {
  /** The model emulator's pace (default: first token after 100 ms, then 200 tokens/s). */
  timing?: { timeToFirstTokenMs?: number; tokensPerSecond?: number };
}

/** Default handler settings: deltas coalesced every 40 ms, a stop seen within 50 ms. */
const QUICK_ENV = { FLUSH_INTERVAL_MS: "40", STOP_POLL_MS: "50" };

/** The local stack for a browser test: a free web port, in-memory data, the built page (built if missing). */
export function startPageStack(options: PageStackOptions = {}): Promise<LocalStack> {
  const { timing, ...rest } = options;
  return startLocalStack({
    ports: { web: 0 },
    dataDir: null,
    staticDir: ensureWebBuild(),
    ...rest,
    bedrock: { ...rest.bedrock, timing: { timeToFirstTokenMs: 100, tokensPerSecond: 200, ...rest.bedrock?.timing, ...timing } },
    env: { ...QUICK_ENV, ...rest.env },
  });
}

export interface PageStackFixture {
  readonly stack: LocalStack;
  readonly browser: Browser;
}

/**
 * Registers mocha `before`/`after` hooks in the calling `describe` that start the stack and Chromium and stop both;
 * the fixture's fields are usable from the tests on.
 */
export function usePageStack(options: PageStackOptions = {}): PageStackFixture {
  let stack: LocalStack | undefined;
  let browser: Browser | undefined;
  before(async function () {
    this.timeout(120_000);
    stack = await startPageStack(options);
    browser = await launchBrowser();
  });
  after(async function () {
    this.timeout(60_000);
    await browser?.close();
    await stack?.stop();
  });
  return {
    get stack() {
      if (!stack) throw new Error("the local stack is not started yet (use it inside a test or a hook after usePageStack's)");
      return stack;
    },
    get browser() {
      if (!browser) throw new Error("Chromium is not started yet (use it inside a test or a hook after usePageStack's)");
      return browser;
    },
  };
}
