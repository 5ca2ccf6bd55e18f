/**
 * The WebSocket to the chat API: connects with the token as the second offered subprotocol (`chat.v1, <jwt>`,
 * never in the URL), keeps the connection alive, reconnects after a drop with backoff and jitter, fails over to
 * the next configured region when one cannot be reached, and re-sends unanswered `send` frames with their original
 * clientMessageId (the server is idempotent on it, so a message is never lost and never doubled).
 *
 * A connection does not outlive its token: the server refuses a frame after the token's `exp` with `forbidden`
 * and closes. That is expected, so it is never shown: a frame to send after `exp` (by this clock) waits while the
 * page reconnects with a fresh token, and a refusal (a clock behind the server's) reconnects at once too; unanswered
 * `send` frames go out again either way.
 */
import {
  CHAT_SUBPROTOCOL,
  type ClientFrame,
  type ServerFrame,
  type SendFrame,
  type WebConfig,
} from "../../../runtime/protocol";
import { jwtExpiry } from "../auth/types";
import type { ConnectionState } from "./connection-state";
import { describeFailure } from "./failure-words";
import { backoffDelay, DEFAULT_BACKOFF, nextRegionIndex, type BackoffOptions } from "./backoff";

export type { ConnectionState };

export interface ConnectionOptions {
  regions: WebConfig["regions"];
  token: (forceRefresh: boolean) => Promise<string>;
  onFrame: (frame: ServerFrame) => void;
  onState: (state: ConnectionState) => void;
  /** Called on every open; `reconnected` is false only for the first one. */
  onOpen: (reconnected: boolean) => void;
  /** API Gateway closes a connection idle for 10 minutes; a ping well inside that keeps it open. */
  keepaliveMs?: number;
  /** A handshake that takes longer than this counts as a failure of that region. */
  connectTimeoutMs?: number;
  backoff?: BackoffOptions;
}

/** Five minutes: half of API Gateway's 10-minute WebSocket idle timeout. */
export const KEEPALIVE_MS = 5 * 60 * 1000;

export class ChatConnection {
  private socket: WebSocket | null = null;
  private regionIndex = 0;
  /** Failed attempts since the last successful open (drives backoff). */
  private attempt = 0;
  /** Regions that failed to open in the current round: after a full round, back off. */
  private failedInRound = 0;
  private openedBefore = false;
  private stopped = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private keepaliveTimer: ReturnType<typeof setInterval> | null = null;
  /** Frames waiting for an open socket, in order. */
  private readonly outbox: ClientFrame[] = [];
  /** `send` frames written but not yet answered by turn.started or error: re-sent after a reconnect. */
  private readonly unanswered = new Map<string, SendFrame>();
  private forceTokenRefresh = false;
  /** The current socket's token has expired: its close is expected, and the next socket opens at once. */
  private tokenExpired = false;
  /** When the current socket's token expires, in ms since the epoch (null: unknown). */
  private tokenExpiresAtMs: number | null = null;
  private readonly onOnline = () => this.connectNow();
  /** The browser knows the network is gone: say so now, instead of after the socket times out. */
  private readonly onOffline = () => {
    this.options.onState({ kind: "offline" });
    this.socket?.close();
  };

  constructor(private readonly options: ConnectionOptions) {}

  get region(): string {
    return this.options.regions[this.regionIndex]!.region;
  }

  get isOpen(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  start(): void {
    window.addEventListener("online", this.onOnline);
    window.addEventListener("offline", this.onOffline);
    void this.connect();
  }

  /** Sends now, or as soon as a connection is open (with a fresh token first, when this one has expired). */
  send(frame: ClientFrame): void {
    if (frame.action === "send") this.unanswered.set(frame.clientMessageId, frame);
    if (this.isOpen && this.tokenExpiresAtMs !== null && Date.now() >= this.tokenExpiresAtMs) this.reconnectForToken(this.socket!);
    if (this.isOpen) this.write(frame);
    else this.outbox.push(frame);
  }

  /** The server answered this message (turn.started or an error naming it): no re-send after a reconnect. */
  answered(clientMessageId: string): void {
    this.unanswered.delete(clientMessageId);
  }

  /** Skips the backoff wait (a "Retry now" button, the browser coming back online). */
  connectNow(): void {
    if (this.stopped || this.socket !== null) return;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    void this.connect();
  }

  /** Closes for good (sign-out, page teardown). */
  stop(): void {
    this.stopped = true;
    window.removeEventListener("online", this.onOnline);
    window.removeEventListener("offline", this.onOffline);
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.stopKeepalive();
    this.socket?.close(1000, "client closed");
    this.socket = null;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    if (!navigator.onLine) {
      this.options.onState({ kind: "offline" });
      return; // the "online" event resumes
    }
    const { region, url } = this.options.regions[this.regionIndex]!;
    this.options.onState(this.openedBefore ? { kind: "reconnecting", region, attempt: this.attempt, delayMs: 0 } : { kind: "connecting", region });
    let token: string;
    try {
      token = await this.options.token(this.forceTokenRefresh);
    } catch (error) {
      const delayMs = backoffDelay(this.attempt++, this.options.backoff ?? DEFAULT_BACKOFF);
      this.options.onState({ kind: "error", message: errorMessage(error), delayMs });
      this.schedule(delayMs);
      return;
    }
    if (this.stopped) return;
    // The token rides in Sec-WebSocket-Protocol (`chat.v1, <jwt>`); the server selects chat.v1.
    const socket = new WebSocket(url, [CHAT_SUBPROTOCOL, token]);
    this.socket = socket;
    this.tokenExpired = false;
    // A fresh token that this clock already calls expired means the clock is wrong: then only the server decides.
    const exp = jwtExpiry(token);
    this.tokenExpiresAtMs = exp !== null && exp * 1000 > Date.now() ? exp * 1000 : null;
    let opened = false;
    const timeout = setTimeout(() => socket.close(), this.options.connectTimeoutMs ?? 10_000);

    socket.addEventListener("open", () => {
      clearTimeout(timeout);
      opened = true;
      const reconnected = this.openedBefore;
      this.openedBefore = true;
      this.attempt = 0;
      this.failedInRound = 0;
      this.forceTokenRefresh = false;
      this.options.onState({ kind: "open", region });
      this.startKeepalive();
      // Unanswered sends first, in the order they were made, then whatever else queued up while closed.
      const resend = [...this.unanswered.values()];
      const queued = this.outbox.splice(0).filter((f) => f.action !== "send" || !this.unanswered.has(f.clientMessageId));
      for (const frame of [...resend, ...queued]) this.write(frame);
      this.options.onOpen(reconnected);
    });
    socket.addEventListener("message", (event) => {
      if (typeof event.data !== "string") return;
      const frame = parseFrame(event.data);
      if (frame === null) return;
      if (isTokenExpiry(frame)) return this.reconnectForToken(socket);
      this.options.onFrame(frame);
    });
    socket.addEventListener("close", () => {
      clearTimeout(timeout);
      if (this.socket !== socket) return;
      this.socket = null;
      this.stopKeepalive();
      if (this.stopped) return;
      this.afterClose(opened);
    });
  }

  /**
   * The token expired (the server said `forbidden` about no turn or message, or this clock says so before a
   * write): closes this socket (the server closes it too) and opens the next one at once with a fresh token.
   */
  private reconnectForToken(socket: WebSocket): void {
    if (this.tokenExpired) return;
    this.tokenExpired = true;
    this.forceTokenRefresh = true;
    socket.close();
  }

  private afterClose(opened: boolean): void {
    if (this.tokenExpired) {
      this.tokenExpired = false;
      this.schedule(0);
      return;
    }
    if (!navigator.onLine) {
      // Not the region's fault: wait for the network, then start over where we were.
      this.options.onState({ kind: "offline" });
      return; // the "online" event reconnects
    }
    const count = this.options.regions.length;
    if (!opened) {
      // The handshake failed: an expired token is refused with 401/403, which a browser cannot see, so the next
      // attempt takes a fresh token; and the next region gets its turn.
      this.forceTokenRefresh = true;
      this.failedInRound += 1;
      this.regionIndex = nextRegionIndex(this.regionIndex, count, false);
      if (this.failedInRound < count) {
        this.schedule(0);
        return;
      }
      this.failedInRound = 0;
    }
    const delayMs = backoffDelay(this.attempt, this.options.backoff ?? DEFAULT_BACKOFF);
    this.attempt += 1;
    const region = this.options.regions[this.regionIndex]!.region;
    this.options.onState({ kind: "reconnecting", region, attempt: this.attempt, delayMs });
    this.schedule(delayMs);
  }

  private schedule(delayMs: number): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, delayMs);
  }

  private write(frame: ClientFrame): void {
    this.socket?.send(JSON.stringify(frame));
  }

  private startKeepalive(): void {
    this.stopKeepalive();
    this.keepaliveTimer = setInterval(() => this.write({ action: "ping" }), this.options.keepaliveMs ?? KEEPALIVE_MS);
  }

  private stopKeepalive(): void {
    if (this.keepaliveTimer !== null) clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = null;
  }
}

/** Protocol frames pass; API Gateway's own JSON answers (`{"message": "Internal server error", …}`) become an
 * `internal` error frame so they are shown in words; anything else is dropped. */
export function parseFrame(data: string): ServerFrame | null {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const record = value as Record<string, unknown>;
  if (typeof record.type === "string") return value as ServerFrame;
  if (typeof record.message === "string") return { type: "error", code: "internal", message: record.message };
  return null;
}

/** The server's answer to a frame sent after the token expired: `forbidden` about no turn and no message. */
function isTokenExpiry(frame: ServerFrame): boolean {
  return frame.type === "error" && frame.code === "forbidden" && frame.turnId === undefined && frame.clientMessageId === undefined;
}

/** The token comes from the sign-in service (Cognito or the local issuer): a failure to reach it says so. */
function errorMessage(error: unknown): string {
  return describeFailure(error, "The sign-in service");
}
