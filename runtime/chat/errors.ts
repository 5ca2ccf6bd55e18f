/** A failure that the client is told about as an `error` frame (codes from the wire protocol). */
import type { ErrorCode, ErrorFrame } from "../protocol";

export class ChatError extends Error {
  override name = "ChatError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly ids: { turnId?: string; clientMessageId?: string } = {},
    /** `rate_limited` / `quota_exceeded`: when the client may try again. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }

  toFrame(): ErrorFrame {
    const frame: ErrorFrame = { type: "error", code: this.code, message: this.message, ...this.ids };
    if (this.retryAfterMs !== undefined) frame.retryAfterMs = Math.max(0, Math.ceil(this.retryAfterMs));
    return frame;
  }
}

/** The same answer whether a session or turn does not exist or belongs to someone else. */
export function notFound(what: "session" | "turn", ids: { turnId?: string; clientMessageId?: string } = {}): ChatError {
  return new ChatError("not_found", `${what} not found`, ids);
}
