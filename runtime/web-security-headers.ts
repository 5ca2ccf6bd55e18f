/**
 * The chat page's Content-Security-Policy and other security headers: one definition for CloudFront's
 * response-headers policy (infra/web-edge.ts) and the local web server (runtime/local/web.ts), so the page is
 * checked under the same policy locally and in a stack.
 *
 * The page needs: its own scripts and styles (Vite emits files, nothing inline), `/config.json` and the WebSocket
 * on its own host, Cognito's OIDC discovery/JWKS (`cognito-idp`) and token endpoint (the hosted domain), and the
 * `data:` icon. Sign-in and sign-out are navigations (location.assign), not forms.
 */

export interface PageSources {
  /**
   * Origins the page may connect to besides its own (`'self'` already covers `https://<host>` and, by CSP Level 3,
   * `wss://<host>`): e.g. `wss://<custom domain>`, `https://cognito-idp.<region>.amazonaws.com`.
   */
  readonly connect: readonly string[];
}

/** A strict policy: nothing unless named; no inline script or style, no framing, no `<base>`. */
export function contentSecurityPolicy(sources: PageSources): string {
  const connect = ["'self'", ...new Set(sources.connect)];
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${connect.join(" ")}`,
    "manifest-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "object-src 'none'",
  ].join("; ");
}

/** The other headers, as CloudFront's response-headers policy sets them (and the local server repeats). */
export const SECURITY_HEADERS = {
  "strict-transport-security": "max-age=63072000; includeSubDomains",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
} as const;

/** An origin a CSP source expression names: `https://host` (no path, no trailing slash). */
export function originOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}`;
}
