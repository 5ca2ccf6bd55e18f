/**
 * A response body read as events by one async iterator: each chunk is decoded as it arrives (synchronously) and its
 * events queued, so the consumer's `for await` costs one promise per event. Async generators stacked on the body (its
 * own iterator, the decoder's, the API's, the port's) cost a promise hop per layer per event, on the path every model
 * token takes through a worker.
 *
 * Semantics are those of a stream's own async iterator: queued events come out before a failure or the end; a body
 * that closes before its end is an error (premature close); leaving the loop early (`return`) destroys the body. Once
 * `signal` aborts, the iterator ends quietly: what the body still holds is dropped and its failure is not reported.
 */
import { finished, type Readable } from "node:stream";

export interface EventSource<T> {
  /** Sends the request and answers the body (called by the first `next()`). */
  open(): Promise<Readable>;
  /** The events a chunk completes; throws on a malformed body. */
  decode(chunk: Buffer): readonly T[];
  /** The body ended: throws when it ended short (inside a message). */
  end(): void;
  /** What the caller sees of a failure (of `open`, the body, `decode` or `end`). */
  failure(error: unknown): unknown;
  signal: AbortSignal;
}

/** Queued events beyond which the body is paused until the consumer catches up. */
const HIGH_WATER = 256;

export class StreamEvents<T> implements AsyncIterableIterator<T> {
  private queue: T[] = [];
  private head = 0;
  private body: Readable | undefined;
  private opening: Promise<void> | undefined;
  /** The body ended cleanly: what is queued is all there is. */
  private ended = false;
  private failed = false;
  private error: unknown;
  /** The consumer is done (returned, aborted, or read to the end or the failure). */
  private closed = false;
  private wake: (() => void) | undefined;
  private readonly onAbort = () => this.notify();

  constructor(private readonly source: EventSource<T>) {
    source.signal.addEventListener("abort", this.onAbort, { once: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.closed) return { value: undefined, done: true };
      if (this.source.signal.aborted) return this.close();
      if (this.head < this.queue.length) return { value: this.take(), done: false };
      if (this.failed) {
        this.close();
        throw this.source.failure(this.error);
      }
      if (this.ended) return this.close();
      if (!this.body) {
        await (this.opening ??= this.start());
        continue;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** The consumer left the loop early: the body is destroyed, as a stream's own iterator does. */
  async return(): Promise<IteratorResult<T>> {
    return this.close();
  }

  private take(): T {
    const value = this.queue[this.head++]!;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
      if (this.body?.isPaused() && !this.ended) this.body.resume();
    }
    return value;
  }

  private close(): IteratorResult<T> {
    if (!this.closed) {
      this.closed = true;
      this.queue = [];
      this.head = 0;
      this.source.signal.removeEventListener("abort", this.onAbort);
      if (this.body && !this.ended && !this.body.destroyed) this.body.destroy();
    }
    return { value: undefined, done: true };
  }

  private async start(): Promise<void> {
    let body: Readable;
    try {
      body = await this.source.open();
    } catch (error) {
      this.fail(error);
      return;
    }
    if (this.closed) {
      body.destroy();
      return;
    }
    this.body = body;
    body.on("data", (chunk: Buffer) => {
      if (this.closed || this.failed) return;
      try {
        const events = this.source.decode(chunk);
        for (let i = 0; i < events.length; i++) this.queue.push(events[i]!);
      } catch (error) {
        this.fail(error);
        body.destroy();
        return;
      }
      if (this.queue.length - this.head >= HIGH_WATER) body.pause();
      this.notify();
    });
    // The readable side: its end, its error, or a close before its end (ERR_STREAM_PREMATURE_CLOSE).
    finished(body, { writable: false }, (error) => {
      if (this.closed || this.failed) return;
      if (error) return this.fail(error);
      try {
        this.source.end();
      } catch (endError) {
        return this.fail(endError);
      }
      this.ended = true;
      this.notify();
    });
  }

  private fail(error: unknown): void {
    if (this.failed || this.closed) return;
    this.failed = true;
    this.error = error;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
