/** A signed-in user, whatever the identity provider. */
export interface SignedInUser {
  /** Shown in the page. */
  readonly displayName: string;
  /** A token for the WebSocket handshake; `forceRefresh` after the handshake was refused. */
  token(forceRefresh: boolean): Promise<string>;
  /** Ends the session (for Cognito, through the hosted domain's logout endpoint: navigates away). */
  signOut(): Promise<void>;
}

/** Seconds since the epoch at which a JWT expires, or null when it cannot be read. The signature is not checked
 * here (the server does that); the client only uses it to refresh early. */
export function jwtExpiry(token: string): number | null {
  const payload = token.split(".")[1];
  if (payload === undefined) return null;
  try {
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(payload.length / 4) * 4, "="));
    const claims = JSON.parse(json) as { exp?: unknown };
    return typeof claims.exp === "number" ? claims.exp : null;
  } catch {
    return null;
  }
}
