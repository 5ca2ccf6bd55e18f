/**
 * The store contract: the same cases against the in-memory fakes the use-case tests run on (test/runtime/fakes.ts)
 * and the DynamoDB adapters (runtime/store/dynamo-*.ts) on both local engines the project uses, dynalite (what
 * `npm start` runs) and DynamoDB Local (Amazon's emulator), with tables created from runtime/store/schema.ts.
 * A behaviour the fakes get wrong would make every use-case test wrong with it; here it fails.
 */
import { expect } from "chai";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { randomUUID } from "node:crypto";
import { newTurnIds } from "../../runtime/chat/ids";
import { InvalidCursor, type ConnectionStore, type HistoryStore, type Turn, type UserLedger } from "../../runtime/chat/ports";
import { startDynamo, type DynamoKind } from "../../runtime/local/emulators/dynamodb";
import { DynamoConnectionStore } from "../../runtime/store/dynamo-connections";
import { DynamoHistoryStore, sessionKey, turnKey } from "../../runtime/store/dynamo-history";
import { DynamoUserLedger } from "../../runtime/store/dynamo-ledger";
import { MemoryConnections, MemoryHistory, MemoryLedger } from "./fakes";

function turn(sessionId: string, turnId: string, role: "user" | "assistant", over: Partial<Turn> = {}): Turn {
  const at = new Date().toISOString();
  return { turnId, sessionId, userId: "alice", role, text: `${role} text`, status: "complete", clientMessageId: "m", createdAt: at, updatedAt: at, ...over };
}

interface Stores {
  connections: ConnectionStore;
  history: HistoryStore;
  ledger: UserLedger;
  /** The stored item's `expiresAt` (TTL attribute), for the engines that have one. */
  expiresAt?: (table: "connections" | "history", key: Record<string, string>) => Promise<unknown>;
  stop(): Promise<void>;
}

async function dynamoStores(kind: DynamoKind): Promise<Stores> {
  const db = await startDynamo({ kind, region: "us-east-1", tablePrefix: `t${randomUUID().slice(0, 8)}` });
  const doc = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: db.endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  return {
    connections: new DynamoConnectionStore(() => doc, db.tables.connections),
    history: new DynamoHistoryStore(() => doc, db.tables.history, 30),
    ledger: new DynamoUserLedger(() => doc, db.tables.history),
    expiresAt: async (table, key) => (await doc.send(new GetCommand({ TableName: db.tables[table], Key: key }))).Item?.expiresAt,
    stop: async () => {
      doc.destroy();
      await db.stop();
    },
  };
}

const implementations: Array<{ name: string; open: () => Promise<Stores> }> = [
  { name: "in-memory fakes", open: async () => ({ connections: new MemoryConnections(), history: new MemoryHistory(), ledger: new MemoryLedger(), stop: async () => undefined }) },
  { name: "DynamoDB adapters on dynalite", open: () => dynamoStores("dynalite") },
  { name: "DynamoDB adapters on DynamoDB Local", open: () => dynamoStores("dynamodb-local") },
];

for (const implementation of implementations) {
  describe(`store contract: ${implementation.name}`, function () {
    this.timeout(60_000);
    let stores: Stores;
    let connections: ConnectionStore;
    let history: HistoryStore;
    let ledger: UserLedger;

    before(async () => {
      stores = await implementation.open();
      ({ connections, history, ledger } = stores);
    });
    after(async () => {
      await stores?.stop();
    });

    it("connections: put, get, concurrent-turn slots (bounded), release, delete", async () => {
      const c = { connectionId: "c1", userId: "alice", username: "alice", region: "us-east-1", callbackEndpoint: "https://x/prod", connectedAt: new Date().toISOString(), tokenExpiresAt: 1_800_000_000 };
      await connections.put(c, 1_900_000_000);
      expect(await connections.get("c1")).to.deep.equal(c);
      expect(await connections.acquireSlot("c1", "t1", 2)).to.equal(true);
      expect(await connections.acquireSlot("c1", "t2", 2)).to.equal(true);
      expect(await connections.acquireSlot("c1", "t3", 2)).to.equal(false);
      await connections.releaseSlot("c1", "t1");
      await connections.releaseSlot("c1", "t1"); // a repeated release cannot free a second slot
      expect(await connections.acquireSlot("c1", "t3", 2)).to.equal(true);
      expect(await connections.acquireSlot("c1", "t4", 2)).to.equal(false);
      expect((await connections.slotHolders("c1")).sort()).to.deep.equal(["t2", "t3"]);
      if (stores.expiresAt) expect(await stores.expiresAt("connections", { connectionId: "c1" })).to.equal(1_900_000_000);
      await connections.delete("c1");
      expect(await connections.get("c1")).to.equal(undefined);
      expect(await connections.acquireSlot("c1", "t5", 2)).to.equal(false, "no slot on a gone connection");
      await connections.releaseSlot("c1", "t5");
      expect(await connections.get("c1")).to.equal(undefined, "releasing does not resurrect the item");
    });

    it("sessions: create once, touch, list newest first through the sessionsByUser index", async () => {
      const user = `u-${randomUUID()}`;
      const ids = [randomUUID(), randomUUID(), randomUUID()];
      for (const [i, sessionId] of ids.entries()) {
        const at = new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString();
        await history.createSession({ sessionId, userId: user, title: `s${i}`, createdAt: at, updatedAt: at });
      }
      let duplicate: unknown;
      await history.createSession({ sessionId: ids[0]!, userId: "mallory", title: "x", createdAt: "2026", updatedAt: "2026" }).catch((e) => (duplicate = e));
      expect(duplicate).to.have.property("name", "ConditionalCheckFailedException");
      await history.touchSession(ids[0]!, new Date(Date.UTC(2026, 0, 2)).toISOString());
      expect((await history.listSessions(user, 10)).map((s) => s.title)).to.deep.equal(["s0", "s2", "s1"]);
      expect(await history.getSession(ids[1]!)).to.deep.include({ userId: user, title: "s1" });
      if (stores.expiresAt) expect(await stores.expiresAt("history", sessionKey(ids[0]!))).to.be.greaterThan(Date.now() / 1000 + 29 * 86_400);
      let missing: unknown;
      await history.touchSession(randomUUID(), "x").catch((e) => (missing = e));
      expect(missing).to.have.property("name", "ConditionalCheckFailedException");
    });

    it("turns: generation claimed once, stop only while streaming, closed once, regenerate winner", async () => {
      const sessionId = randomUUID();
      const [userId, answerId, retryId] = newTurnIds(sessionId, Date.now(), 3) as [string, string, string];
      await history.putTurn(turn(sessionId, userId, "user"));
      await history.putTurn(turn(sessionId, answerId, "assistant", { status: "streaming", text: "", parentTurnId: userId }));
      expect((await history.startGeneration(sessionId, answerId, "t0"))!.generationStartedAt).to.equal("t0");
      expect(await history.saveProgress(sessionId, answerId, "part", "t0.5")).to.equal(true);
      expect(await history.getTurn(sessionId, answerId)).to.deep.include({ text: "part", status: "streaming" });
      expect(await history.startGeneration(sessionId, answerId, "t1")).to.equal(undefined);
      expect(await history.stopRequested(sessionId, answerId)).to.equal(false);
      await history.requestStop(sessionId, answerId, "s0");
      expect(await history.stopRequested(sessionId, answerId)).to.equal(true);
      expect(await history.stopRequested(sessionId, userId)).to.equal(false);
      expect(await history.getTurn(sessionId, answerId)).not.to.have.property("requestedAt");
      const result = { text: "partial", status: "stopped" as const, stopReason: "stopped" as const, usage: { inputTokens: 3, outputTokens: 2 }, ttftMs: 120, updatedAt: "t2" };
      expect(await history.finishTurn(sessionId, answerId, result)).to.equal(true);
      expect(await history.finishTurn(sessionId, answerId, { ...result, text: "other" })).to.equal(false);
      expect(await history.saveProgress(sessionId, answerId, "late checkpoint", "t9")).to.equal(false);
      expect(await history.getTurn(sessionId, answerId)).to.deep.include({ text: "partial", status: "stopped", stopReason: "stopped", ttftMs: 120, usage: { inputTokens: 3, outputTokens: 2 } });
      expect(await history.supersede(sessionId, answerId, retryId, "t3")).to.equal(retryId);
      expect(await history.supersede(sessionId, answerId, "someone-else", "t4")).to.equal(retryId);
      await history.putTurn(turn(sessionId, newTurnIds(sessionId, Date.now(), 1)[0]!, "assistant", { status: "streaming", text: "" }));
      let busy: unknown;
      const streaming = (await history.pageTurns(sessionId, 10)).turns.find((t) => t.status === "streaming")!;
      await history.supersede(sessionId, streaming.turnId, "later", "t5").catch((e) => (busy = e));
      expect(busy, "a streaming answer cannot be replaced").to.have.property("code", "busy");
      if (stores.expiresAt) expect(await stores.expiresAt("history", turnKey(sessionId, userId))).to.be.a("number");
    });

    it("turns: pages oldest first without superseded answers; context reads newest first before a turn", async () => {
      const sessionId = randomUUID();
      await history.createSession({ sessionId, userId: "alice", title: "t", createdAt: "a", updatedAt: "a" });
      const ids = newTurnIds(sessionId, Date.now(), 9);
      for (const [i, id] of ids.entries()) {
        await history.putTurn(turn(sessionId, id, i % 2 === 0 ? "user" : "assistant", { text: `#${i}`, ...(i === 3 ? { supersededBy: "x" } : {}) }));
      }
      // Whether a full last page carries a cursor (to an empty page) is the store's choice; what the pages hold is not.
      const pages: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await history.pageTurns(sessionId, 4, cursor);
        pages.push(page.turns.map((t) => t.text));
        cursor = page.cursor;
      } while (cursor !== undefined && pages.length < 5);
      expect(pages[0]).to.deep.equal(["#0", "#1", "#2", "#4"]);
      expect(pages[1]).to.deep.equal(["#5", "#6", "#7", "#8"]);
      expect(pages.slice(2).flat(), "pages after the last turn").to.deep.equal([]);
      expect(cursor, "the last page has no cursor").to.equal(undefined);
      let invalid: unknown;
      await history.pageTurns(sessionId, 4, "bm9wZQ").catch((e) => (invalid = e));
      expect(invalid).to.be.instanceOf(InvalidCursor);

      const upTo: string[] = [];
      for await (const t of history.turnsUpTo(sessionId, ids[6]!, 100)) upTo.push(t.text);
      expect(upTo).to.deep.equal(["#6", "#5", "#4", "#3", "#2", "#1", "#0"], "the turn, then the older ones newest first, without the session item");
      const bounded: string[] = [];
      for await (const t of history.turnsUpTo(sessionId, ids[8]!, 3)) bounded.push(t.text);
      expect(bounded).to.deep.equal(["#8", "#7", "#6", "#5"]);
      const missing: string[] = [];
      for await (const t of history.turnsUpTo(sessionId, `${ids[8]!}x`, 2)) missing.push(t.text);
      expect(missing).to.deep.equal(["#8", "#7"], "a turn that does not exist: only the older ones");
      // The message handler reads the context before it writes the new turn: a fresh id, newer than every turn.
      const [next] = newTurnIds(sessionId, Date.now(), 1);
      const beforeNew: string[] = [];
      for await (const t of history.turnsUpTo(sessionId, next!, 100)) beforeNew.push(t.text);
      expect(beforeNew).to.deep.equal(["#8", "#7", "#6", "#5", "#4", "#3", "#2", "#1", "#0"], "a turn not written yet: every turn before it");
    });

    it("ledger: a clientMessageId is claimed once; the quota counter stops at the limit", async () => {
      const claim = { userId: "alice", clientMessageId: randomUUID(), sessionId: "s", userTurnId: "u", assistantTurnId: "a", createdAt: "now" };
      expect(await ledger.claim(claim)).to.equal("claimed");
      expect(await ledger.claim({ ...claim, assistantTurnId: "other" })).to.deep.equal(claim);
      expect(await ledger.getClaim("alice", claim.clientMessageId)).to.deep.equal(claim);
      expect(await ledger.getClaim("bob", claim.clientMessageId)).to.equal(undefined);
      await ledger.releaseClaim("alice", claim.clientMessageId);
      expect(await ledger.getClaim("alice", claim.clientMessageId)).to.equal(undefined);
      const minute = `m-${randomUUID()}`;
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await ledger.countMessage("alice", minute, 3));
      expect(results).to.deep.equal([true, true, true, false]);
      expect(await ledger.countMessage("bob", minute, 3)).to.equal(true);
      // Taking one back makes room for one more; it never goes below zero.
      await ledger.uncountMessage("alice", minute);
      expect(await ledger.countMessage("alice", minute, 3)).to.equal(true);
      expect(await ledger.countMessage("alice", minute, 3)).to.equal(false);
      const fresh = `m-${randomUUID()}`;
      await ledger.uncountMessage("carol", fresh);
      await ledger.uncountMessage("carol", fresh);
      expect(await ledger.countMessage("carol", fresh, 1)).to.equal(true);
      expect(await ledger.countMessage("carol", fresh, 1)).to.equal(false);
    });
  });
}
