/**
 * Validation of client frames. A bad frame becomes a ChatError (answered with an `error` frame); the connection
 * stays usable. Limits: runtime/protocol.ts (API Gateway's own frame limit is 32 KB).
 */
import {
  CLIENT_ACTIONS,
  MAX_FRAME_BYTES,
  MAX_TEXT_BYTES,
  type ClientAction,
  type ClientFrame,
  type ContinueFrame,
  type EditFrame,
} from "../protocol";
import { ChatError } from "./errors";
import { isUuid } from "./ids";
import { normaliseTitle } from "./titles";

const MAX_ID_LENGTH = 200;
const MAX_CURSOR_LENGTH = 2048;

type Fields = Record<string, unknown>;

function bad(message: string, ids: { clientMessageId?: string; turnId?: string } = {}): ChatError {
  return new ChatError("bad_request", message, ids);
}

function id(fields: Fields, name: string, ids: { clientMessageId?: string } = {}): string {
  const v = fields[name];
  if (typeof v !== "string" || v.length === 0 || v.length > MAX_ID_LENGTH) {
    throw bad(`${name} must be a non-empty string of at most ${MAX_ID_LENGTH} characters`, ids);
  }
  return v;
}

function optionalString(fields: Fields, name: string, maxLength: number, ids: { clientMessageId?: string } = {}): string | undefined {
  const v = fields[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" || v.length === 0 || v.length > maxLength) {
    throw bad(`${name} must be a non-empty string of at most ${maxLength} characters when present`, ids);
  }
  return v;
}

/** Parses and validates one client frame body; throws ChatError (bad_request or too_large). */
export function parseClientFrame(body: string | null | undefined): ClientFrame {
  if (body === undefined || body === null || body.length === 0) throw bad("empty frame");
  if (Buffer.byteLength(body, "utf8") > MAX_FRAME_BYTES) {
    throw new ChatError("too_large", `frame exceeds ${MAX_FRAME_BYTES} bytes`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw bad("frame is not JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw bad("frame must be a JSON object");
  const fields = parsed as Fields;
  const action = fields.action;
  if (typeof action !== "string" || !CLIENT_ACTIONS.includes(action as ClientAction)) {
    throw bad(`unknown action; expected one of ${CLIENT_ACTIONS.join(", ")}`);
  }

  switch (action as ClientAction) {
    case "send": {
      const rawId = fields.clientMessageId;
      if (typeof rawId !== "string" || !isUuid(rawId)) throw bad("clientMessageId must be a UUID");
      const ids = { clientMessageId: rawId };
      const text = fields.text;
      if (typeof text !== "string") throw bad("text must be a string", ids);
      if (text.trim().length === 0) throw bad("text must not be empty", ids);
      if (Buffer.byteLength(text, "utf8") > MAX_TEXT_BYTES) {
        throw new ChatError("too_large", `text exceeds ${MAX_TEXT_BYTES} bytes`, ids);
      }
      const sessionId = optionalString(fields, "sessionId", MAX_ID_LENGTH, ids);
      return sessionId === undefined
        ? { action: "send", clientMessageId: rawId, text }
        : { action: "send", clientMessageId: rawId, text, sessionId };
    }
    case "stop":
      return { action: "stop", turnId: id(fields, "turnId") };
    case "regenerate":
      return { action: "regenerate", turnId: id(fields, "turnId") };
    case "sessions":
      return { action: "sessions" };
    case "history": {
      const sessionId = id(fields, "sessionId");
      const cursor = optionalString(fields, "cursor", MAX_CURSOR_LENGTH);
      return cursor === undefined ? { action: "history", sessionId } : { action: "history", sessionId, cursor };
    }
    case "ping":
      return { action: "ping" };
    case "resume": {
      const turnId = id(fields, "turnId");
      const afterSeq = fields.afterSeq;
      const offset = fields.offset;
      if (typeof afterSeq !== "number" || !Number.isSafeInteger(afterSeq) || afterSeq < -1) throw bad("afterSeq must be an integer of at least -1");
      if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0) throw bad("offset must be a non-negative integer");
      return { action: "resume", turnId, afterSeq, offset };
    }
    case "usage":
      return { action: "usage" };
    case "edit":
      return parseEdit(fields);
    case "continue":
      return parseContinue(fields);
    // Conversation-level actions (issue 14, item 1).
    case "rename": {
      const sessionId = id(fields, "sessionId");
      if (typeof fields.title !== "string") throw bad("title must be a string");
      const title = normaliseTitle(fields.title);
      if ("problem" in title) throw bad(title.problem);
      return { action: "rename", sessionId, title: title.title };
    }
    case "delete":
      return { action: "delete", sessionId: id(fields, "sessionId") };
  }
}

/** The text of a new message (`send`, `edit`): a non-empty string of at most MAX_TEXT_BYTES. */
function messageText(fields: Fields, ids: { clientMessageId: string }): string {
  const text = fields.text;
  if (typeof text !== "string") throw bad("text must be a string", ids);
  if (text.trim().length === 0) throw bad("text must not be empty", ids);
  if (Buffer.byteLength(text, "utf8") > MAX_TEXT_BYTES) throw new ChatError("too_large", `text exceeds ${MAX_TEXT_BYTES} bytes`, ids);
  return text;
}

function parseEdit(fields: Fields): EditFrame {
  const rawId = fields.clientMessageId;
  if (typeof rawId !== "string" || !isUuid(rawId)) throw bad("clientMessageId must be a UUID");
  const ids = { clientMessageId: rawId };
  const turnId = id(fields, "turnId", ids);
  return { action: "edit", turnId, text: messageText(fields, ids), clientMessageId: rawId };
}

function parseContinue(fields: Fields): ContinueFrame {
  const turnId = id(fields, "turnId");
  const afterSeq = fields.afterSeq ?? -1;
  if (typeof afterSeq !== "number" || !Number.isSafeInteger(afterSeq) || afterSeq < -1) throw bad("afterSeq must be an integer of at least -1");
  return { action: "continue", turnId, afterSeq };
}
