/**
 * An open connection does not outlive its token (wire protocol, Connect): a frame received after the token's `exp`
 * gets `error` `forbidden`, naming no turn or message, and the connection is closed; the check reads nothing more
 * than the frame's own connection lookup, which a warm container caches per socket.
 */
import { expect } from "chai";
import { handleClientFrame } from "../../runtime/chat/dispatch";
import { CachedConnectionStore } from "../../runtime/store/cached-connections";
import { MemoryConnections } from "./fakes";
import { createWorld, send } from "./world";

/** Counts the reads that reach the store. */
class CountingConnections extends MemoryConnections {
  reads = 0;
  override async get(connectionId: string) {
    this.reads++;
    return super.get(connectionId);
  }
}

describe("runtime/chat: a connection does not outlive its token", () => {
  it("serves frames before the token's exp; after it every frame (send, ping, garbage) is forbidden and the connection closed", async () => {
    const w = createWorld();
    const c = await w.connect("c-expiring", "alice", 60);
    const exp = w.connections.items.get(c)!.connection.tokenExpiresAt;
    const frame = (body: unknown, receivedAt: number) =>
      handleClientFrame({ connectionId: c, body: typeof body === "string" ? body : JSON.stringify(body), receivedAt }, w.messageDeps);

    expect(await frame(send("before"), exp * 1000 - 1)).to.deep.equal({ action: "send" });
    expect(w.queue.jobs).to.have.length(1);
    expect(w.sender.closed).to.deep.equal([]);

    for (const body of [send("after"), { action: "ping" }, { action: "sessions" }, "not json"]) {
      w.sender.frames.length = 0;
      expect(await frame(body, exp * 1000)).to.deep.include({ error: "forbidden" });
      expect(w.sender.frames).to.have.length(1);
      const [{ frame: refusal }] = w.sender.frames;
      expect(refusal).to.include({ type: "error", code: "forbidden" });
      // No ids: the frame was not looked at, so the client may send it again with a fresh token.
      expect(refusal).not.to.have.any.keys("turnId", "clientMessageId");
    }
    expect(w.queue.jobs, "nothing started after the expiry").to.have.length(1);
    expect(w.sender.closed).to.deep.equal([c, c, c, c]);
    expect(w.metrics.errors).to.deep.equal(["forbidden", "forbidden", "forbidden", "forbidden"]);
  });

  it("another user's connection with a live token is unaffected", async () => {
    const w = createWorld();
    const expiring = await w.connect("c-old", "alice", 1);
    const live = await w.connect("c-live", "bob", 3600);
    const later = Date.now() + 5_000;
    await handleClientFrame({ connectionId: expiring, body: JSON.stringify({ action: "ping" }), receivedAt: later }, w.messageDeps);
    await handleClientFrame({ connectionId: live, body: JSON.stringify({ action: "ping" }), receivedAt: later }, w.messageDeps);
    expect(w.sender.of("pong", live)).to.have.length(1);
    expect(w.sender.of("error", live)).to.have.length(0);
    expect(w.sender.closed).to.deep.equal([expiring]);
  });

  it("adds no store round trip per frame: a warm container reads the connection once per socket", async () => {
    const w = createWorld();
    const store = new CountingConnections();
    const deps = { ...w.messageDeps, connections: new CachedConnectionStore(store) };
    const c = "c-cached";
    await store.put(
      { connectionId: c, userId: "alice", username: "alice", region: "us-east-1", callbackEndpoint: "https://x/prod", connectedAt: new Date().toISOString(), tokenExpiresAt: Math.floor(Date.now() / 1000) + 60 },
      0,
    );
    for (let i = 0; i < 5; i++) await handleClientFrame({ connectionId: c, body: JSON.stringify({ action: "ping" }), receivedAt: Date.now() }, deps);
    await handleClientFrame({ connectionId: c, body: JSON.stringify({ action: "ping" }), receivedAt: Date.now() + 61_000 }, deps);
    expect(store.reads).to.equal(1);
    expect(w.sender.of("pong")).to.have.length(5);
    expect(w.sender.of("error")).to.have.length(1);
    expect(w.sender.closed).to.deep.equal([c]);
  });

  it("counts a stored connection without an expiry (written before expiry was stored) as expired", async () => {
    const w = createWorld();
    const c = await w.connect("c-legacy", "alice");
    w.connections.items.get(c)!.connection.tokenExpiresAt = 0;
    await w.frame(c, { action: "sessions" });
    expect(w.sender.of("error")[0]).to.include({ code: "forbidden" });
    expect(w.sender.closed).to.deep.equal([c]);
  });
});
