/**
 * Cognito sign-in: the hosted UI with the OAuth 2.0 authorization code grant and PKCE (oidc-client-ts), tokens
 * renewed before they expire with the refresh token Cognito issues to the code grant, and sign-out through the
 * hosted domain's /logout endpoint (Cognito's OIDC discovery document has no end_session_endpoint).
 * https://docs.aws.amazon.com/cognito/latest/developerguide/authorization-endpoint.html
 * https://docs.aws.amazon.com/cognito/latest/developerguide/logout-endpoint.html
 */
import { UserManager, WebStorageStateStore, type User } from "oidc-client-ts";
import type { WebConfig } from "../../../runtime/protocol";
import type { SignedInUser } from "./types";

type CognitoConfig = Extract<WebConfig["auth"], { mode: "cognito" }>;

/** The token the WebSocket authorizer verifies. Access tokens are what an API is meant to receive. */
const TOKEN_USE: "access" | "id" = "access";

export class CognitoAuth {
  private readonly manager: UserManager;

  constructor(private readonly config: CognitoConfig) {
    this.manager = new UserManager({
      authority: config.authority,
      client_id: config.clientId,
      redirect_uri: config.redirectUri,
      post_logout_redirect_uri: config.logoutUri,
      response_type: "code",
      scope: "openid email profile",
      // Renews with the refresh token 60 s before the access token expires (accessTokenExpiringNotificationTime).
      automaticSilentRenew: true,
      // localStorage: a reload or a second tab stays signed in (sessionStorage would sign out each new tab).
      userStore: new WebStorageStateStore({ store: window.localStorage }),
    });
  }

  /** Completes a redirect back from the hosted UI, or restores a stored session. */
  async restore(): Promise<SignedInUser | null> {
    const params = new URLSearchParams(location.search);
    if (params.has("code") && params.has("state")) {
      await this.manager.signinRedirectCallback();
      // Drop code and state from the address bar, so a reload does not replay a spent code.
      history.replaceState(null, "", location.pathname + location.hash);
    } else if (params.has("error")) {
      throw new Error(`Sign-in did not complete (${params.get("error_description") ?? params.get("error")}). Press Sign in to try again.`);
    }
    const user = await this.manager.getUser();
    if (user === null) return null;
    if (user.expired) {
      const renewed = await this.manager.signinSilent().catch(() => null);
      if (renewed === null) return null;
    }
    return this.signedIn(user);
  }

  /** Navigates to the hosted sign-in page. */
  async signIn(): Promise<void> {
    await this.manager.signinRedirect();
  }

  private signedIn(initial: User): SignedInUser {
    const profile = initial.profile;
    const displayName = String(profile.email ?? profile["cognito:username"] ?? profile.preferred_username ?? profile.sub);
    return {
      displayName,
      token: async (forceRefresh) => {
        let user = await this.manager.getUser();
        if (user === null) throw new Error("Signed out: sign in again.");
        if (forceRefresh || user.expired || (user.expires_in ?? 0) < 60) {
          user = (await this.manager.signinSilent()) ?? user;
        }
        const token = TOKEN_USE === "access" ? user.access_token : user.id_token;
        if (token === undefined || token === "") throw new Error("Signed out: sign in again.");
        return token;
      },
      signOut: async () => {
        await this.manager.removeUser();
        const logout = new URL("/logout", this.config.domain);
        logout.searchParams.set("client_id", this.config.clientId);
        logout.searchParams.set("logout_uri", this.config.logoutUri);
        location.assign(logout.toString());
      },
    };
  }
}
