/**
 * The chat's behaviour: turns protocol frames into the conversation the page shows, and the user's actions into
 * frames. It owns no DOM: it drives a ConversationPort and a SessionsPort, so its rules read in one place.
 */
import type {
  ClientFrame,
  DeltaFrame,
  ErrorFrame,
  HistoryFrameOut,
  ServerFrame,
  SessionSummary,
  TurnDoneFrame,
  TurnRecord,
  TurnStartedFrame,
} from "../../../runtime/protocol";
import { MAX_TEXT_BYTES } from "../../../runtime/protocol";
import { DeltaSequencer } from "./sequencer";
import { describeError } from "./errors";
import { canContinue, foldRecord, statusFromStopReason, turnsFromHistory, type TurnView } from "./turns";
import { HISTORY_PAGE_BURST, HISTORY_PAGES_PER_SECOND, Pacer, systemTimers, type TimerHandle, type Timers } from "./pacing";

export interface ConversationSnapshot {
  sessionId: string | null;
  turns: readonly TurnView[];
  /** The answer being generated, if any. */
  generatingKey: string | null;
  /** The answer that Regenerate applies to (the last one, when nothing is generating). */
  lastAnswerKey: string | null;
  loadingHistory: boolean;
  moreHistory: boolean;
}

export interface ConversationPort {
  render(snapshot: ConversationSnapshot): void;
  /** Streaming text of one answer (the whole text so far). */
  streamText(key: string, text: string, added: string): void;
  /** A message not tied to a turn (e.g. rate limited before anything started). */
  notice(message: string): void;
  /** Words for a screen reader only (the page shows nothing new). */
  announce?(message: string): void;
}

export interface SessionsPort {
  render(sessions: readonly SessionSummary[], currentSessionId: string | null): void;
}

export interface ChatOptions {
  send: (frame: ClientFrame) => void;
  answered: (clientMessageId: string) => void;
  conversation: ConversationPort;
  sessions: SessionsPort;
  /** A message was refused before it started (e.g. rate limited): its text can go back in the message box. */
  onSendRefused?: (text: string) => void;
  /** The open session changed (new chat, opened from the list, or created by the first message). */
  onSessionChange: (sessionId: string | null) => void;
  newId?: () => string;
  /** The clock and timers (tests move time themselves). */
  timers?: Timers;
}

/**
 * History pages read automatically when a session opens (the runtime pages oldest first, so the newest turns are
 * on the last page: the page follows the cursor to the end); past this many, "Load more messages" continues.
 */
const AUTO_PAGES = 100;
/** A gap in a turn's seq that does not close within this time is repaired from history. */
const GAP_REPAIR_MS = 2000;
/** How often a turn still `streaming` in history (generated for an earlier connection) is re-read. */
const STREAMING_POLL_MS = 1500;

/** The server lists at most this many sessions (runtime/chat/read.ts SESSIONS_LIMIT). */
const SESSIONS_SHOWN = 50;

/** A live turn with no frame for this long is checked against history (its deltas may go to an old connection). */
const STALL_MS = 4000;
/** Re-reads of a turn that stays `streaming` in history before the page stops waiting for it. */
const MAX_STREAMING_POLLS = 60;

interface LiveTurn {
  sequencer: DeltaSequencer;
  gapTimer: TimerHandle | null;
  stallTimer: TimerHandle | null;
  stalled: boolean;
}

/** Where a history page read began: a re-read of the turns from one of them on starts there. */
interface PageStart {
  /** The cursor it was asked with (undefined: the first page). */
  cursor?: string;
  /** Its first turn, when the page begins with one (not with the rest of a turn cut by the page before). */
  first?: string;
}

/** The open session's history as read so far, and the read in progress. */
interface HistoryRead {
  sessionId: string;
  /** What the conversation is built from. */
  records: Map<string, TurnRecord>;
  /**
   * A re-read's pages until it has read to the end, when they replace `records` (so the view never shows a
   * conversation half read again, also when a page is refused); null: pages fold into `records` as they come.
   */
  incoming: Map<string, TurnRecord> | null;
  pages: number;
  starts: PageStart[];
  /** The next page's cursor (undefined once read to the end). */
  cursor?: string;
  loading: boolean;
  /** The cursor of the page asked for, which request that was, and the last request sent (one may wait for the pace). */
  asked?: string;
  request: number;
  sent: number;
  /** The request in flight when the frame budget refused a frame (it may have been that one). */
  refused?: number;
  /** A re-read from a later page: the turn its first page should begin with (else it reads from the start). */
  expectFirst?: string;
}

export class ChatController {
  private sessionId: string | null = null;
  private turns: TurnView[] = [];
  private sessionList: SessionSummary[] = [];
  private readonly live = new Map<string, LiveTurn>();
  /** Messages (sends and edits) not yet answered, with their frame (asked again after the frame budget's refusal). */
  private readonly pendingSends = new Map<string, { userKey: string; answerKey: string; epoch: number; frame: ClientFrame }>();
  /** Counts reconnections: a message sent on an earlier connection streams to that one unless resumed here. */
  private epoch = 0;
  /** A regenerate not yet answered: the answer it replaces (`turnId`) as shown before, put back if it is refused. */
  private pendingRegenerate: { answerKey: string; turnId: string; previous: TurnView } | null = null;
  // ---- edit, continue and versions of an answer ----
  /** Edits not yet answered: the turns shown before, put back if the edit is refused. */
  private readonly pendingEdits = new Map<string, TurnView[]>();
  /** A continue not yet answered: the answer as it was, put back if the continue is refused. */
  private pendingContinue: { turnId: string; previous: TurnView } | null = null;
  /** The last seq this page applied of each ended answer (a continue goes on from it). */
  private readonly lastSeqs = new Map<string, number>();
  /** The version the reader chose to see, per user turn id (default: the latest). */
  private readonly chosenVersions = new Map<string, number>();
  private generatingKey: string | null = null;
  private stopWanted = false;
  private history: HistoryRead | null = null;
  private pollTimer: TimerHandle | null = null;
  /** History pages go out at this pace; `pageTimer` holds the one waiting for it. */
  private readonly pagePacer = new Pacer(HISTORY_PAGE_BURST, HISTORY_PAGES_PER_SECOND);
  private pageTimer: TimerHandle | null = null;
  /** Asks again what the frame budget may have refused (retryAfterBudget). */
  private budgetRetry: TimerHandle | null = null;
  private streamingPolls = 0;
  /** The session whose absence from the list is being checked against history (./controller.ts checkStillListed). */
  private goneCheck: string | null = null;
  /** The history read in flight was sent to check that the open conversation still exists: its not_found closes it. */
  private confirmingGone = false;
  /** A not_found naming nothing came while the open conversation's history was read: the next list decides. */
  private goneSuspect: string | null = null;
  private readonly newId: () => string;
  private readonly timers: Timers;

  constructor(private readonly options: ChatOptions) {
    this.newId = options.newId ?? (() => crypto.randomUUID());
    this.timers = options.timers ?? systemTimers;
  }

  get currentSessionId(): string | null {
    return this.sessionId;
  }

  get isGenerating(): boolean {
    return this.generatingKey !== null;
  }

  // ---- user actions ------------------------------------------------------------------------------------------

  /** Returns a reason when the message cannot be sent, or null when it was sent (or queued). */
  sendMessage(text: string): string | null {
    const trimmed = text.trim();
    if (trimmed === "") return "Type a message first.";
    if (new TextEncoder().encode(trimmed).length > MAX_TEXT_BYTES) {
      return `That message is too long (the limit is ${MAX_TEXT_BYTES / 1024} KB).`;
    }
    if (this.generatingKey !== null) return "Wait for the answer to finish, or stop it.";
    const clientMessageId = this.newId();
    const userKey = `user:${clientMessageId}`;
    const answerKey = `answer:${clientMessageId}`;
    const createdAt = new Date().toISOString();
    this.turns.push({ key: userKey, role: "user", text: trimmed, status: "pending", createdAt });
    this.turns.push({ key: answerKey, role: "assistant", text: "", status: "pending", parentKey: userKey, createdAt });
    const frame: ClientFrame = { action: "send", clientMessageId, text: trimmed, ...(this.sessionId !== null ? { sessionId: this.sessionId } : {}) };
    this.pendingSends.set(clientMessageId, { userKey, answerKey, epoch: this.epoch, frame });
    this.generatingKey = answerKey;
    this.stopWanted = false;
    this.options.send(frame);
    this.render();
    return null;
  }

  stop(): void {
    const turn = this.generatingKey === null ? undefined : this.find(this.generatingKey);
    if (turn === undefined) return;
    // Sent as soon as turn.started names the turn, and again if the frame budget refused it (retryAfterBudget).
    this.stopWanted = true;
    if (turn.turnId !== undefined) this.options.send({ action: "stop", turnId: turn.turnId });
  }

  /** The answer being generated, when the user asked to stop it and the server has named it. */
  private stopToRepeat(): string | undefined {
    if (!this.stopWanted || this.generatingKey === null) return undefined;
    return this.find(this.generatingKey)?.turnId;
  }

  regenerate(): void {
    const key = this.lastAnswerKey();
    const turn = key === null ? undefined : this.find(key);
    if (turn?.turnId === undefined || this.generatingKey !== null) return;
    const answerKey = `answer:${this.newId()}`;
    const previous = turn.version ?? { index: 1, count: 1 };
    const target = turn.version?.latestTurnId ?? turn.turnId;
    const parentTurnId = this.userTurnIdOf(turn);
    if (parentTurnId !== undefined) this.chosenVersions.delete(parentTurnId);
    const index = this.turns.indexOf(turn);
    this.turns[index] = {
      key: answerKey,
      role: "assistant",
      text: "",
      status: "pending",
      parentKey: turn.parentKey,
      version: { index: previous.count + 1, count: previous.count + 1 },
      createdAt: new Date().toISOString(),
    };
    this.pendingRegenerate = { answerKey, turnId: target, previous: turn };
    this.generatingKey = answerKey;
    this.stopWanted = false;
    this.options.send({ action: "regenerate", turnId: target });
    this.render();
  }

  /**
   * Replaces a sent message with `text`: the turns after it go, and the new text is answered. Returns a reason when
   * it cannot be edited, or null when the edit was sent (or there was nothing to change).
   */
  editMessage(key: string, text: string): string | null {
    const trimmed = text.trim();
    if (trimmed === "") return "Type a message first.";
    if (new TextEncoder().encode(trimmed).length > MAX_TEXT_BYTES) return `That message is too long (the limit is ${MAX_TEXT_BYTES / 1024} KB).`;
    if (this.generatingKey !== null) return "Wait for the answer to finish, or stop it, then edit.";
    const index = this.turns.findIndex((t) => t.key === key);
    const turn = this.turns[index];
    if (turn?.role !== "user" || turn.turnId === undefined) return "This message cannot be edited yet; try again in a moment.";
    if (trimmed === turn.text) return null;
    const clientMessageId = this.newId();
    const userKey = `user:${clientMessageId}`;
    const answerKey = `answer:${clientMessageId}`;
    const createdAt = new Date().toISOString();
    this.pendingEdits.set(clientMessageId, this.turns);
    this.turns = [
      ...this.turns.slice(0, index),
      { key: userKey, role: "user", text: trimmed, status: "pending", createdAt },
      { key: answerKey, role: "assistant", text: "", status: "pending", parentKey: userKey, createdAt },
    ];
    const frame: ClientFrame = { action: "edit", turnId: turn.turnId, text: trimmed, clientMessageId };
    this.pendingSends.set(clientMessageId, { userKey, answerKey, epoch: this.epoch, frame });
    this.generatingKey = answerKey;
    this.stopWanted = false;
    this.options.send(frame);
    this.render();
    return null;
  }

  /** Generates more of an answer that hit the length limit or was stopped: the same answer goes on. */
  continueAnswer(key: string): void {
    const turn = this.find(key);
    if (turn?.turnId === undefined || this.generatingKey !== null || !canContinue(turn)) return;
    this.pendingContinue = { turnId: turn.turnId, previous: { ...turn } };
    turn.status = "pending";
    delete turn.error;
    this.generatingKey = key;
    this.stopWanted = false;
    this.options.send({ action: "continue", turnId: turn.turnId, afterSeq: this.lastSeqs.get(turn.turnId) ?? -1 });
    this.render();
  }

  /** Shows another version of a regenerated answer (1-based `index` of `version.count`). */
  showVersion(key: string, index: number): void {
    const turn = this.find(key);
    const parentTurnId = turn === undefined ? undefined : this.userTurnIdOf(turn);
    if (parentTurnId === undefined || this.history === null || this.generatingKey !== null) return;
    this.chosenVersions.set(parentTurnId, index);
    this.applyHistory();
  }

  /** Opens a session from the list (null: a new, empty chat). */
  openSession(sessionId: string | null): void {
    if (sessionId === this.sessionId && sessionId !== null) return;
    this.resetConversation();
    this.sessionId = sessionId;
    this.options.onSessionChange(sessionId);
    if (sessionId !== null) this.readHistory(sessionId);
    this.render();
    this.options.sessions.render(this.sessionList, this.sessionId);
  }

  // ---- conversation-level actions (rename, delete, export) -------------------------------------------------------

  /** The open conversation as the session list describes it (undefined for a new chat, or before the list came). */
  get currentSession(): SessionSummary | undefined {
    return this.sessionList.find((s) => s.sessionId === this.sessionId);
  }

  /** Renames at once in the list; the server's `sessions` answer then confirms it (or puts the old title back). */
  renameSession(sessionId: string, title: string): void {
    const session = this.sessionList.find((s) => s.sessionId === sessionId);
    if (session === undefined) return;
    this.sessionList = this.sessionList.map((s) => (s.sessionId === sessionId ? { ...s, title } : s));
    this.options.sessions.render(this.sessionList, this.sessionId);
    this.options.send({ action: "rename", sessionId, title });
  }

  /** Removes the conversation from the list at once (and closes it when open); the server erases it everywhere. */
  deleteSession(sessionId: string): void {
    this.sessionList = this.sessionList.filter((s) => s.sessionId !== sessionId);
    this.options.send({ action: "delete", sessionId });
    if (this.sessionId === sessionId) this.openSession(null);
    else this.options.sessions.render(this.sessionList, this.sessionId);
  }

  /** The open conversation's turns for an export: as history returned them, and as shown for turns it has not yet. */
  exportTurns(): TurnRecord[] {
    const records = this.history?.sessionId === this.sessionId ? this.history?.records : undefined;
    return this.turns
      .filter((t) => t.turnId !== undefined && this.sessionId !== null)
      .map((t) => {
        const stored = records?.get(t.turnId!);
        const record: TurnRecord = { ...stored, turnId: t.turnId!, sessionId: this.sessionId!, role: t.role, text: t.text, status: t.status === "pending" ? "streaming" : t.status, createdAt: stored?.createdAt ?? "", updatedAt: stored?.updatedAt ?? "" };
        if (t.usage !== undefined) record.usage = t.usage;
        return record;
      });
  }

  /**
   * The open conversation is gone (deleted in another tab or device, or by this one before the page knew): the page
   * says so and opens a new chat.
   */
  private sessionGone(): void {
    const sessionId = this.sessionId;
    if (sessionId === null) return;
    this.goneCheck = null;
    this.goneSuspect = null;
    this.sessionList = this.sessionList.filter((s) => s.sessionId !== sessionId);
    this.openSession(null);
    this.options.conversation.notice("This conversation was deleted, maybe in another tab or on another device. Start a new chat or pick another conversation.");
  }

  /** A `sessions` list without the open conversation: asks history whether it still exists (not_found: it is gone). */
  private checkStillListed(): void {
    const sessionId = this.sessionId;
    const suspect = sessionId !== null && this.goneSuspect === sessionId;
    this.goneSuspect = null;
    if (sessionId === null || this.sessionList.some((s) => s.sessionId === sessionId)) return;
    // The list holds the newest SESSIONS_SHOWN only: an older conversation may simply not be in it (unless its
    // history read was just refused).
    if (!suspect && (this.sessionList.length >= SESSIONS_SHOWN || this.goneCheck === sessionId)) return;
    this.goneCheck = sessionId;
    this.readHistory(sessionId);
    this.confirmingGone = true;
  }

  loadMore(): void {
    if (this.history?.cursor !== undefined && !this.history.loading) this.askPage(this.history.cursor);
  }

  /**
   * A (re)opened connection: refresh the list, re-read the open session, which may have moved on, and resume every
   * answer that was streaming here: the server sends what this page lacks, then the live tail (nothing is lost or
   * shown twice: the seq and the text length say what the page has).
   */
  connected(reconnected: boolean): void {
    this.options.send({ action: "sessions" });
    if (reconnected) {
      this.epoch += 1;
      let resumed = false;
      for (const [turnId, live] of this.live) {
        const turn = this.findByTurnId(turnId);
        if (turn === undefined) continue;
        this.options.send({ action: "resume", turnId, afterSeq: live.sequencer.expected - 1, offset: turn.text.length });
        this.watch(turnId);
        resumed = true;
      }
      if (resumed) this.options.conversation.announce?.("Reconnected. The answer continues.");
      // A regenerate has no id to re-send it by: whether it started is for history to say.
      if (this.pendingRegenerate !== null) {
        const { answerKey, previous } = this.pendingRegenerate;
        this.pendingRegenerate = null;
        const index = this.turns.findIndex((t) => t.key === answerKey);
        if (index >= 0) this.turns[index] = previous;
        if (this.generatingKey === answerKey) this.generatingKey = null;
        this.render();
      }
    }
    if (this.sessionId !== null && (reconnected || this.history === null)) this.readHistory(this.sessionId);
  }

  // ---- frames from the server ----------------------------------------------------------------------------------

  handleFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case "turn.started":
        return this.onTurnStarted(frame);
      case "delta":
        return this.onDelta(frame);
      case "turn.done":
        return this.onTurnDone(frame);
      case "error":
        return this.onError(frame);
      case "sessions":
        this.sessionList = [...frame.sessions].sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0));
        this.options.sessions.render(this.sessionList, this.sessionId);
        this.checkStillListed();
        return;
      case "history":
        return this.onHistory(frame);
      case "pong":
        return;
    }
  }

  private onTurnStarted(frame: TurnStartedFrame): void {
    if (frame.continues !== undefined) return this.onContinued(frame, frame.continues);
    this.options.answered(frame.clientMessageId);
    if (this.pendingEdits.delete(frame.clientMessageId) && frame.replacesTurnId !== undefined && this.history !== null) {
      // What history holds from the edited message on is gone (the turn ids sort by time).
      for (const records of [this.history.records, this.history.incoming ?? new Map<string, TurnRecord>()]) {
        for (const turnId of [...records.keys()]) {
          if (turnId >= frame.replacesTurnId && turnId !== frame.userTurnId && turnId !== frame.turnId) records.delete(turnId);
        }
      }
    }
    const pending = this.pendingSends.get(frame.clientMessageId);
    let answerKey: string | undefined;
    if (pending !== undefined) {
      this.pendingSends.delete(frame.clientMessageId);
      answerKey = pending.answerKey;
      const user = this.find(pending.userKey);
      if (user !== undefined) {
        user.status = "complete";
        if (frame.userTurnId !== undefined) user.turnId = frame.userTurnId;
      }
    } else if (this.pendingRegenerate !== null) {
      answerKey = this.pendingRegenerate.answerKey;
      this.pendingRegenerate = null;
    } else {
      // A repeat (the same clientMessageId re-sent after a reconnect) or a turn this page lost track of: if it is
      // in the open session and not shown yet, history will show it (and follow it while it streams).
      if (frame.sessionId === this.sessionId && this.findByTurnId(frame.turnId) === undefined) this.repairFromHistory(frame.turnId);
      return;
    }
    const answer = this.find(answerKey);
    if (answer === undefined) return;
    answer.turnId = frame.turnId;
    answer.region = frame.region;
    if (answer.status === "pending") answer.status = "streaming";
    this.live.set(frame.turnId, { sequencer: new DeltaSequencer(), gapTimer: null, stallTimer: null, stalled: false });
    this.watch(frame.turnId);
    // Sent before a reconnect and announced after it: the answer streams to the old connection; follow it here.
    if (pending !== undefined && pending.epoch !== this.epoch) this.options.send({ action: "resume", turnId: frame.turnId, afterSeq: -1, offset: 0 });
    if (this.sessionId !== frame.sessionId) {
      const isNew = this.sessionId === null;
      this.sessionId = frame.sessionId;
      this.options.onSessionChange(frame.sessionId);
      if (isNew) this.options.send({ action: "sessions" });
    }
    if (this.stopWanted && this.generatingKey === answerKey) this.options.send({ action: "stop", turnId: frame.turnId });
    this.render();
  }

  private onContinued(frame: TurnStartedFrame, continues: { seq: number; offset: number }): void {
    if (this.pendingContinue?.turnId === frame.turnId) this.pendingContinue = null;
    const turn = this.findByTurnId(frame.turnId);
    if (turn === undefined) {
      if (frame.sessionId === this.sessionId) this.repairFromHistory(frame.turnId);
      return;
    }
    const short = turn.text.length < continues.offset;
    turn.text = turn.text.slice(0, continues.offset);
    turn.status = "streaming";
    turn.region = frame.region;
    delete turn.stopReason;
    this.generatingKey = turn.key;
    this.live.set(frame.turnId, { sequencer: new DeltaSequencer(continues.seq), gapTimer: null, stallTimer: null, stalled: false });
    this.watch(frame.turnId);
    if (this.stopWanted) this.options.send({ action: "stop", turnId: frame.turnId });
    this.render();
    // This page had less of the answer than the server (another tab continued it before): history has the rest.
    if (short) this.repairFromHistory(frame.turnId);
  }

  private onDelta(frame: DeltaFrame): void {
    const live = this.live.get(frame.turnId);
    const turn = this.findByTurnId(frame.turnId);
    if (live === undefined || turn === undefined) return;
    const result = live.sequencer.accept(frame);
    this.watch(frame.turnId);
    if (result.kind === "append") {
      if (live.gapTimer !== null && !live.sequencer.hasGap) {
        this.timers.clearTimeout(live.gapTimer);
        live.gapTimer = null;
      }
      turn.text += result.text;
      turn.status = "streaming";
      this.options.conversation.streamText(turn.key, turn.text, result.text);
    } else if (result.kind === "held" && live.gapTimer === null) {
      live.gapTimer = this.timers.setTimeout(() => this.repairFromHistory(frame.turnId), GAP_REPAIR_MS);
    }
  }

  private onTurnDone(frame: TurnDoneFrame): void {
    const turn = this.findByTurnId(frame.turnId);
    const live = this.live.get(frame.turnId);
    if (live !== undefined) this.lastSeqs.set(frame.turnId, live.sequencer.expected - 1);
    this.dropLive(frame.turnId);
    if (turn === undefined) return;
    turn.status = statusFromStopReason(frame.stopReason);
    turn.stopReason = frame.stopReason;
    turn.usage = frame.usage;
    turn.ttftMs = frame.ttftMs;
    if (frame.stopReason === "guardrail" && turn.text === "") turn.error = "The answer was blocked by the content guardrail.";
    if (frame.stopReason === "error") turn.error ??= "The model failed while answering.";
    if (this.generatingKey === turn.key) this.generatingKey = null;
    this.render();
    // A gap, or a new version of an answer (history then holds every version, for "1 of N").
    if (live?.sequencer.hasGap || (turn.version?.count ?? 1) > 1) this.repairFromHistory(frame.turnId);
    // The list is ordered by last activity: this session has just become the most recent.
    if (this.sessionId !== null && this.sessionList[0]?.sessionId !== this.sessionId) this.options.send({ action: "sessions" });
  }

  private onError(frame: ErrorFrame): void {
    const namesNothing = frame.turnId === undefined && frame.clientMessageId === undefined;
    if (frame.code === "not_found" && namesNothing && this.history?.loading === true && this.history.sessionId === this.sessionId) {
      // The read sent to check that the conversation still exists was refused: it is gone.
      if (this.confirmingGone) return this.sessionGone();
      // Otherwise the refusal may be another request's (a rename or delete of another conversation, a continue or a
      // regenerate: they name nothing either), so the session list decides whether to check (checkStillListed).
      this.goneSuspect = this.sessionId;
      this.options.send({ action: "sessions" });
    }
    // The frame budget's refusal names nothing: what this page still waits for is asked again (no words for that).
    const retrying = frame.code === "rate_limited" && namesNothing && frame.retryAfterMs !== undefined && this.retryAfterBudget(frame.retryAfterMs);
    // A message into a conversation that is gone: after the usual words, check whether the conversation still exists.
    if (frame.code === "not_found" && frame.clientMessageId !== undefined && this.pendingSends.has(frame.clientMessageId) && this.sessionId !== null) {
      this.goneCheck = null;
      this.sessionList = this.sessionList.filter((s) => s.sessionId !== this.sessionId);
      this.checkStillListed();
    }
    const text = describeError(frame);
    const beforeEdit = frame.clientMessageId === undefined ? undefined : this.pendingEdits.get(frame.clientMessageId);
    if (beforeEdit !== undefined && this.pendingSends.has(frame.clientMessageId!)) {
      // The edit was refused before it started: the conversation comes back as it was.
      this.options.answered(frame.clientMessageId!);
      this.pendingEdits.delete(frame.clientMessageId!);
      this.pendingSends.delete(frame.clientMessageId!);
      this.turns = beforeEdit;
      this.generatingKey = null;
      this.render();
      this.options.conversation.notice(text);
      return;
    }
    const refusedContinue = this.pendingContinue;
    // Refusals of a continue name no turn (an error naming a turn reads as its end); the one awaited is this one.
    const namesContinue = frame.clientMessageId === undefined && (frame.turnId === undefined || frame.turnId === refusedContinue?.turnId);
    if (refusedContinue !== null && namesContinue && this.find(refusedContinue.previous.key)?.status === "pending") {
      // The continue was refused before it started: the answer stays as it was.
      this.pendingContinue = null;
      const index = this.turns.findIndex((t) => t.key === refusedContinue.previous.key);
      if (index >= 0) this.turns[index] = refusedContinue.previous;
      this.generatingKey = null;
      this.render();
      this.options.conversation.notice(text);
      return;
    }
    if (frame.clientMessageId !== undefined) {
      this.options.answered(frame.clientMessageId);
      const pending = this.pendingSends.get(frame.clientMessageId);
      if (pending !== undefined) {
        this.pendingSends.delete(frame.clientMessageId);
        const user = this.find(pending.userKey);
        if (user !== undefined) {
          user.status = "error";
          user.error = text;
          this.options.onSendRefused?.(user.text);
        }
        this.turns = this.turns.filter((t) => t.key !== pending.answerKey);
        if (this.generatingKey === pending.answerKey) this.generatingKey = null;
        this.render();
        return;
      }
    }
    const turn = frame.turnId === undefined ? undefined : this.findByTurnId(frame.turnId);
    if (turn !== undefined) {
      turn.error = text;
      if (turn.status === "pending" || turn.status === "streaming") turn.status = "error";
      if (this.generatingKey === turn.key) this.generatingKey = null;
      this.dropLive(frame.turnId!);
      this.render();
      return;
    }
    // Refusals of a regenerate name no turn, as a continue's do (a server before that named the answer to replace).
    const namesRegenerate = frame.clientMessageId === undefined && (frame.turnId === undefined || frame.turnId === this.pendingRegenerate?.turnId);
    if (this.pendingRegenerate !== null && namesRegenerate) {
      // The regenerate was refused before a turn started (e.g. busy): the previous answer comes back.
      const { answerKey, previous } = this.pendingRegenerate;
      this.pendingRegenerate = null;
      const index = this.turns.findIndex((t) => t.key === answerKey);
      if (index >= 0) this.turns[index] = previous;
      this.generatingKey = null;
      this.render();
      this.options.conversation.notice(text);
      return;
    }
    if (!retrying) this.options.conversation.notice(text);
  }

  private onHistory(frame: HistoryFrameOut): void {
    const read = this.history;
    if (read === null || frame.sessionId !== read.sessionId || frame.sessionId !== this.sessionId) return;
    // It exists.
    this.confirmingGone = false;
    this.goneSuspect = null;
    // The page before, again (a retry after the frame budget's refusal crossed its answer): already applied.
    if (read.loading && frame.cursor !== undefined && frame.cursor === read.asked) return;
    const first = frame.turns[0];
    if (read.expectFirst !== undefined) {
      const expected = read.expectFirst;
      delete read.expectFirst;
      // That page no longer begins where it did (its first turn is gone): read again from the start.
      if (first?.turnId !== expected) return this.readHistory(read.sessionId);
    }
    const into = read.incoming ?? read.records;
    for (const record of frame.turns) into.set(record.turnId, foldRecord(into.get(record.turnId), record));
    read.starts.push({ cursor: read.asked, ...(first !== undefined && !((first.textOffset ?? 0) > 0) ? { first: first.turnId } : {}) });
    read.pages += 1;
    read.cursor = frame.cursor;
    read.loading = false;
    // A turn cut at the page's end is read to its end, so no answer shows cut short.
    const cut = frame.turns[frame.turns.length - 1]?.partial === true;
    if (frame.cursor !== undefined && (read.pages < AUTO_PAGES || cut)) this.askPage(frame.cursor);
    else if (read.incoming !== null) {
      read.records = read.incoming;
      read.incoming = null;
    }
    if (read.incoming === null) this.applyHistory();
  }

  // ---- internals -----------------------------------------------------------------------------------------------

  /**
   * Reads the session's history from the start, or again from the page where `turnId` begins (the turns before it
   * stay as read): a repair or a poll about one turn, usually the last, then reads a page or two, not all of them.
   */
  private readHistory(sessionId: string, turnId?: string): void {
    const read = this.history?.sessionId === sessionId ? this.history : null;
    if (read === null) {
      this.history = { sessionId, records: new Map(), incoming: null, pages: 0, starts: [], loading: true, request: 0, sent: 0 };
      return this.askPage(undefined);
    }
    let from = turnId === undefined ? 0 : read.starts.length - 1;
    while (from > 0 && !(read.starts[from]!.first !== undefined && read.starts[from]!.first! <= turnId!)) from -= 1;
    from = Math.max(from, 0);
    const start = read.starts[from];
    const first = from > 0 ? start?.first : undefined;
    read.incoming = new Map(first === undefined ? [] : [...read.records].filter(([id]) => id < first));
    read.pages = from;
    read.starts = read.starts.slice(0, from);
    if (first !== undefined) read.expectFirst = first;
    else delete read.expectFirst;
    this.askPage(first !== undefined ? start?.cursor : undefined);
  }

  /** Asks for the page at `cursor` of the read in progress, now or when the page pace allows. */
  private askPage(cursor: string | undefined): void {
    const read = this.history;
    if (read === null) return;
    this.confirmingGone = false;
    read.loading = true;
    read.request += 1;
    if (cursor === undefined) delete read.asked;
    else read.asked = cursor;
    if (this.pageTimer !== null) this.timers.clearTimeout(this.pageTimer);
    this.pageTimer = null;
    this.sendPage(read);
  }

  private sendPage(read: HistoryRead): void {
    const wait = this.pagePacer.take(this.timers.now());
    if (wait > 0) {
      this.pageTimer = this.timers.setTimeout(() => {
        this.pageTimer = null;
        if (this.history === read && read.loading) this.sendPage(read);
      }, wait);
      return;
    }
    read.sent = read.request;
    this.options.send({ action: "history", sessionId: read.sessionId, ...(read.asked !== undefined ? { cursor: read.asked } : {}) });
  }

  /**
   * The frame budget refused a frame (runtime/chat/dispatch.ts, `rate_limited` naming nothing: the frame was not
   * read). It may be the history page in flight or a message, so both are asked again once the budget allows; a
   * repeat is harmless (a page's is dropped in onHistory, a message's by its clientMessageId on the server). A
   * regenerate or continue is put back by its own refusal (onError). Answers whether anything will be asked again.
   */
  private retryAfterBudget(retryAfterMs: number): boolean {
    const read = this.history;
    // A page still waiting for the pace was not sent, so it was not refused.
    const page = read !== null && read.loading && read.sent === read.request;
    if (page) read.refused = read.request;
    if (!page && this.pendingSends.size === 0 && this.stopToRepeat() === undefined) return false;
    this.budgetRetry ??= this.timers.setTimeout(() => {
      this.budgetRetry = null;
      // Only a page still unanswered: an answer since has moved the read on.
      const now = this.history;
      if (now !== null && now.loading && now.refused === now.request && now.sent === now.request) this.sendPage(now);
      for (const pending of this.pendingSends.values()) this.options.send(pending.frame);
      // A stop is idempotent: asked again while its answer is still being generated.
      const stop = this.stopToRepeat();
      if (stop !== undefined) this.options.send({ action: "stop", turnId: stop });
    }, retryAfterMs);
    return true;
  }

  /**
   * History is the truth, except for a turn streaming live on this connection (its deltas are still arriving)
   * and local messages the server has not answered yet.
   */
  private applyHistory(): void {
    const history = this.history!;
    const fromHistory = turnsFromHistory(history.records.values(), this.chosenVersions);
    const merged = fromHistory.map((stored) => {
      const live = stored.turnId === undefined ? undefined : this.live.get(stored.turnId);
      const local = stored.turnId === undefined ? undefined : this.findByTurnId(stored.turnId);
      if (live === undefined || local === undefined) return stored;
      // Finished in history, or stalled here while history moved on: adopt history, keep what only the live
      // frames told (region, time to first token).
      if (stored.status !== "streaming" || (live.stalled && stored.text.length > local.text.length)) {
        this.dropLive(stored.turnId!);
        return { ...stored, region: local.region, ttftMs: local.ttftMs, stopReason: local.stopReason ?? stored.stopReason, usage: stored.usage ?? local.usage };
      }
      return local;
    });
    // An answer still generating for another connection (another tab, a reload, a reconnect): resume it here.
    for (const turn of merged) {
      if (turn.status !== "streaming" || turn.turnId === undefined || this.live.has(turn.turnId)) continue;
      this.live.set(turn.turnId, { sequencer: new DeltaSequencer(), gapTimer: null, stallTimer: null, stalled: false });
      this.options.send({ action: "resume", turnId: turn.turnId, afterSeq: -1, offset: turn.text.length });
      this.watch(turn.turnId);
    }
    const known = new Set(merged.map((t) => t.turnId));
    const localOnly = this.turns.filter(
      (t) => (t.turnId === undefined && t.status === "pending") || (t.turnId !== undefined && this.live.has(t.turnId) && !known.has(t.turnId)),
    );
    this.turns = [...merged, ...localOnly];
    this.pollWhileStreaming();
    const inFlight = this.turns.find((t) => t.role === "assistant" && (t.status === "pending" || t.status === "streaming"));
    this.generatingKey = inFlight !== undefined && this.streamingPolls < MAX_STREAMING_POLLS ? inFlight.key : null;
    this.render();
  }

  /** A turn generated for an earlier connection shows as `streaming` in history: re-read until it settles. */
  private pollWhileStreaming(): void {
    if (this.pollTimer !== null) this.timers.clearTimeout(this.pollTimer);
    this.pollTimer = null;
    const orphan = this.turns.find((t) => t.status === "streaming" && t.turnId !== undefined && (!this.live.has(t.turnId) || this.live.get(t.turnId)!.stalled));
    if (orphan === undefined) {
      this.streamingPolls = 0;
      return;
    }
    if (this.history?.cursor !== undefined || this.streamingPolls >= MAX_STREAMING_POLLS) return;
    this.streamingPolls += 1;
    const sessionId = this.history!.sessionId;
    // From the page where the turn begins: re-reading every page each time would spend the frame budget.
    this.pollTimer = this.timers.setTimeout(() => {
      this.pollTimer = null;
      if (this.sessionId === sessionId) this.readHistory(sessionId, orphan.turnId);
    }, STREAMING_POLL_MS);
  }

  /** (Re)arms the stall check of a live turn. */
  private watch(turnId: string): void {
    const live = this.live.get(turnId);
    if (live === undefined) return;
    live.stalled = false;
    if (live.stallTimer !== null) this.timers.clearTimeout(live.stallTimer);
    live.stallTimer = this.timers.setTimeout(() => {
      live.stalled = true;
      this.repairFromHistory(turnId);
    }, STALL_MS);
  }

  private dropLive(turnId: string): void {
    const live = this.live.get(turnId);
    if (live === undefined) return;
    if (live.gapTimer !== null) this.timers.clearTimeout(live.gapTimer);
    if (live.stallTimer !== null) this.timers.clearTimeout(live.stallTimer);
    this.live.delete(turnId);
  }

  private clearLive(): void {
    for (const turnId of [...this.live.keys()]) this.dropLive(turnId);
  }

  /** Re-reads history about one turn (a gap, a stall, a new version, an answer this page lost track of). */
  private repairFromHistory(turnId: string): void {
    if (this.sessionId !== null) this.readHistory(this.sessionId, turnId);
  }

  private resetConversation(): void {
    this.clearLive();
    for (const timer of [this.pollTimer, this.pageTimer, this.budgetRetry]) if (timer !== null) this.timers.clearTimeout(timer);
    this.pollTimer = null;
    this.pageTimer = null;
    this.budgetRetry = null;
    this.streamingPolls = 0;
    this.pendingSends.clear();
    this.pendingRegenerate = null;
    this.pendingEdits.clear();
    this.pendingContinue = null;
    this.chosenVersions.clear();
    this.generatingKey = null;
    this.turns = [];
    this.history = null;
    this.confirmingGone = false;
    this.goneSuspect = null;
  }

  private lastAnswerKey(): string | null {
    if (this.generatingKey !== null) return null;
    const last = this.turns[this.turns.length - 1];
    return last?.role === "assistant" && last.turnId !== undefined ? last.key : null;
  }

  /** The id of the user turn an answer answers (its parent key is a local key until the server named it). */
  private userTurnIdOf(answer: TurnView): string | undefined {
    if (answer.parentKey === undefined) return undefined;
    return this.find(answer.parentKey)?.turnId ?? answer.parentKey;
  }

  private find(key: string): TurnView | undefined {
    return this.turns.find((t) => t.key === key);
  }

  private findByTurnId(turnId: string): TurnView | undefined {
    return this.turns.find((t) => t.turnId === turnId);
  }

  private render(): void {
    this.options.conversation.render({
      sessionId: this.sessionId,
      turns: this.turns,
      generatingKey: this.generatingKey,
      lastAnswerKey: this.lastAnswerKey(),
      loadingHistory: this.history?.loading === true && this.turns.length === 0,
      moreHistory: this.history?.cursor !== undefined && this.history.pages >= AUTO_PAGES,
    });
  }
}
