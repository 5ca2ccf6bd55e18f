/**
 * Coalesces model text into `delta` frames: the first text goes out at once; after that, text is merged so that
 * a frame starts at most every `intervalMs`. Frames carry seq 0, 1, 2, … with no gaps, and never two posts are in
 * flight for one turn, so they arrive in order. `sentText` is exactly the concatenation of delivered frames,
 * which is what the turn saves. No frame exceeds API Gateway's limits.
 */
import { cutToJsonBytes } from "./json-bytes";
import type { Clock, ConnectionRoute, ConnectionSender, TimerHandle } from "./ports";

/**
 * Text per `delta` frame, in JSON-encoded UTF-8 bytes: the frame stays under API Gateway's 32 KB WebSocket frame
 * limit ("Amazon API Gateway quotas for configuring and running a WebSocket API"), whatever the model sends.
 */
export const DELTA_MAX_BYTES = 24 * 1024;

export type Undeliverable = "gone" | "failed";

export interface DeltaStreamerOptions {
  turnId: string;
  connectionId: string;
  sender: ConnectionSender;
  clock: Clock;
  intervalMs: number;
  /** How a connection in another region is reached (default: this region's @connections endpoint). */
  route?: ConnectionRoute;
  /** The seq of the first frame: 0, or the one after the last a resuming client applied. */
  firstSeq?: number;
  /** Called once when a post finds the connection gone (410) or fails; later text is dropped. */
  onUndeliverable: (why: Undeliverable, error?: unknown) => void;
}

export class DeltaStreamer {
  private buffer = "";
  private nextSeq = 0;
  private sent = "";
  private delivered = 0;
  private inFlight: Promise<void> | undefined;
  private timer: TimerHandle | undefined;
  private lastPostAt = Number.NEGATIVE_INFINITY;
  private state: "open" | Undeliverable = "open";

  constructor(private readonly options: DeltaStreamerOptions) {
    this.nextSeq = options.firstSeq ?? 0;
  }

  get connectionId(): string {
    return this.options.connectionId;
  }
  get route(): ConnectionRoute | undefined {
    return this.options.route;
  }

  /** Delivered frames. */
  get frames(): number {
    return this.delivered;
  }
  get sentText(): string {
    return this.sent;
  }
  get deliverable(): boolean {
    return this.state === "open";
  }

  push(text: string): void {
    if (this.state !== "open" || text.length === 0) return;
    this.buffer += text;
    this.schedule();
  }

  /** Sends what is buffered (still honouring the interval) and waits for the last post. */
  async close(): Promise<void> {
    for (;;) {
      if (this.inFlight) {
        await this.inFlight;
        continue;
      }
      if (this.state !== "open" || this.buffer.length === 0) break;
      this.timer?.cancel();
      this.timer = undefined;
      const wait = this.lastPostAt + this.options.intervalMs - this.options.clock.now();
      if (wait > 0) await this.options.clock.sleep(wait);
      this.flush();
    }
    this.timer?.cancel();
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.inFlight || this.timer) return; // the post in flight re-schedules when it settles
    const wait = this.lastPostAt + this.options.intervalMs - this.options.clock.now();
    if (wait <= 0) {
      this.flush();
      return;
    }
    this.timer = this.options.clock.setTimer(wait, () => {
      this.timer = undefined;
      this.flush();
    });
  }

  private flush(): void {
    if (this.inFlight || this.state !== "open" || this.buffer.length === 0) return;
    // A backlog (a slow post, a burst of model text) goes out in frames of at most DELTA_MAX_BYTES of text.
    const end = this.buffer.length * 6 <= DELTA_MAX_BYTES ? this.buffer.length : cutToJsonBytes(this.buffer, DELTA_MAX_BYTES);
    const text = this.buffer.slice(0, end);
    this.buffer = this.buffer.slice(end);
    const seq = this.nextSeq++;
    this.lastPostAt = this.options.clock.now();
    this.inFlight = this.post(seq, text).finally(() => {
      this.inFlight = undefined;
      if (this.state === "open" && this.buffer.length > 0) this.schedule();
    });
  }

  private async post(seq: number, text: string): Promise<void> {
    const { sender, connectionId, turnId, route } = this.options;
    try {
      const result = await sender.post(connectionId, { type: "delta", turnId, seq, text }, route);
      if (result === "gone") {
        this.fail("gone");
        return;
      }
      this.sent += text;
      this.delivered++;
    } catch (error) {
      this.fail("failed", error);
    }
  }

  private fail(why: Undeliverable, error?: unknown): void {
    if (this.state !== "open") return;
    this.state = why;
    this.buffer = "";
    this.timer?.cancel();
    this.timer = undefined;
    this.options.onUndeliverable(why, error);
  }
}
