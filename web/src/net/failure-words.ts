/**
 * A thrown error in words a person can act on. Browsers report a request that never reached the server as a bare
 * TypeError ("Failed to fetch" in Chromium, "NetworkError when attempting to fetch resource." in Firefox, "Load
 * failed" in Safari), which says nothing about what to do.
 */
const NETWORK_FAILURE = /failed to fetch|networkerror|load failed|network request failed/i;

export function describeFailure(error: unknown, service = "The server"): string {
  const message = error instanceof Error ? error.message : String(error);
  if (NETWORK_FAILURE.test(message)) return `${service} could not be reached. Check your network connection.`;
  return message;
}
