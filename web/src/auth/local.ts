/**
 * Local dev sign-in: the local stack's issuer mints a Cognito-shaped token for any user name
 * (`GET <tokenUrl>?user=NAME` → `{"token": "<jwt>"}`). No password: it exists only on the developer's machine.
 */
import { describeFailure } from "../net/failure-words";
import { jwtExpiry, type SignedInUser } from "./types";

const USER_KEY = "chat.local.user";
const TOKEN_KEY = "chat.local.token";
/** Refresh this long before expiry, so a reconnect never presents a token that expires mid-handshake. */
const REFRESH_MARGIN_S = 60;

export class LocalAuth {
  constructor(private readonly tokenUrl: string) {}

  /** The user signed in earlier in this browser, if any. */
  restore(): SignedInUser | null {
    const name = localStorage.getItem(USER_KEY);
    return name === null ? null : this.user(name);
  }

  async signIn(name: string): Promise<SignedInUser> {
    const trimmed = name.trim();
    if (trimmed === "") throw new Error("Enter a user name.");
    const token = await this.fetchToken(trimmed);
    localStorage.setItem(USER_KEY, trimmed);
    localStorage.setItem(TOKEN_KEY, token);
    return this.user(trimmed);
  }

  private user(name: string): SignedInUser {
    return {
      displayName: name,
      token: async (forceRefresh) => {
        const cached = localStorage.getItem(TOKEN_KEY);
        const exp = cached === null ? null : jwtExpiry(cached);
        if (!forceRefresh && cached !== null && exp !== null && exp - REFRESH_MARGIN_S > Date.now() / 1000) return cached;
        const token = await this.fetchToken(name);
        localStorage.setItem(TOKEN_KEY, token);
        return token;
      },
      signOut: async () => {
        localStorage.removeItem(USER_KEY);
        localStorage.removeItem(TOKEN_KEY);
      },
    };
  }

  private async fetchToken(name: string): Promise<string> {
    const url = new URL(this.tokenUrl, location.href);
    url.searchParams.set("user", name);
    const response = await fetch(url, { cache: "no-store" }).catch((error: unknown) => {
      throw new Error(describeFailure(error, "The local sign-in service") + " Is `npm start` still running?");
    });
    if (!response.ok) throw new Error(`The local sign-in service is not answering (HTTP ${response.status}). Is \`npm start\` still running?`);
    const body = (await response.json()) as { token?: unknown };
    if (typeof body.token !== "string") throw new Error("The local sign-in service sent no token. Restart `npm start` and reload the page.");
    return body.token;
  }
}
