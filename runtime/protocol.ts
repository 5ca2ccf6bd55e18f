/**
 * The WebSocket wire protocol (JSON text frames) shared by the runtime, the local stack and the web client.
 * Contract: ../shared/ARCHITECTURE.md, "Wire protocol". This file holds types and constants only (no Node APIs),
 * so the browser bundle can import it.
 */

/** Largest `text` accepted in a `send` frame, in UTF-8 bytes: well under API Gateway's 32 KB frame limit. */
export const MAX_TEXT_BYTES = 16 * 1024;

/** Largest client frame the runtime parses, in bytes (API Gateway itself refuses frames over 32 KB). */
export const MAX_FRAME_BYTES = 32 * 1024;

/**
 * The WebSocket subprotocol of this wire protocol. A client offers it first and its Cognito token second
 * (`new WebSocket(url, [CHAT_SUBPROTOCOL, token])`, header `Sec-WebSocket-Protocol: chat.v1, <jwt>`); the server
 * selects it in the handshake answer. The token never travels in the URL, where consoles, proxies and logs keep it.
 */
export const CHAT_SUBPROTOCOL = "chat.v1";

/** The handshake header that carries the offered subprotocols, and so the token. */
export const SUBPROTOCOL_HEADER = "Sec-WebSocket-Protocol";

// ---- client → server -------------------------------------------------------------------------------------

export interface SendFrame {
  action: "send";
  /** A UUID the client generates per message; re-sending it never creates a second turn. */
  clientMessageId: string;
  text: string;
  /** Absent: the message opens a new session. */
  sessionId?: string;
}
export interface StopFrame {
  action: "stop";
  turnId: string;
}
export interface RegenerateFrame {
  action: "regenerate";
  /** An assistant turn: a new answer is generated to the user message it answered. */
  turnId: string;
}
export interface SessionsFrame {
  action: "sessions";
}
export interface HistoryFrame {
  action: "history";
  sessionId: string;
  cursor?: string;
}
export interface PingFrame {
  action: "ping";
}
/**
 * Continues a turn on this connection, also one that started on another connection or in another region: the
 * text the client does not have yet as `delta` frames (seq afterSeq + 1, + 2, …, texts continuing its text at
 * `offset`), then the live tail, then `turn.done`.
 */
export interface ResumeFrame {
  action: "resume";
  turnId: string;
  /** The last seq the client applied; -1 for none. */
  afterSeq: number;
  /** The length, in UTF-16 code units, of the turn's text the client has. */
  offset: number;
}
/**
 * Replaces a sent message (a user turn): the turns after it are dropped and the new text is answered anew
 * (`turn.started` …). Admitted like `send`; re-sending the same `clientMessageId` never edits twice.
 */
export interface EditFrame {
  action: "edit";
  /** The user turn to replace. */
  turnId: string;
  text: string;
  clientMessageId: string;
}
/**
 * Generates more of an answer that ended `max_tokens` or `stopped`: a `turn.started` naming the same turn (with
 * `continues`), then deltas of that turn appended to its text, then one `turn.done`.
 */
export interface ContinueFrame {
  action: "continue";
  /** The assistant turn to continue. */
  turnId: string;
  /** The last seq this client applied of the turn, -1 (the default) when it has none (e.g. read from history). */
  afterSeq?: number;
}
// Conversation-level actions (issue 14): both answer with the caller's `sessions` list.
/** Longest session title, in characters, after trimming (a rename over it is `bad_request`). */
export const MAX_TITLE_LENGTH = 120;
/** Sets a session's title (trimmed, whitespace runs and newlines made one space; 1 to MAX_TITLE_LENGTH characters). */
export interface RenameFrame {
  action: "rename";
  sessionId: string;
  title: string;
}
/** Stops any answer generating in the session and erases the session and all its turns, in every region. */
export interface DeleteFrame {
  action: "delete";
  sessionId: string;
}

/** Asks for the caller's token use in the current budget window (the UTC day). */
export interface UsageRequestFrame {
  action: "usage";
}

export type ClientFrame =
  | SendFrame
  | StopFrame
  | RegenerateFrame
  | SessionsFrame
  | HistoryFrame
  | PingFrame
  | ResumeFrame
  | UsageRequestFrame
  | EditFrame
  | ContinueFrame
  | RenameFrame
  | DeleteFrame;
export type ClientAction = ClientFrame["action"];
export const CLIENT_ACTIONS: readonly ClientAction[] = ["send", "stop", "regenerate", "sessions", "history", "ping", "resume", "usage", "edit", "continue", "rename", "delete"];

// ---- server → client -------------------------------------------------------------------------------------

export type StopReason = "end_turn" | "max_tokens" | "stopped" | "guardrail" | "error";
export type TurnStatus = "streaming" | "complete" | "stopped" | "guardrail" | "error";
export type Role = "user" | "assistant";
export type ErrorCode =
  | "bad_request"
  | "too_large"
  | "not_found"
  | "forbidden"
  | "rate_limited"
  | "quota_exceeded"
  | "busy"
  | "model_error"
  | "internal";

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export interface TurnStartedFrame {
  type: "turn.started";
  sessionId: string;
  /** The assistant turn being generated. */
  turnId: string;
  clientMessageId: string;
  /** The AWS region whose handlers generate this turn. */
  region: string;
  /** The user turn this answers (present for `send`, `regenerate` and `edit`). */
  userTurnId?: string;
  /** `edit`: the user turn the new message replaces (it and every turn after it are dropped). */
  replacesTurnId?: string;
  /**
   * `continue`: the turn goes on. Its deltas start at `seq` and their texts append to its saved text at `offset`
   * (UTF-16 code units); the turn ends with one more `turn.done`.
   */
  continues?: { seq: number; offset: number };
}
export interface DeltaFrame {
  type: "delta";
  turnId: string;
  /** 0, 1, 2, … per turn, with no gaps. */
  seq: number;
  text: string;
}
export interface TurnDoneFrame {
  type: "turn.done";
  turnId: string;
  stopReason: StopReason;
  usage: Usage;
  /** Milliseconds from the send frame's arrival to the first delta; null when no text was generated. */
  ttftMs: number | null;
}
export interface ErrorFrame {
  type: "error";
  code: ErrorCode;
  message: string;
  turnId?: string;
  clientMessageId?: string;
  /** `rate_limited` and `quota_exceeded`: how long to wait before the same request can succeed. */
  retryAfterMs?: number;
}

/** A session as listed by `sessions`. */
export interface SessionSummary {
  sessionId: string;
  title: string;
  createdAt: string;
  updatedAt: string;
}
export interface SessionsFrameOut {
  type: "sessions";
  sessions: SessionSummary[];
}

/** A turn as read back by `history`. */
export interface TurnRecord {
  turnId: string;
  sessionId: string;
  role: Role;
  text: string;
  status: TurnStatus;
  /** For an assistant turn: the user turn it answers. */
  parentTurnId?: string;
  /**
   * An earlier version of an answer, replaced by `regenerate`: the versions of one answer are the assistant turns
   * with the same `parentTurnId`, oldest first; the one without `supersededBy` is current (the model sees only it).
   */
  supersededBy?: string;
  /** How the answer ended (assistant turns that are not streaming): `max_tokens` and `stopped` can be continued. */
  stopReason?: StopReason;
  usage?: Usage;
  model?: string;
  createdAt: string;
  updatedAt: string;
  /**
   * Present on a part of a turn too long for one message (runtime/chat/history-page.ts): `text` starts this many
   * UTF-16 code units into the turn's text. The parts come in order on consecutive pages.
   */
  textOffset?: number;
  /** True when the turn's text goes on in the next page's first record. */
  partial?: boolean;
}
export interface HistoryFrameOut {
  type: "history";
  sessionId: string;
  turns: TurnRecord[];
  /** Present when more turns follow; pass it back as `cursor`. */
  cursor?: string;
}
export interface PongFrame {
  type: "pong";
}
/** The answer to `usage`: tokens (input + output) counted in the current UTC day. */
export interface UsageFrame {
  type: "usage";
  used: number;
  /** The daily token budget; null when unlimited. */
  limit: number | null;
  /** When the count starts again from 0 (the next UTC midnight, ISO 8601). */
  resetAt: string;
}

export type ServerFrame =
  | TurnStartedFrame
  | DeltaFrame
  | TurnDoneFrame
  | ErrorFrame
  | SessionsFrameOut
  | HistoryFrameOut
  | PongFrame
  | UsageFrame;

// ---- the web client's runtime config ----------------------------------------------------------------------

/**
 * `config.json`, served beside the web client: written by the Pulumi program into the web bucket and served by
 * the local stack, so one build of `web/` serves every stack.
 */
export interface WebConfig {
  /** WebSocket endpoints in order of preference; the client fails over to the next when one is unreachable. */
  regions: { region: string; url: string }[];
  auth:
    | {
        mode: "cognito";
        /** OIDC authority: `https://cognito-idp.<region>.amazonaws.com/<userPoolId>`. */
        authority: string;
        clientId: string;
        /** Hosted sign-in domain, `https://<prefix>.auth.<region>.amazoncognito.com`, for sign-out. */
        domain: string;
        redirectUri: string;
        logoutUri: string;
      }
    | {
        mode: "local";
        /** `GET <tokenUrl>?user=NAME` answers `{"token":"<jwt>"}`. */
        tokenUrl: string;
      };
  /** Shown in the page, e.g. the model id, or "local emulator". */
  modelLabel: string;
  /** True when answers come from the local Bedrock emulator, so the page can say so plainly. */
  emulator: boolean;
}
