/**
 * Puts one turn's `delta` frames back in `seq` order. The protocol promises order and no gaps, but a client must
 * not trust it blindly: a duplicate (a retried @connections POST) is dropped, and a frame that arrives early is
 * held until the missing ones come; a gap that never closes is reported so the caller can re-read history.
 */
export interface DeltaLike {
  seq: number;
  text: string;
}

export type AcceptResult =
  /** Text that is now contiguous and can be appended (may join several held frames). */
  | { kind: "append"; text: string }
  /** A frame already applied: ignore it. */
  | { kind: "duplicate" }
  /** A frame after a hole: held until the hole is filled. */
  | { kind: "held"; missingFrom: number };

export class DeltaSequencer {
  private readonly held = new Map<number, string>();

  /** `firstSeq`: the seq of the first frame (0, or where a continued answer's frames start). */
  constructor(private nextSeq = 0) {}

  /** The seq the sequencer waits for next (equals the number of frames applied). */
  get expected(): number {
    return this.nextSeq;
  }

  /** True while frames are held behind a missing one. */
  get hasGap(): boolean {
    return this.held.size > 0;
  }

  accept(delta: DeltaLike): AcceptResult {
    if (!Number.isInteger(delta.seq) || delta.seq < this.nextSeq || this.held.has(delta.seq)) {
      return { kind: "duplicate" };
    }
    if (delta.seq > this.nextSeq) {
      this.held.set(delta.seq, delta.text);
      return { kind: "held", missingFrom: this.nextSeq };
    }
    let text = delta.text;
    this.nextSeq += 1;
    for (let next = this.held.get(this.nextSeq); next !== undefined; next = this.held.get(this.nextSeq)) {
      text += next;
      this.held.delete(this.nextSeq);
      this.nextSeq += 1;
    }
    return { kind: "append", text };
  }
}
