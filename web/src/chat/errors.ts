/** Server `error` frames in words a person can act on (the server's own message follows when it adds detail). */
import type { ErrorFrame } from "../../../runtime/protocol";

const MESSAGES: Record<ErrorFrame["code"], string> = {
  bad_request: "The server could not read that request. Reload the page and try again.",
  too_large: "That message is too long. Shorten it and send it again.",
  not_found: "That conversation or answer no longer exists. Pick another conversation or start a new one.",
  forbidden: "You are not allowed to do that. If this seems wrong, sign out and sign in again.",
  rate_limited: "You are sending messages too quickly. Wait a moment and try again.",
  quota_exceeded: "You have used today's token budget.",
  busy: "An answer is already being generated. Wait for it or stop it.",
  model_error: "The model could not write an answer this time. Try again in a moment (Regenerate asks anew).",
  internal: "Something went wrong on the server. Try again; if it keeps happening, reload the page.",
};

/** Codes whose server message is meant for the person (a limit, a size); the others carry internal words
 * ("the answer could not be generated", API Gateway's "Internal server error") that belong in the logs. */
const DETAIL_SHOWN: ReadonlySet<ErrorFrame["code"]> = new Set(["bad_request", "too_large", "rate_limited", "quota_exceeded", "busy"]);

/** The runtime's words for the operator's kill switch (runtime/chat/quotas.ts): `busy`, but not the user's doing. */
const PAUSED = /paused by the operator/i;

/**
 * A refusal of a well-formed request that says what to do (edit and continue: "that answer is still being written;
 * wait for it to end"): the server's own words are the whole message, not "could not read that request".
 */
const ACTIONABLE_REFUSAL = /^[^;]{3,120}; (wait|reload|stop|continue|try)\b[^;]{0,120}$/i;

export function describeError(frame: Pick<ErrorFrame, "code" | "message" | "retryAfterMs">, now: number = Date.now()): string {
  if (frame.code === "busy" && PAUSED.test(frame.message)) return "New answers are paused by the operator for now. Try again later.";
  if ((frame.code === "bad_request" || frame.code === "busy") && ACTIONABLE_REFUSAL.test(frame.message.trim())) {
    const [what, next] = frame.message.trim().split("; ") as [string, string];
    return `${what.charAt(0).toUpperCase()}${what.slice(1)}. ${next.charAt(0).toUpperCase()}${next.slice(1).replace(/\.?$/, ".")}`;
  }
  const base = MESSAGES[frame.code] ?? "Something went wrong.";
  const detail = DETAIL_SHOWN.has(frame.code) ? frame.message.trim() : "";
  const text = detail === "" || base.toLowerCase().includes(detail.toLowerCase()) ? base : `${base} (${detail})`;
  return frame.retryAfterMs === undefined ? text : `${text} ${describeRetry(frame.retryAfterMs, now)}`;
}

/** When to try again, in words: seconds or minutes when soon, else the local time of day. */
export function describeRetry(retryAfterMs: number, now: number = Date.now()): string {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  if (seconds < 90) return `You can try again in ${seconds} second${seconds === 1 ? "" : "s"}.`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `You can try again in ${minutes} minutes.`;
  const at = new Date(now + retryAfterMs).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return `You can try again at ${at}.`;
}
