/** In-memory implementations of every runtime port, for unit tests of the chat use cases. */
import type { ServerFrame } from "../../runtime/protocol";
import {
  CONTEXT_TURN_FIELDS,
  type ContextTurn,
  InvalidCursor,
  type ChatMetrics,
  type Clock,
  type Connection,
  type ConnectionRoute,
  type ConnectionSender,
  type ConnectionStore,
  type GenerationJob,
  type GenerationQueue,
  type HistoryStore,
  type Log,
  type LogAttributes,
  type MessageClaim,
  type ModelEvent,
  type ModelRequest,
  type ModelStream,
  type OperatorSwitch,
  type PostResult,
  type Session,
  type TimerHandle,
  type Turn,
  type TurnControl,
  type TurnWatcher,
  type TurnPage,
  type TurnResult,
  type UserLedger,
} from "../../runtime/chat/ports";
import { ChatError } from "../../runtime/chat/errors";

const clone = <T>(v: T): T => structuredClone(v);

/** Makes the next `count` calls of `method` throw `error`. */
export class Faults {
  private readonly pending = new Map<string, { count: number; error: Error }>();
  fail(method: string, count = 1, error: Error = Object.assign(new Error("injected"), { name: "ProvisionedThroughputExceededException" })): void {
    this.pending.set(method, { count, error });
  }
  check(method: string): void {
    const f = this.pending.get(method);
    if (f && f.count > 0) {
      f.count--;
      throw f.error;
    }
  }
}

export class MemoryHistory implements HistoryStore {
  readonly sessions = new Map<string, Session>();
  readonly turns = new Map<string, Turn>();
  readonly faults = new Faults();
  calls: Record<string, number> = {};

  private count(method: string): void {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
    this.faults.check(method);
  }

  private key(sessionId: string, turnId: string): string {
    return `${sessionId}/${turnId}`;
  }

  sessionTurns(sessionId: string): Turn[] {
    return [...this.turns.values()].filter((t) => t.sessionId === sessionId).sort((a, b) => (a.turnId < b.turnId ? -1 : 1));
  }

  async getSession(sessionId: string) {
    this.count("getSession");
    const s = this.sessions.get(sessionId);
    return s && clone(s);
  }
  async createSession(session: Session) {
    this.count("createSession");
    if (this.sessions.has(session.sessionId)) throw Object.assign(new Error("exists"), { name: "ConditionalCheckFailedException" });
    this.sessions.set(session.sessionId, clone(session));
  }
  async touchSession(sessionId: string, at: string) {
    this.count("touchSession");
    const s = this.sessions.get(sessionId);
    // As the adapter's conditional update does: a session that does not exist is not created by a touch.
    if (!s) throw Object.assign(new Error("no such session"), { name: "ConditionalCheckFailedException" });
    s.updatedAt = at;
  }
  async touchOwnSession(sessionId: string, userId: string, at: string) {
    this.count("touchOwnSession");
    const s = this.sessions.get(sessionId);
    if (!s || s.userId !== userId) return false as const;
    const previousAt = s.updatedAt;
    s.updatedAt = at;
    return { previousAt };
  }
  async untouchSession(sessionId: string, at: string, touch: { previousAt: string | undefined }) {
    this.count("untouchSession");
    const s = this.sessions.get(sessionId);
    if (s && s.updatedAt === at && touch.previousAt !== undefined) s.updatedAt = touch.previousAt;
  }
  async listSessions(userId: string, limit: number) {
    this.count("listSessions");
    return [...this.sessions.values()]
      .filter((s) => s.userId === userId)
      .sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : -1))
      .slice(0, limit)
      .map(clone);
  }
  async getTurn(sessionId: string, turnId: string) {
    this.count("getTurn");
    const t = this.turns.get(this.key(sessionId, turnId));
    return t && clone(t);
  }
  async putTurn(turn: Turn) {
    this.count("putTurn");
    this.turns.set(this.key(turn.sessionId, turn.turnId), clone(turn));
  }
  async putNewTurns(turns: Turn[], newSession?: Session) {
    this.count("putNewTurns");
    for (const turn of turns) this.turns.set(this.key(turn.sessionId, turn.turnId), clone(turn));
    if (newSession) this.sessions.set(newSession.sessionId, clone(newSession));
  }
  async deleteTurn(sessionId: string, turnId: string) {
    this.count("deleteTurn");
    this.turns.delete(this.key(sessionId, turnId));
  }
  async pageTurns(sessionId: string, limit: number, cursor?: string): Promise<TurnPage> {
    this.count("pageTurns");
    if (cursor !== undefined && !cursor.startsWith("after:")) throw new InvalidCursor("bad");
    const after = cursor?.slice("after:".length);
    const all = this.sessionTurns(sessionId).filter((t) => !t.droppedBy && (after === undefined || t.turnId > after));
    const page = all.slice(0, limit).map(clone);
    return all.length > limit ? { turns: page, cursor: `after:${page[page.length - 1]!.turnId}` } : { turns: page };
  }
  cursorAfter(_sessionId: string, turnId: string): string {
    return `after:${turnId}`;
  }
  /** The `firstPage` of each turnsUpTo call (the fake reads everything at once). */
  readonly firstPages: Array<number | undefined> = [];
  async *turnsUpTo(sessionId: string, turnId: string, limit: number, firstPage?: number): AsyncIterable<ContextTurn> {
    this.count("turnsUpTo");
    this.firstPages.push(firstPage);
    // Only the projected fields, as the store reads them: a use case that needs more fails here too.
    const project = (t: Turn): ContextTurn =>
      Object.fromEntries(CONTEXT_TURN_FIELDS.filter((f) => t[f] !== undefined).map((f) => [f, t[f]])) as unknown as ContextTurn;
    const self = this.turns.get(this.key(sessionId, turnId));
    if (self) yield project(self);
    const older = this.sessionTurns(sessionId).filter((t) => t.turnId < turnId).reverse().slice(0, limit);
    for (const t of older) yield project(t);
  }
  readonly stops = new Map<string, string>();
  async requestStop(sessionId: string, turnId: string, at: string) {
    this.count("requestStop");
    this.stops.set(this.key(sessionId, turnId), at);
  }
  async stopRequested(sessionId: string, turnId: string) {
    this.count("stopRequested");
    return this.stops.has(this.key(sessionId, turnId));
  }
  readonly watchers = new Map<string, Map<string, TurnWatcher>>();
  readonly acks = new Map<string, Set<string>>();
  async turnControl(sessionId: string, turnId: string): Promise<TurnControl> {
    this.count("turnControl");
    const key = this.key(sessionId, turnId);
    return {
      stopRequested: this.stops.has(key),
      watchers: [...(this.watchers.get(key)?.values() ?? [])].map(clone),
      acknowledged: [...(this.acks.get(key) ?? [])],
    };
  }
  async watchTurn(sessionId: string, turnId: string, watcher: TurnWatcher) {
    this.count("watchTurn");
    const key = this.key(sessionId, turnId);
    if (!this.watchers.has(key)) this.watchers.set(key, new Map());
    this.watchers.get(key)!.set(watcher.connectionId, clone(watcher));
  }
  async acknowledgeWatcher(sessionId: string, turnId: string, connectionId: string) {
    this.count("acknowledgeWatcher");
    const key = this.key(sessionId, turnId);
    if (!this.acks.has(key)) this.acks.set(key, new Set());
    this.acks.get(key)!.add(connectionId);
  }
  async startGeneration(sessionId: string, turnId: string, at: string) {
    this.count("startGeneration");
    const t = this.turns.get(this.key(sessionId, turnId));
    if (!t || t.status !== "streaming" || t.generationStartedAt) return undefined;
    t.generationStartedAt = at;
    return clone(t);
  }
  async saveProgress(sessionId: string, turnId: string, text: string, at: string) {
    this.count("saveProgress");
    const t = this.turns.get(this.key(sessionId, turnId));
    if (!t || t.status !== "streaming") return false;
    t.text = text;
    t.updatedAt = at;
    return true;
  }
  async finishTurn(sessionId: string, turnId: string, result: TurnResult) {
    this.count("finishTurn");
    const t = this.turns.get(this.key(sessionId, turnId));
    if (!t || t.status !== "streaming") return false;
    Object.assign(t, clone(result));
    return true;
  }
  async supersede(sessionId: string, turnId: string, newTurnId: string, at: string) {
    this.count("supersede");
    const t = this.turns.get(this.key(sessionId, turnId))!;
    if (t.supersededBy) return t.supersededBy;
    if (t.droppedBy) throw new ChatError("not_found", "turn not found");
    if (t.status === "streaming") throw new ChatError("busy", "busy");
    t.supersededBy = newTurnId;
    t.updatedAt = at;
    return newTurnId;
  }
  async dropTurn(sessionId: string, turnId: string, byTurnId: string, at: string) {
    this.count("dropTurn");
    const t = this.turns.get(this.key(sessionId, turnId));
    if (!t || t.droppedBy || t.status === "streaming") return false;
    t.droppedBy = byTurnId;
    t.updatedAt = at;
    return true;
  }
  async reopenTurn(sessionId: string, turnId: string, seenUpdatedAt: string, owner: { region: string; connectionId: string; at: string }) {
    this.count("reopenTurn");
    const t = this.turns.get(this.key(sessionId, turnId));
    if (!t || t.status === "streaming" || t.updatedAt !== seenUpdatedAt || t.droppedBy || t.supersededBy) return false;
    Object.assign(t, { status: "streaming", continuedAt: owner.at, updatedAt: owner.at, region: owner.region, connectionId: owner.connectionId });
    delete t.generationStartedAt;
    delete t.servedWatchers;
    return true;
  }
  async clearTurnControl(sessionId: string, turnId: string) {
    this.count("clearTurnControl");
    const key = this.key(sessionId, turnId);
    this.stops.delete(key);
    this.watchers.delete(key);
    this.acks.delete(key);
  }
  async renameSession(sessionId: string, title: string) {
    this.count("renameSession");
    const s = this.sessions.get(sessionId);
    if (!s) return false;
    s.title = title;
    return true;
  }
  async allTurns(sessionId: string) {
    this.count("allTurns");
    return this.sessionTurns(sessionId).map(clone);
  }
  /** The stop requests that ask for an erase (their session is being deleted). */
  readonly eraseRequests = new Set<string>();
  async requestErase(sessionId: string, turnId: string, at: string) {
    this.count("requestErase");
    this.stops.set(this.key(sessionId, turnId), at);
    this.eraseRequests.add(this.key(sessionId, turnId));
  }
  async eraseRequested(sessionId: string, turnId: string) {
    this.count("eraseRequested");
    return this.eraseRequests.has(this.key(sessionId, turnId));
  }
  async eraseSession(sessionId: string, liveTurns: readonly string[]) {
    this.count("eraseSession");
    this.sessions.delete(sessionId);
    const keep = new Set(liveTurns.map((turnId) => this.key(sessionId, turnId)));
    for (const map of [this.turns, this.stops, this.watchers, this.acks] as Map<string, unknown>[]) {
      const kept = map === this.turns || map === this.stops;
      for (const key of [...map.keys()]) if (key.startsWith(`${sessionId}/`) && !(kept && keep.has(key))) map.delete(key);
    }
    for (const key of [...this.eraseRequests]) if (key.startsWith(`${sessionId}/`) && !keep.has(key)) this.eraseRequests.delete(key);
  }
  async eraseTurn(sessionId: string, turnId: string) {
    this.count("eraseTurn");
    const key = this.key(sessionId, turnId);
    for (const map of [this.turns, this.stops, this.watchers, this.acks] as Map<string, unknown>[]) map.delete(key);
    this.eraseRequests.delete(key);
  }
  /** Every item kept for a session (session, turns, control items): none after a delete has settled. */
  itemsOf(sessionId: string): string[] {
    const keys = [...this.turns.keys(), ...this.stops.keys(), ...this.watchers.keys(), ...this.acks.keys()].filter((k) => k.startsWith(`${sessionId}/`));
    return [...(this.sessions.has(sessionId) ? ["session"] : []), ...keys];
  }
}

export class MemoryLedger implements UserLedger {
  readonly claims = new Map<string, MessageClaim>();
  readonly counters = new Map<string, number>();
  async getClaim(userId: string, clientMessageId: string) {
    const c = this.claims.get(`${userId}/${clientMessageId}`);
    return c && clone(c);
  }
  async claim(claim: MessageClaim) {
    const key = `${claim.userId}/${claim.clientMessageId}`;
    const existing = this.claims.get(key);
    if (existing) return clone(existing);
    this.claims.set(key, clone(claim));
    return "claimed" as const;
  }
  async releaseClaim(userId: string, clientMessageId: string) {
    this.claims.delete(`${userId}/${clientMessageId}`);
  }
  async countMessage(userId: string, minuteKey: string, max: number) {
    const key = `${userId}/${minuteKey}`;
    const n = this.counters.get(key) ?? 0;
    if (n >= max) return false;
    this.counters.set(key, n + 1);
    return true;
  }
  async uncountMessage(userId: string, minuteKey: string) {
    const key = `${userId}/${minuteKey}`;
    const n = this.counters.get(key) ?? 0;
    if (n > 0) this.counters.set(key, n - 1);
  }
  /** Per user: the turns holding a concurrent-answer slot. */
  readonly generating = new Map<string, Set<string>>();
  /** Per `${userId}/${dayKey}`: tokens counted. */
  readonly tokens = new Map<string, number>();
  readonly faults = new Faults();
  async acquireGeneration(userId: string, turnId: string, max: number) {
    this.faults.check("acquireGeneration");
    const turns = this.generating.get(userId) ?? new Set<string>();
    if (turns.size >= max && !turns.has(turnId)) return false;
    this.generating.set(userId, turns.add(turnId));
    return true;
  }
  async releaseGeneration(userId: string, turnId: string) {
    this.faults.check("releaseGeneration");
    this.generating.get(userId)?.delete(turnId);
  }
  async generationHolders(userId: string) {
    return [...(this.generating.get(userId) ?? [])];
  }
  async addTokens(userId: string, dayKey: string, tokens: number) {
    this.faults.check("addTokens");
    const key = `${userId}/${dayKey}`;
    this.tokens.set(key, (this.tokens.get(key) ?? 0) + tokens);
  }
  async tokensUsed(userId: string, dayKey: string) {
    this.faults.check("tokensUsed");
    return this.tokens.get(`${userId}/${dayKey}`) ?? 0;
  }
}

/** The operator's kill switch, flipped by the test; counts its reads. */
export class MemoryOperatorSwitch implements OperatorSwitch {
  paused = false;
  reads = 0;
  async answersPaused() {
    this.reads++;
    return this.paused;
  }
}

export class MemoryConnections implements ConnectionStore {
  readonly items = new Map<string, { connection: Connection; expiresAt: number; activeTurns: Set<string> }>();
  async put(connection: Connection, expiresAt: number) {
    this.items.set(connection.connectionId, { connection: clone(connection), expiresAt, activeTurns: new Set() });
  }
  async get(connectionId: string) {
    const item = this.items.get(connectionId);
    return item && clone(item.connection);
  }
  async delete(connectionId: string) {
    this.items.delete(connectionId);
  }
  async acquireSlot(connectionId: string, turnId: string, max: number) {
    const item = this.items.get(connectionId);
    if (!item || item.activeTurns.size >= max) return false;
    item.activeTurns.add(turnId);
    return true;
  }
  /** releaseSlot calls. */
  releases = 0;
  async releaseSlot(connectionId: string, turnId: string) {
    this.releases++;
    this.items.get(connectionId)?.activeTurns.delete(turnId);
  }
  async slotHolders(connectionId: string) {
    return [...(this.items.get(connectionId)?.activeTurns ?? [])];
  }
}

/** Records frames per connection; can answer 410 from a given post on, or hold posts until released. */
/** API Gateway's WebSocket message limit, 128 KB. */
const MESSAGE_LIMIT_BYTES = 128 * 1024;

export class RecordingSender implements ConnectionSender {
  readonly frames: { connectionId: string; frame: ServerFrame; route?: ConnectionRoute }[] = [];
  /** Connections closed through the @connections API, in order. */
  readonly closed: string[] = [];
  goneAfter = Number.POSITIVE_INFINITY;
  /** Connections whose socket is gone: posts to them answer 410. */
  readonly gone = new Set<string>();
  failWith: Error | undefined;
  inFlight = 0;
  maxInFlight = 0;
  posts = 0;
  /** When set, each post waits for this gate before completing. */
  gate: (() => Promise<void>) | undefined;

  async post(connectionId: string, frame: ServerFrame, route?: ConnectionRoute): Promise<PostResult> {
    this.posts++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.gate) await this.gate();
      if (this.failWith) throw this.failWith;
      if (this.frames.length >= this.goneAfter || this.gone.has(connectionId)) return "gone";
      // As @connections: a message over 128 KB is refused (the local gateway emulator does the same).
      const bytes = Buffer.byteLength(JSON.stringify(frame), "utf8");
      if (bytes > MESSAGE_LIMIT_BYTES) throw Object.assign(new Error(`Message too long (${bytes} bytes)`), { name: "PayloadTooLargeException" });
      this.frames.push({ connectionId, frame: clone(frame), ...(route !== undefined ? { route } : {}) });
      return "ok";
    } finally {
      this.inFlight--;
    }
  }

  async close(connectionId: string): Promise<void> {
    this.closed.push(connectionId);
  }

  of<T extends ServerFrame["type"]>(type: T, connectionId?: string): Extract<ServerFrame, { type: T }>[] {
    return this.frames
      .filter((f) => f.frame.type === type && (connectionId === undefined || f.connectionId === connectionId))
      .map((f) => f.frame as Extract<ServerFrame, { type: T }>);
  }

  textOf(turnId: string): string {
    return this.of("delta").filter((d) => d.turnId === turnId).map((d) => d.text).join("");
  }
}

export class RecordingQueue implements GenerationQueue {
  readonly jobs: GenerationJob[] = [];
  failWith: Error | undefined;
  async enqueue(job: GenerationJob) {
    if (this.failWith) throw this.failWith;
    this.jobs.push(clone(job));
  }
}

export type ModelStep =
  | ModelEvent
  | { type: "wait"; ms: number }
  | { type: "throw"; error: Error }
  /** Waits until the signal aborts, then ends silently, as an aborted HTTP/2 stream does. */
  | { type: "hang" }
  /** Waits until the promise settles (the test decides when the model goes on), or the signal aborts. */
  | { type: "gate"; open: Promise<void> };

/** A model whose streams follow scripts: one script per call (the last repeats). */
export class ScriptedModel implements ModelStream {
  readonly modelId = "test.model";
  calls = 0;
  requests: ModelRequest[] = [];
  /** Events yielded after the abort signal fired (should stay 0 once the consumer stops). */
  yieldedAfterAbort = 0;
  /** Streams waiting at a `hang` or `gate` step (a test waits for this state, not for time). */
  hanging = 0;
  /** Events yielded, over all streams. */
  yielded = 0;

  constructor(private readonly scripts: ModelStep[][]) {}

  async *stream(request: ModelRequest): AsyncIterable<ModelEvent> {
    const script = this.scripts[Math.min(this.calls, this.scripts.length - 1)]!;
    this.calls++;
    this.requests.push({ ...request, messages: clone(request.messages) });
    for (const step of script) {
      if (request.signal.aborted) return;
      if (step.type === "wait") {
        await sleep(step.ms, request.signal);
        continue;
      }
      if (step.type === "hang") {
        this.hanging++;
        await new Promise<void>((resolve) => request.signal.addEventListener("abort", () => resolve(), { once: true }));
        this.hanging--;
        return;
      }
      if (step.type === "gate") {
        this.hanging++;
        await Promise.race([step.open, new Promise<void>((resolve) => request.signal.addEventListener("abort", () => resolve(), { once: true }))]);
        this.hanging--;
        continue;
      }
      if (step.type === "throw") throw step.error;
      this.yielded++;
      yield step;
    }
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });
}

/** A clock whose time moves only when the test says so. */
export class ManualClock implements Clock {
  private time = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 0;

  now(): number {
    return this.time;
  }
  setTimer(ms: number, fn: () => void): TimerHandle {
    const id = this.nextId++;
    this.timers.push({ at: this.time + ms, fn, id });
    return { cancel: () => (this.timers = this.timers.filter((t) => t.id !== id)) };
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const handle = this.setTimer(ms, resolve);
      signal?.addEventListener("abort", () => (handle.cancel(), resolve()), { once: true });
    });
  }
  /** Moves time forward, firing due timers in order and letting promise callbacks run in between. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await flushMicrotasks();
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t.id !== due.id);
      this.time = due.at;
      due.fn();
    }
    this.time = end;
    await flushMicrotasks();
  }
}

export async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

export class RecordingLog implements Log {
  readonly lines: { level: string; message: string; attributes?: LogAttributes }[] = [];
  debug = (message: string, attributes?: LogAttributes) => void this.lines.push({ level: "debug", message, attributes });
  info = (message: string, attributes?: LogAttributes) => void this.lines.push({ level: "info", message, attributes });
  warn = (message: string, attributes?: LogAttributes) => void this.lines.push({ level: "warn", message, attributes });
  error = (message: string, attributes?: LogAttributes) => void this.lines.push({ level: "error", message, attributes });
  get text(): string {
    return JSON.stringify(this.lines);
  }
}

export class RecordingMetrics implements ChatMetrics {
  readonly turns: Parameters<ChatMetrics["turnFinished"]>[0][] = [];
  readonly errors: string[] = [];
  turnFinished(summary: Parameters<ChatMetrics["turnFinished"]>[0]) {
    this.turns.push(summary);
  }
  error(code: string) {
    this.errors.push(code);
  }
}
