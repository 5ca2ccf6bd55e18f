/** Wires the chat use cases to in-memory fakes: a small world in which tests connect, send frames and run jobs. */
import { ContextReach } from "../../runtime/chat/context-reach";
import { randomUUID } from "node:crypto";
import { systemClock } from "../../runtime/chat/clock";
import { openConnection } from "../../runtime/chat/connect";
import { handleClientFrame, type MessageDeps, type MessageOutcome } from "../../runtime/chat/dispatch";
import { DEFAULT_GENERATE_SETTINGS, generateTurn, type GenerateDeps, type GenerateSettings, type GenerationOutcome } from "../../runtime/chat/generate";
import { FrameBudget, type FrameBudgetSettings } from "../../runtime/chat/frame-budget";
import type { Clock } from "../../runtime/chat/ports";
import {
  MemoryConnections,
  MemoryHistory,
  MemoryLedger,
  MemoryOperatorSwitch,
  RecordingLog,
  RecordingMetrics,
  RecordingQueue,
  RecordingSender,
  ScriptedModel,
  type ModelStep,
} from "./fakes";

export interface WorldOptions {
  scripts?: ModelStep[][];
  generate?: Partial<GenerateSettings>;
  messagesPerMinute?: number;
  maxConcurrentPerConnection?: number;
  maxConcurrentPerUser?: number;
  dailyTokenBudget?: number;
  contextBudgetTokens?: number;
  /** The per-connection frame budget (none by default). */
  frameBudget?: FrameBudgetSettings;
  clock?: Clock;
}

export const text = (t: string): ModelStep => ({ type: "text", text: t });
export const wait = (ms: number): ModelStep => ({ type: "wait", ms });
export const endTurn: ModelStep[] = [{ type: "usage", inputTokens: 12, outputTokens: 7 }, { type: "stop", reason: "end_turn" }];

export function createWorld(options: WorldOptions = {}) {
  const history = new MemoryHistory();
  const ledger = new MemoryLedger();
  const connections = new MemoryConnections();
  const sender = new RecordingSender();
  const queue = new RecordingQueue();
  const log = new RecordingLog();
  const metrics = new RecordingMetrics();
  const operator = new MemoryOperatorSwitch();
  const clock = options.clock ?? systemClock;
  const model = new ScriptedModel(options.scripts ?? [[text("Hello"), text(", "), text("world."), ...endTurn]]);

  const messageDeps: MessageDeps = {
    contextReach: new ContextReach(),
    history,
    ledger,
    connections,
    sender,
    queue,
    operator,
    ...(options.frameBudget ? { frameBudget: new FrameBudget(options.frameBudget) } : {}),
    clock,
    log,
    metrics,
    settings: {
      region: "us-east-1",
      modelId: model.modelId,
      messagesPerMinute: options.messagesPerMinute ?? 100,
      maxConcurrentPerConnection: options.maxConcurrentPerConnection ?? 2,
      // Generous unless a test is about it, so tests of other things are not limited per user.
      maxConcurrentPerUser: options.maxConcurrentPerUser ?? 100,
      dailyTokenBudget: options.dailyTokenBudget ?? 0,
      contextBudgetTokens: options.contextBudgetTokens ?? 8000,
    },
  };
  const generateDeps: GenerateDeps = {
    history,
    connections,
    ledger,
    sender,
    model,
    clock,
    log,
    metrics,
    settings: {
      ...DEFAULT_GENERATE_SETTINGS,
      flushIntervalMs: 5,
      stopPollMs: 5,
      contextBudgetTokens: options.contextBudgetTokens ?? 8000,
      maxOutputTokens: 256,
      deadlineMarginMs: 1000,
      modelRetry: { attempts: 3, baseMs: 1, maxMs: 5 },
      claimRetry: { attempts: 3, baseMs: 1, maxMs: 5 },
      saveBackoff: { baseMs: 1, maxMs: 5 },
      checkpointMs: 1_000,
      ...options.generate,
    },
  };

  return {
    history,
    ledger,
    connections,
    sender,
    queue,
    operator,
    log,
    metrics,
    model,
    messageDeps,
    generateDeps,
    /** Opens a connection whose token expires `tokenLifetimeS` seconds from now (on the world's clock), in `region`. */
    async connect(connectionId = `conn-${randomUUID()}`, userId = "user-a", tokenLifetimeS = 3600, region = "us-east-1") {
      const tokenExpiresAt = Math.floor(clock.now() / 1000) + tokenLifetimeS;
      await openConnection(
        { connectionId, userId, username: userId, region, callbackEndpoint: `https://${region}.example/prod`, tokenExpiresAt },
        { connections, clock },
      );
      return connectionId;
    },
    frame(connectionId: string, body: unknown): Promise<MessageOutcome> {
      return handleClientFrame({ connectionId, body: typeof body === "string" ? body : JSON.stringify(body), receivedAt: clock.now() }, messageDeps);
    },
    /** Runs every queued job (and jobs they queue) with the given remaining Lambda time. */
    async runJobs(remainingMs: () => number = () => 900_000): Promise<GenerationOutcome[]> {
      const outcomes: GenerationOutcome[] = [];
      while (queue.jobs.length > 0) outcomes.push(await generateTurn(queue.jobs.shift()!, remainingMs, generateDeps));
      return outcomes;
    },
  };
}

export type World = ReturnType<typeof createWorld>;

export function send(textValue: string, extra: Record<string, unknown> = {}) {
  return { action: "send", clientMessageId: randomUUID(), text: textValue, ...extra };
}
