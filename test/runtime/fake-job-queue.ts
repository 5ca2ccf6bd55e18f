/**
 * An in-memory SQS queue for the worker service's unit tests: long polls (answered when a job is visible, when the
 * poll's 20 s pass on the test's clock, or when it is aborted), receive counts, visibility, and a redrive to a
 * dead-letter list after maxReceives receives, as SQS does.
 */
import type { Clock } from "../../runtime/chat/ports";
import { LONG_POLL_SECONDS, type JobSource, type ReceivedJob } from "../../runtime/worker-service/job-source";

interface Message {
  messageId: string;
  body: string;
  receiveCount: number;
  visibleAt: number;
  receipt?: string;
}

export class FakeJobQueue implements JobSource {
  readonly messages: Message[] = [];
  readonly deadLetters: Message[] = [];
  readonly deleted: string[] = [];
  readonly visibilityChanges: { messageId: string; seconds: number; receiveCount: number }[] = [];
  /** The `max` of every receive call. */
  readonly receives: number[] = [];
  private waiters: (() => void)[] = [];
  private next = 0;

  constructor(
    private readonly clock: Clock,
    private readonly maxReceives: number,
  ) {}

  send(body: unknown): string {
    const messageId = `m${this.next++}`;
    this.messages.push({ messageId, body: typeof body === "string" ? body : JSON.stringify(body), receiveCount: 0, visibleAt: 0 });
    this.wake();
    return messageId;
  }

  /** Jobs visible and waiting (not received, not in the dead-letter list). */
  get waiting(): number {
    return this.messages.filter((m) => m.visibleAt <= this.clock.now()).length;
  }

  async receive(max: number, signal: AbortSignal): Promise<ReceivedJob[]> {
    this.receives.push(max);
    for (;;) {
      if (signal.aborted) return [];
      const taken = this.take(max);
      if (taken.length > 0) return taken;
      const timedOut = await new Promise<boolean>((resolve) => {
        const timer = this.clock.setTimer(LONG_POLL_SECONDS * 1000, () => done(true));
        const onAbort = () => done(false);
        signal.addEventListener("abort", onAbort, { once: true });
        this.waiters.push(() => done(false));
        function done(timeout: boolean): void {
          timer.cancel();
          signal.removeEventListener("abort", onAbort);
          resolve(timeout);
        }
      });
      // A long poll that found nothing answers empty; a wake-up looks again.
      if (timedOut) return this.take(max);
    }
  }

  async delete(job: ReceivedJob): Promise<void> {
    const i = this.messages.findIndex((m) => m.receipt === job.receipt);
    if (i < 0) throw Object.assign(new Error("receipt handle is not valid"), { name: "ReceiptHandleIsInvalid" });
    this.messages.splice(i, 1);
    this.deleted.push(job.messageId);
  }

  async setVisibility(job: ReceivedJob, seconds: number): Promise<void> {
    const message = this.messages.find((m) => m.receipt === job.receipt);
    if (!message) throw Object.assign(new Error("receipt handle is not valid"), { name: "ReceiptHandleIsInvalid" });
    message.visibleAt = this.clock.now() + seconds * 1000;
    this.visibilityChanges.push({ messageId: job.messageId, seconds, receiveCount: job.receiveCount });
    if (seconds === 0) this.wake();
  }

  /** Moves time-dependent visibility on: wakes pollers so they look again (call after advancing the clock). */
  wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private take(max: number): ReceivedJob[] {
    const taken: ReceivedJob[] = [];
    for (const m of [...this.messages]) {
      if (taken.length >= max) break;
      if (m.visibleAt > this.clock.now()) continue;
      // SQS redrive: a message received maxReceives times goes to the dead-letter queue instead of out again.
      if (m.receiveCount >= this.maxReceives) {
        this.messages.splice(this.messages.indexOf(m), 1);
        this.deadLetters.push(m);
        continue;
      }
      m.receiveCount++;
      m.receipt = `${m.messageId}#${m.receiveCount}`;
      // Invisible until deleted or handed back (the queue's visibility timeout, long for the tests).
      m.visibleAt = this.clock.now() + 3_600_000;
      taken.push({ messageId: m.messageId, receipt: m.receipt, body: m.body, receiveCount: m.receiveCount });
    }
    return taken;
  }
}
