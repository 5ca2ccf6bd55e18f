/**
 * Reads the Cognito token from the offered WebSocket subprotocols (wire protocol, Connect): the header
 * `Sec-WebSocket-Protocol: chat.v1, <jwt>` is a comma-separated list (RFC 6455 section 4.1; API Gateway passes it
 * as one header value), and the token is the entry after `chat.v1`. Anything else offers no token.
 */
import { CHAT_SUBPROTOCOL } from "../protocol";

/** The offered subprotocols, in order, trimmed; empty entries dropped. */
export function offeredSubprotocols(header: string | undefined): string[] {
  if (header === undefined) return [];
  return header
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
}

/** The token offered as `chat.v1, <token>`, or undefined when `chat.v1` is not offered or no token follows it. */
export function tokenFromSubprotocols(header: string | undefined): string | undefined {
  const offered = offeredSubprotocols(header);
  const at = offered.indexOf(CHAT_SUBPROTOCOL);
  if (at < 0) return undefined;
  const token = offered[at + 1];
  return token === undefined || token === CHAT_SUBPROTOCOL ? undefined : token;
}

/** A header's value from an API Gateway event, whatever its casing (HTTP header names are case-insensitive). */
export function headerValue(headers: Record<string, string | undefined> | null | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}
