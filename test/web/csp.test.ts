/**
 * The built page under its strict Content-Security-Policy (runtime/web-security-headers.ts), in Chromium: served by
 * the local stack's web server with the same policy CloudFront's response-headers policy sets, it loads, signs in,
 * connects its WebSocket and streams an answer with no violation reported and no CSP error in the console.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { cspViolations, ensureWebBuild, openPage, recordCspViolations, sendMessage, signIn, waitAnswerDone } from "./support/browser";
import { usePageStack } from "./support/page-stack";

describe("web chat page under the strict Content-Security-Policy (local stack)", function () {
  this.timeout(90_000);
  const fixture = usePageStack({ timing: { timeToFirstTokenMs: 50 }, env: { FLUSH_INTERVAL_MS: "20" } });

  it("serves the page with the strict policy and the other security headers", async () => {
    const response = await fetch(fixture.stack.webUrl);
    const csp = response.headers.get("content-security-policy") ?? "";
    expect(csp).to.match(/(^|; )default-src 'none'(;|$)/);
    expect(csp).to.match(/(^|; )script-src 'self'(;|$)/);
    expect(csp).to.match(/(^|; )style-src 'self'(;|$)/);
    expect(csp).to.match(/(^|; )frame-ancestors 'none'(;|$)/);
    expect(csp).to.match(/(^|; )base-uri 'none'(;|$)/);
    expect(csp).to.not.contain("unsafe");
    expect(response.headers.get("x-content-type-options")).to.equal("nosniff");
    expect(response.headers.get("x-frame-options")).to.equal("DENY");
    const html = await response.text();
    expect(html).to.not.match(/http-equiv="Content-Security-Policy"/i);
    expect(html).to.not.match(/<style|\sstyle=|<script(?![^>]*\ssrc=)/i);
  });

  it("builds bundles that point to no source map (maps stay local; infra/web-content.ts uploads none)", () => {
    const assets = join(ensureWebBuild(), "assets");
    const scripts = readdirSync(assets).filter((f) => f.endsWith(".js") || f.endsWith(".css"));
    expect(scripts).to.have.length.greaterThan(0);
    for (const file of scripts) expect(readFileSync(join(assets, file), "utf8"), file).to.not.contain("sourceMappingURL");
  });

  it("loads, signs in, connects, streams an answer and highlights code (a lazy chunk) without a single violation", async () => {
    const { page, context, errors } = await openPage(fixture.browser);
    try {
      await recordCspViolations(context);
      await signIn(page, fixture.stack.webUrl, "csp-user");
      await sendMessage(page, "Hello under a strict policy");
      expect(await waitAnswerDone(page)).to.equal("complete");
      // Code in an answer loads the highlighting chunk (a script and a stylesheet from this origin) on demand.
      await sendMessage(page, "Show a short typescript function");
      expect(await waitAnswerDone(page)).to.equal("complete");
      await page.locator("code.hljs span[class^='hljs-']").first().waitFor();
      expect(await cspViolations(page)).to.deep.equal([]);
      expect(errors.filter((e) => /Content Security Policy/i.test(e))).to.deep.equal([]);
      expect(errors).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
