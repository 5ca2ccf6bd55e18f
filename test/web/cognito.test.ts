/**
 * The deployed sign-in path in a real browser: Cognito's hosted UI flow (authorization code + PKCE through
 * oidc-client-ts), renewal with the refresh token before the access token expires, a reload that stays signed in,
 * and sign-out through the hosted domain's /logout. The identity provider is a Cognito-shaped fake.
 */
import { expect } from "chai";
import type { Browser } from "playwright-core";
import { cspViolations, ensureWebBuild, launchBrowser, openPage, recordCspViolations, sendMessage, waitAnswerDone, waitConnected } from "./support/browser";
import { startFakeChatServer, type FakeChatServer } from "./support/fake-chat-server";
import { startFakeOidc, type FakeOidc } from "./support/fake-oidc";

describe("web chat page: Cognito sign-in (authorization code + PKCE)", function () {
  this.timeout(60_000);
  let oidc: FakeOidc;
  let server: FakeChatServer;
  let browser: Browser;

  before(async () => {
    // 65 s tokens: oidc-client-ts renews 60 s before expiry, so the renewal comes 5 s after sign-in.
    oidc = await startFakeOidc({ user: "cognito-user", accessTokenSeconds: 65 });
    server = await startFakeChatServer(ensureWebBuild(), {
      configAuth: (webUrl) => ({ mode: "cognito", authority: oidc.authority, clientId: oidc.clientId, domain: oidc.domain, redirectUri: webUrl, logoutUri: webUrl }),
    });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await oidc?.stop();
  });

  it("signs in through the hosted UI, chats, renews the token, survives a reload and signs out via /logout", async () => {
    // Under the deployed page's strict CSP, with the identity provider's hosts in connect-src as CloudFront sets them.
    const { page, context } = await openPage(browser);
    try {
      await recordCspViolations(context);
      await page.goto(server.webUrl);
      await page.getByRole("button", { name: "Sign in" }).click();
      await waitConnected(page);
      expect(oidc.tokenRequests[0]).to.deep.equal({ grantType: "authorization_code", pkceVerified: true });
      expect(new URL(page.url()).search).to.equal("");
      expect(await page.locator(".user-name").innerText()).to.equal("cognito-user@example.com");

      await sendMessage(page, "Hello through Cognito [[tokens:10]]");
      expect(await waitAnswerDone(page)).to.equal("complete");

      const deadline = Date.now() + 20_000;
      while (!oidc.tokenRequests.some((r) => r.grantType === "refresh_token") && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(oidc.tokenRequests.map((r) => r.grantType)).to.include("refresh_token");
      expect(await cspViolations(page)).to.deep.equal([]);

      await page.reload();
      await waitConnected(page);
      expect(oidc.tokenRequests.filter((r) => r.grantType === "authorization_code")).to.have.length(1);

      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("button", { name: "Sign in" }).waitFor();
      expect(oidc.logouts).to.deep.equal([{ clientId: oidc.clientId, logoutUri: server.webUrl }]);
    } finally {
      await context.close();
    }
  });
});
