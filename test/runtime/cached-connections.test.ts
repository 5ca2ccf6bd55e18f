import { expect } from "chai";
import { CachedConnectionStore, CONNECTION_MAX_AGE_MS } from "../../runtime/store/cached-connections";
import type { Connection } from "../../runtime/chat/ports";
import { MemoryConnections } from "./fakes";

const connection = (id: string): Connection => ({
  connectionId: id,
  userId: `user-${id}`,
  username: id,
  region: "us-east-1",
  callbackEndpoint: "https://example/prod",
  connectedAt: "2026-11-25T00:00:00.000Z",
  tokenExpiresAt: 1_900_000_000,
});

/** Counts the reads that reach the underlying store. */
class CountingConnections extends MemoryConnections {
  reads = 0;
  override async get(connectionId: string) {
    this.reads++;
    return super.get(connectionId);
  }
}

describe("runtime/store/cached-connections: a connection's identity read once per socket", () => {
  it("reads a stored connection once, and a missing one every time (it may be stored a moment later)", async () => {
    const store = new CountingConnections();
    let now = 0;
    const cached = new CachedConnectionStore(store, () => now);
    expect(await cached.get("a")).to.equal(undefined);
    await store.put(connection("a"), 0);
    expect(await cached.get("a")).to.deep.equal(connection("a"));
    expect(await cached.get("a")).to.deep.equal(connection("a"));
    expect(store.reads).to.equal(2);
    now += CONNECTION_MAX_AGE_MS + 1;
    await cached.get("a");
    expect(store.reads).to.equal(3, "no connection outlives API Gateway's 2-hour limit: read again after it");
  });

  it("shares one read among frames that arrive together, each getting its own copy", async () => {
    const store = new CountingConnections();
    await store.put(connection("b"), 0);
    const cached = new CachedConnectionStore(store);
    const answers = await Promise.all([cached.get("b"), cached.get("b"), cached.get("b")]);
    expect(store.reads).to.equal(1);
    expect(answers).to.deep.equal([connection("b"), connection("b"), connection("b")]);
    answers[0]!.userId = "changed";
    expect(answers[1]!.userId).to.equal("user-b");
  });

  it("forgets a deleted connection, keeps slots in the store, and stays bounded", async () => {
    const store = new CountingConnections();
    const cached = new CachedConnectionStore(store, () => 0, 2);
    for (const id of ["a", "b", "c"]) await store.put(connection(id), 0);
    await cached.get("a");
    await cached.delete("a");
    expect(await cached.get("a")).to.equal(undefined);
    expect(await cached.acquireSlot("b", "t1", 1)).to.equal(true);
    expect(await cached.acquireSlot("b", "t2", 1)).to.equal(false);
    expect(await cached.slotHolders("b")).to.deep.equal(["t1"]);
    await cached.releaseSlot("b", "t1");
    expect(await store.slotHolders("b")).to.deep.equal([]);
    store.reads = 0;
    await cached.get("b");
    await cached.get("c");
    await cached.get("b");
    expect(store.reads).to.equal(2);
    await cached.get("a"); // gone: not cached, the cache still holds at most 2
    await store.put(connection("d"), 0);
    await cached.get("d"); // evicts the oldest (b)
    await cached.get("b");
    expect(store.reads).to.equal(5);
  });
});
