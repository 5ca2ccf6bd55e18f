/**
 * One turn's text and the connections that follow it: the one that sent the message and any that resumed the turn
 * (./resume.ts), maybe in another region. Each follower has its own DeltaStreamer: its own seq (continuing the
 * client's) and starting offset, so every client gets exactly the text it lacks, in order, with no gaps.
 *
 * The text is what the model generated, whether or not anyone is connected: a dropped connection is not a stop,
 * so the turn is generated to its end and saved whole.
 */
import { DeltaStreamer, type Undeliverable } from "./delta-streamer";
import type { Clock, ConnectionRoute, ConnectionSender } from "./ports";

export interface Follower {
  connectionId: string;
  /** How the follower is reached when it is connected to another region (default: this region's endpoint). */
  route?: ConnectionRoute;
  /** The seq of its first frame (the client applied every seq before it). */
  firstSeq: number;
  /** How much of the text the client has (UTF-16 code units). */
  offset: number;
}

export interface TurnFanoutOptions {
  turnId: string;
  sender: ConnectionSender;
  clock: Clock;
  intervalMs: number;
  /** A follower's post found its connection gone (410) or failed: it is dropped, generation goes on. */
  onLost: (connectionId: string, why: Undeliverable, error?: unknown) => void;
}

export class TurnFanout {
  private generated = "";
  private readonly followers = new Map<string, DeltaStreamer>();
  private readonly lost: DeltaStreamer[] = [];

  constructor(private readonly options: TurnFanoutOptions) {}

  /** Everything generated so far: what the turn saves. */
  get text(): string {
    return this.generated;
  }

  /** Frames delivered to all followers, including ones lost since. */
  get frames(): number {
    let frames = 0;
    for (const streamer of [...this.followers.values(), ...this.lost]) frames += streamer.frames;
    return frames;
  }

  /** The followers still connected, for the turn's end frame. */
  get connected(): readonly DeltaStreamer[] {
    return [...this.followers.values()].filter((s) => s.deliverable);
  }

  /** Starts streaming to one more connection: what it lacks at once, then the live text. False if it already follows. */
  follow(follower: Follower): boolean {
    if (this.followers.has(follower.connectionId)) return false;
    const { turnId, sender, clock, intervalMs, onLost } = this.options;
    const streamer: DeltaStreamer = new DeltaStreamer({
      turnId,
      connectionId: follower.connectionId,
      sender,
      clock,
      intervalMs,
      route: follower.route,
      firstSeq: follower.firstSeq,
      onUndeliverable: (why, error) => {
        this.followers.delete(follower.connectionId);
        this.lost.push(streamer);
        onLost(follower.connectionId, why, error);
      },
    });
    this.followers.set(follower.connectionId, streamer);
    streamer.push(this.generated.slice(Math.min(follower.offset, this.generated.length)));
    return true;
  }

  push(text: string): void {
    if (text.length === 0) return;
    this.generated += text;
    for (const streamer of this.followers.values()) streamer.push(text);
  }

  /** Sends what is buffered to every follower and waits for it. */
  async close(): Promise<void> {
    await Promise.all([...this.followers.values()].map((s) => s.close()));
  }
}
