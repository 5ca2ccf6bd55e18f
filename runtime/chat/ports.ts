/**
 * The small interfaces the chat use cases depend on. AWS adapters implement them in runtime/store,
 * runtime/connections, runtime/model and runtime/aws; unit tests implement them in memory.
 */
import type { Role, ServerFrame, StopReason, TurnStatus, Usage } from "../protocol";

// ---- connections ---------------------------------------------------------------------------------------------

export interface Connection {
  connectionId: string;
  userId: string;
  username: string;
  /** The region whose API Gateway holds the socket. */
  region: string;
  /** The @connections endpoint that reaches this socket. */
  callbackEndpoint: string;
  connectedAt: string;
  /**
   * When the token that opened the connection expires, in seconds since the epoch (the JWT's `exp`). A frame
   * after it is refused with `forbidden` and the connection closed: an open socket does not outlive its token.
   */
  tokenExpiresAt: number;
}

export interface ConnectionStore {
  put(connection: Connection, expiresAtEpochSeconds: number): Promise<void>;
  get(connectionId: string): Promise<Connection | undefined>;
  delete(connectionId: string): Promise<void>;
  /** Reserves one of the connection's concurrent generation slots for a turn; false when all `max` are taken. */
  acquireSlot(connectionId: string, turnId: string, max: number): Promise<boolean>;
  releaseSlot(connectionId: string, turnId: string): Promise<void>;
  /** The turns holding the connection's slots. */
  slotHolders(connectionId: string): Promise<string[]>;
}

/** "gone": API Gateway answered 410, the socket is closed. Other failures throw. */
export type PostResult = "ok" | "gone";

/**
 * How a connection in another region is reached: its region's @connections endpoint, and that region (requests are
 * signed for the region they go to).
 */
export interface ConnectionRoute {
  endpoint: string;
  region: string;
}

export interface ConnectionSender {
  /**
   * Posts to a connection; `route` reaches one in another region (a turn generated in one region streams to a
   * client connected to another). Default: this region's @connections endpoint.
   */
  post(connectionId: string, frame: ServerFrame, route?: ConnectionRoute): Promise<PostResult>;
  /** Closes the client's socket (the `$disconnect` route then runs as usual); a connection already gone is no error. */
  close(connectionId: string): Promise<void>;
}

// ---- sessions and turns --------------------------------------------------------------------------------------

export interface Session {
  sessionId: string;
  userId: string;
  title: string;
  createdAt: string;
  updatedAt: string;
}

export interface Turn {
  turnId: string;
  sessionId: string;
  userId: string;
  role: Role;
  text: string;
  status: TurnStatus;
  clientMessageId: string;
  /** Assistant turns: the user turn answered. */
  parentTurnId?: string;
  usage?: Usage;
  model?: string;
  stopReason?: StopReason;
  ttftMs?: number | null;
  /** Assistant turns: the region whose worker generates it (a turn is only written by that region). */
  region?: string;
  /** Assistant turns: the connection that receives the deltas. */
  connectionId?: string;
  /** Set once by the worker that generates the turn (an async invoke may be delivered twice). */
  generationStartedAt?: string;
  /** A regenerated answer replaced this one: hidden from history and from the model context. */
  supersededBy?: string;
  supersedes?: string;
  /**
   * Set by `edit` (./edit.ts): the user turn that replaced this one's message. A dropped turn is left out of history
   * and of the model context; it is only ever set on a turn that is not streaming.
   */
  droppedBy?: string;
  /** User turns made by `edit`: the user turn whose message this one replaces. */
  replaces?: string;
  /** Set by `continue` (./continue.ts) when it reopens the turn: liveness counts from here, not from createdAt. */
  continuedAt?: string;
  /** Set by the final save: the connections that resumed the turn and that its worker took on (./resume.ts). */
  servedWatchers?: string[];
  createdAt: string;
  updatedAt: string;
}

/** What the model context is built from (runtime/chat/context.ts): the fields `turnsUpTo` reads, and no more. */
export type ContextTurn = Pick<Turn, "turnId" | "role" | "text" | "status" | "parentTurnId" | "supersededBy" | "droppedBy">;

/** The fields of ContextTurn, for a store's projection. */
export const CONTEXT_TURN_FIELDS = ["turnId", "role", "text", "status", "parentTurnId", "supersededBy", "droppedBy"] as const satisfies ReadonlyArray<keyof ContextTurn>;

/** A connection that asked to follow a turn (`resume`), maybe in another region than the turn's worker. */
export interface TurnWatcher {
  connectionId: string;
  /** The @connections endpoint of the connection's own region. */
  callbackEndpoint: string;
  region: string;
  /** The last seq the client applied (-1: none): its frames continue at afterSeq + 1. */
  afterSeq: number;
  /** How much of the turn's text, in UTF-16 code units, the client has. */
  offset: number;
  at: string;
}

/** What others asked of a streaming turn, in items beside it (never on it: see HistoryStore.requestStop). */
export interface TurnControl {
  stopRequested: boolean;
  watchers: TurnWatcher[];
  /** The watchers the generating worker took on. */
  acknowledged: string[];
}

/** A streaming turn, by its keys. */
export interface TurnRef {
  sessionId: string;
  turnId: string;
}

/**
 * How a generating turn learns what others ask of it (a stop, a connection resuming it): each call waits one poll
 * interval, then answers; undefined once `until` is aborted. Per turn (a Lambda worker holds one turn) or batched
 * over every turn of a process (runtime/chat/control-batch.ts: the worker service).
 */
export interface TurnControlPoll {
  next(turn: TurnRef, until: AbortSignal): Promise<TurnControl | undefined>;
  /** After the turn's last write: whether its session was deleted meanwhile (its stop request asks for an erase). */
  eraseRequested(turn: TurnRef): Promise<boolean>;
}

export interface TurnResult {
  servedWatchers?: string[];
  text: string;
  status: Exclude<TurnStatus, "streaming">;
  stopReason: StopReason;
  usage: Usage;
  ttftMs: number | null;
  updatedAt: string;
}

export interface TurnPage {
  turns: Turn[];
  cursor?: string;
}

/** What `touchOwnSession` moved: the session's last activity before the touch. */
export interface SessionTouch {
  previousAt: string | undefined;
}

export interface HistoryStore {
  getSession(sessionId: string): Promise<Session | undefined>;
  /** Creates a new session (the id is fresh). */
  createSession(session: Session): Promise<void>;
  touchSession(sessionId: string, at: string): Promise<void>;
  /**
   * The owner check of a `send` and its move to the top of the list in one conditional write: false (and nothing
   * written) when the session does not exist or is not `userId`'s; else the time it was last active before.
   */
  touchOwnSession(sessionId: string, userId: string, at: string): Promise<SessionTouch | false>;
  /**
   * Undoes `touchOwnSession(…, at)` for a send that started nothing: the session goes back to `touch.previousAt`,
   * unless something touched it since (then it is left as it is).
   */
  untouchSession(sessionId: string, at: string, touch: SessionTouch): Promise<void>;
  /** Newest first. */
  listSessions(userId: string, limit: number): Promise<Session[]>;
  getTurn(sessionId: string, turnId: string): Promise<Turn | undefined>;
  putTurn(turn: Turn): Promise<void>;
  /**
   * A new exchange's items in one call: its turns, and the record of the session it starts. For fresh ids only
   * (newSessionId, newTurnIds: time, random bits and the session), so the writes are unconditional.
   */
  putNewTurns(turns: Turn[], newSession?: Session): Promise<void>;
  deleteTurn(sessionId: string, turnId: string): Promise<void>;
  /** Oldest first, superseded turns left out; `cursor` continues a previous page. Throws InvalidCursor. */
  pageTurns(sessionId: string, limit: number, cursor?: string): Promise<TurnPage>;
  /** A `pageTurns` cursor that continues right after the turn `turnId`. */
  cursorAfter(sessionId: string, turnId: string): string;
  /**
   * The turn `turnId` (first, when it exists) and then the turns created before it, newest first, at most `limit`
   * of those (paged internally by a strongly consistent Query: the turn was usually written moments ago). Only the
   * fields the model context is built from are read (ContextTurn). `firstPage`: how many turns the first read asks
   * for (default a full page); the pages after it are full.
   */
  turnsUpTo(sessionId: string, turnId: string, limit: number, firstPage?: number): AsyncIterable<ContextTurn>;
  /**
   * Records a stop request for a turn. It is an item of its own, not a field of the turn: a turn is written only by
   * the region that generates it (global tables resolve concurrent writes to one item by last writer wins).
   */
  requestStop(sessionId: string, turnId: string, at: string): Promise<void>;
  /** Whether a stop was requested for the turn (strongly consistent read). */
  stopRequested(sessionId: string, turnId: string): Promise<boolean>;
  /** Stop request, watchers and acknowledgements of a turn in one strongly consistent read (the worker polls it). */
  turnControl(sessionId: string, turnId: string): Promise<TurnControl>;
  /** Asks the turn's worker to stream the turn to one more connection (an item of the resuming region's own). */
  watchTurn(sessionId: string, turnId: string, watcher: TurnWatcher): Promise<void>;
  /** The worker's answer to a watcher: it streams to that connection from now on (an item of the worker's own). */
  acknowledgeWatcher(sessionId: string, turnId: string, connectionId: string, at: string): Promise<void>;
  /** Claims the generation of a streaming turn; undefined when another worker claimed it or it is closed. */
  startGeneration(sessionId: string, turnId: string, at: string): Promise<Turn | undefined>;
  /**
   * Saves the text delivered so far on a turn that is still streaming (a checkpoint: a reconnecting client reads
   * it from history, and it survives a crashed worker); false when the turn is no longer streaming.
   */
  saveProgress(sessionId: string, turnId: string, text: string, at: string): Promise<boolean>;
  /** Closes a streaming turn; false when it was already closed. */
  finishTurn(sessionId: string, turnId: string, result: TurnResult): Promise<boolean>;
  /** Marks `turnId` replaced by `newTurnId` unless it already was; returns the turn that replaces it. */
  supersede(sessionId: string, turnId: string, newTurnId: string, at: string): Promise<string>;
  // ---- edit and continue (./edit.ts, ./continue.ts) ----
  /** Marks a turn that is not streaming as dropped by the edit `byTurnId`; false when it was dropped already or streams. */
  dropTurn(sessionId: string, turnId: string, byTurnId: string, at: string): Promise<boolean>;
  /**
   * Reopens an ended answer for `continue`: status `streaming` again, owned by this region and connection, claimable
   * by one worker; false when the turn changed since it was read (`seenUpdatedAt`), e.g. another tab continued it.
   */
  reopenTurn(sessionId: string, turnId: string, seenUpdatedAt: string, owner: { region: string; connectionId: string; at: string }): Promise<boolean>;
  /** Deletes what was asked of the turn's earlier generation (stop, watchers, acknowledgements) before it goes on. */
  clearTurnControl(sessionId: string, turnId: string): Promise<void>;

  // Conversation-level changes (rename, delete: ./conversations.ts).
  /** Sets a session's title; false when the session does not exist (nothing is created). */
  renameSession(sessionId: string, title: string): Promise<boolean>;
  /** Every turn of a session, replaced answers included, oldest first (strongly consistent). */
  allTurns(sessionId: string): Promise<Turn[]>;
  /**
   * Asks a streaming turn's worker to stop and then erase the turn: its session is being deleted. A stop request
   * that says so (an item of the deleting region's own, like requestStop's).
   */
  requestErase(sessionId: string, turnId: string, at: string): Promise<void>;
  /** Whether the turn's stop request asks for the turn to be erased (strongly consistent read). */
  eraseRequested(sessionId: string, turnId: string): Promise<boolean>;
  /**
   * Deletes every item of a session (its own item, turns, control items), except, for each of `liveTurns`, the turn
   * and its erase request: its worker still generates it, ends it once (`turn.done`) and then erases both (eraseTurn).
   */
  eraseSession(sessionId: string, liveTurns: readonly string[]): Promise<void>;
  /** Deletes a turn and all its control items (stop or erase request, watchers, acknowledgements). */
  eraseTurn(sessionId: string, turnId: string): Promise<void>;
}

export class InvalidCursor extends Error {
  override name = "InvalidCursor";
}

// ---- per-user bookkeeping ------------------------------------------------------------------------------------

/** What a clientMessageId started: a duplicate re-announces it. */
export interface MessageClaim {
  userId: string;
  clientMessageId: string;
  sessionId: string;
  userTurnId: string;
  assistantTurnId: string;
  createdAt: string;
}

export interface UserLedger {
  getClaim(userId: string, clientMessageId: string): Promise<MessageClaim | undefined>;
  /** Claims a clientMessageId; returns the existing claim when it was claimed before. */
  claim(claim: MessageClaim): Promise<MessageClaim | "claimed">;
  releaseClaim(userId: string, clientMessageId: string): Promise<void>;
  /** Counts one message in the user's current minute; false when `max` were already counted. */
  countMessage(userId: string, minuteKey: string, max: number): Promise<boolean>;
  /** Takes back one counted message (a duplicate or refused send counted it while checking in parallel). */
  uncountMessage(userId: string, minuteKey: string): Promise<void>;
  // The per-user budgets below (and the message counter above) live in the home region, whichever region asks:
  // counters that every region updated in its own replica would give a user N times the limit with N regions.
  /** Reserves one of the user's concurrent answers for a turn; false when `max` are already generating. */
  acquireGeneration(userId: string, turnId: string, max: number): Promise<boolean>;
  releaseGeneration(userId: string, turnId: string): Promise<void>;
  /** The turns holding the user's concurrent-answer slots. */
  generationHolders(userId: string): Promise<string[]>;
  /** Adds a turn's input + output tokens to the user's count for the UTC day `dayKey` (YYYY-MM-DD). */
  addTokens(userId: string, dayKey: string, tokens: number): Promise<void>;
  /** The user's tokens counted for the UTC day `dayKey` (strongly consistent). */
  tokensUsed(userId: string, dayKey: string): Promise<number>;
}

/**
 * The operator's switch for new answers: while it is on, `send` and `regenerate` are refused with `busy` and
 * nothing starts. Answers already generating run on (a `stop` still ends them).
 */
export interface OperatorSwitch {
  answersPaused(): Promise<boolean>;
}

// ---- generation ----------------------------------------------------------------------------------------------

/** The payload the message handler passes to the worker (Lambda Invoke, InvocationType Event, or an SQS message). */
export interface GenerationJob {
  kind: "generate";
  sessionId: string;
  /** The assistant turn to generate (status `streaming`). */
  turnId: string;
  userTurnId: string;
  connectionId: string;
  userId: string;
  /** Epoch ms at which the client's frame arrived, for time-to-first-token. */
  receivedAt: number;
  /** `continue`: the turn's saved text is the model's prefill and the deltas for `connectionId` start at `firstSeq`. */
  continuation?: { firstSeq: number };
  /** false: admission took no slot of the connection's own (./quotas.ts), so the worker has none to release. */
  connectionSlot?: false;
  /**
   * The messages for the model, ending with the user message answered, when the message handler read them and they
   * fit the transport (./job-size.ts); absent, the worker reads them itself.
   */
  context?: ModelMessage[];
}

export interface GenerationQueue {
  enqueue(job: GenerationJob): Promise<void>;
}

// ---- model ---------------------------------------------------------------------------------------------------

export interface ModelMessage {
  role: Role;
  text: string;
}

export interface ModelRequest {
  messages: ModelMessage[];
  maxOutputTokens: number;
  signal: AbortSignal;
}

export type ModelStopReason = "end_turn" | "max_tokens" | "guardrail";

export type ModelEvent =
  | { type: "text"; text: string }
  | { type: "usage"; inputTokens?: number; outputTokens?: number }
  /** A guardrail intervened (input or output); the text the stream carries is its blocked message. */
  | { type: "guardrail" }
  | { type: "stop"; reason: ModelStopReason };

export interface ModelStream {
  readonly modelId: string;
  /** Errors before the first event are thrown by the iterator; `retryable` tells the caller it may try again. */
  stream(request: ModelRequest): AsyncIterable<ModelEvent>;
}

export class ModelError extends Error {
  override name = "ModelError";
  constructor(
    message: string,
    readonly code: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

// ---- cross-cutting -------------------------------------------------------------------------------------------

export type LogAttributes = Record<string, string | number | boolean | null | undefined>;

export interface Log {
  debug(message: string, attributes?: LogAttributes): void;
  info(message: string, attributes?: LogAttributes): void;
  warn(message: string, attributes?: LogAttributes): void;
  error(message: string, attributes?: LogAttributes): void;
}

export interface ChatMetrics {
  turnFinished(summary: {
    ttftMs: number | null;
    outputTokens: number;
    frames: number;
    stopReason: StopReason;
    cause: string;
  }): void;
  error(code: string): void;
}

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  now(): number;
  setTimer(ms: number, fn: () => void): TimerHandle;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}
