/** Server `error` frames in words a person can act on (the server's own message follows when it adds detail). */
import type { ErrorFrame } from "../../../runtime/protocol";

const MESSAGES: Record<ErrorFrame["code"], string> = {
  bad_request: "The server could not read that request.",
  too_large: "That message is too long.",
  not_found: "That conversation or answer no longer exists.",
  forbidden: "You are not allowed to do that.",
  rate_limited: "You are sending messages too quickly. Wait a moment and try again.",
  busy: "An answer is already being generated. Wait for it or stop it.",
  model_error: "The model could not answer right now. Try again in a moment.",
  internal: "Something went wrong on the server.",
};

export function describeError(frame: Pick<ErrorFrame, "code" | "message">): string {
  const base = MESSAGES[frame.code] ?? "Something went wrong.";
  const detail = frame.message.trim();
  return detail === "" || base.toLowerCase().includes(detail.toLowerCase()) ? base : `${base} (${detail})`;
}
