/**
 * How far back the last model context of a session reached, remembered by this container: the next message of that
 * session asks the store for about that many turns in the first page of its context Query, instead of a full page.
 * A long conversation's context holds far fewer turns than a page (200): each turn read beyond what the budget
 * takes is bytes DynamoDB reads and charges for, and an item this function parses before the model call. A guess
 * never changes what the context holds: a first page that falls short is followed by more pages (context.ts), and a
 * session this container has not seen reads a full page.
 */

/** Sessions remembered per container (the oldest use is forgotten first). */
const SESSIONS = 1_000;

export class ContextReach {
  private readonly turns = new Map<string, number>();

  constructor(private readonly capacity = SESSIONS) {}

  /**
   * The first page for the session's next context: the turns it took last time, the exchange written since (2) and
   * a margin for shorter turns coming into the budget; undefined when this container has not built one.
   */
  firstPage(sessionId: string): number | undefined {
    const last = this.turns.get(sessionId);
    if (last === undefined) return undefined;
    // Refreshed: the map's order is the order of use.
    this.turns.delete(sessionId);
    this.turns.set(sessionId, last);
    return last + 2 + Math.max(4, Math.ceil(last / 4));
  }

  /** The turns the session's context read before it stopped (the budget was spent, or the history ended). */
  record(sessionId: string, turnsRead: number): void {
    this.turns.delete(sessionId);
    this.turns.set(sessionId, turnsRead);
    if (this.turns.size > this.capacity) this.turns.delete(this.turns.keys().next().value!);
  }
}
