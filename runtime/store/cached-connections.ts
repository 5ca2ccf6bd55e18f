/**
 * A ConnectionStore that remembers, per container, the connections it has read. A connection's identity (user,
 * region, callback endpoint) is written once on `$connect` and never changes, and API Gateway delivers frames only
 * from open connections, so a warm message handler need not read it again for every frame of the same socket.
 * Only successful reads are kept (a connection not yet stored is read again), bounded in number and age. The
 * token's expiry is part of the cached record, so checking it on every frame costs no read either.
 */
import type { Connection, ConnectionStore } from "../chat/ports";

/** API Gateway's WebSocket connection duration quota: no connection outlives it. */
export const CONNECTION_MAX_AGE_MS = 2 * 60 * 60 * 1000;

export class CachedConnectionStore implements ConnectionStore {
  private readonly cache = new Map<string, { connection: Connection; until: number }>();
  private readonly reading = new Map<string, Promise<Connection | undefined>>();

  constructor(
    private readonly store: ConnectionStore,
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 1000,
  ) {}

  async get(connectionId: string): Promise<Connection | undefined> {
    const hit = this.cache.get(connectionId);
    if (hit && hit.until > this.now()) return { ...hit.connection };
    this.cache.delete(connectionId);
    // Frames that arrive together share one read, and see its answer in the order they asked.
    let read = this.reading.get(connectionId);
    if (!read) {
      read = this.read(connectionId).finally(() => this.reading.delete(connectionId));
      this.reading.set(connectionId, read);
    }
    const connection = await read;
    return connection && { ...connection };
  }

  private async read(connectionId: string): Promise<Connection | undefined> {
    const connection = await this.store.get(connectionId);
    if (connection) {
      // Oldest first out when full (a Map iterates in insertion order).
      if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(connectionId, { connection: { ...connection }, until: this.now() + CONNECTION_MAX_AGE_MS });
    }
    return connection;
  }

  put(connection: Connection, expiresAtEpochSeconds: number): Promise<void> {
    return this.store.put(connection, expiresAtEpochSeconds);
  }

  async delete(connectionId: string): Promise<void> {
    this.cache.delete(connectionId);
    await this.store.delete(connectionId);
  }

  acquireSlot(connectionId: string, turnId: string, max: number): Promise<boolean> {
    return this.store.acquireSlot(connectionId, turnId, max);
  }

  releaseSlot(connectionId: string, turnId: string): Promise<void> {
    return this.store.releaseSlot(connectionId, turnId);
  }

  slotHolders(connectionId: string): Promise<string[]> {
    return this.store.slotHolders(connectionId);
  }
}
