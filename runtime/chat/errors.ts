/** A failure that the client is told about as an `error` frame (codes from the wire protocol). */
import type { ErrorCode, ErrorFrame } from "../protocol";

export class ChatError extends Error {
  override name = "ChatError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly ids: { turnId?: string; clientMessageId?: string } = {},
  ) {
    super(message);
  }

  toFrame(): ErrorFrame {
    return { type: "error", code: this.code, message: this.message, ...this.ids };
  }
}

/** The same answer whether a session or turn does not exist or belongs to someone else. */
export function notFound(what: "session" | "turn", ids: { turnId?: string; clientMessageId?: string } = {}): ChatError {
  return new ChatError("not_found", `${what} not found`, ids);
}
