/**
 * The DynamoDB adapters against both local DynamoDB engines the project uses: dynalite (what `npm start` runs)
 * and DynamoDB Local (Amazon's emulator), with tables created from runtime/store/schema.ts.
 */
import { expect } from "chai";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { randomUUID } from "node:crypto";
import { newTurnIds } from "../../runtime/chat/ids";
import { InvalidCursor, type Turn } from "../../runtime/chat/ports";
import { startDynamo, type DynamoKind, type LocalDynamo } from "../../runtime/local/dynamodb";
import { DynamoConnectionStore } from "../../runtime/store/dynamo-connections";
import { DynamoHistoryStore, sessionKey, turnKey } from "../../runtime/store/dynamo-history";
import { DynamoUserLedger } from "../../runtime/store/dynamo-ledger";

function turn(sessionId: string, turnId: string, role: "user" | "assistant", over: Partial<Turn> = {}): Turn {
  const at = new Date().toISOString();
  return { turnId, sessionId, userId: "alice", role, text: `${role} text`, status: "complete", clientMessageId: "m", createdAt: at, updatedAt: at, ...over };
}

for (const kind of ["dynalite", "dynamodb-local"] as DynamoKind[]) {
  describe(`runtime/store on ${kind}`, function () {
    this.timeout(60_000);
    let db: LocalDynamo;
    let doc: DynamoDBDocumentClient;
    let connections: DynamoConnectionStore;
    let history: DynamoHistoryStore;
    let ledger: DynamoUserLedger;

    before(async () => {
      db = await startDynamo({ kind, region: "us-east-1", tablePrefix: `t${randomUUID().slice(0, 8)}` });
      doc = DynamoDBDocumentClient.from(
        new DynamoDBClient({ endpoint: db.endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } }),
        { marshallOptions: { removeUndefinedValues: true } },
      );
      connections = new DynamoConnectionStore(() => doc, db.tables.connections);
      history = new DynamoHistoryStore(() => doc, db.tables.history, 30);
      ledger = new DynamoUserLedger(() => doc, db.tables.history);
    });
    after(async () => {
      doc?.destroy();
      await db?.stop();
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
      const { Item } = await doc.send(new GetCommand({ TableName: db.tables.connections, Key: { connectionId: "c1" } }));
      expect(Item!.expiresAt).to.equal(1_900_000_000);
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
      const { Item } = await doc.send(new GetCommand({ TableName: db.tables.history, Key: sessionKey(ids[0]!) }));
      expect(Item!.expiresAt).to.be.greaterThan(Date.now() / 1000 + 29 * 86_400);
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
      const { Item } = await doc.send(new GetCommand({ TableName: db.tables.history, Key: turnKey(sessionId, userId) }));
      expect(Item!.expiresAt).to.be.a("number");
    });

    it("turns: pages oldest first without superseded answers; context reads newest first before a turn", async () => {
      const sessionId = randomUUID();
      await history.createSession({ sessionId, userId: "alice", title: "t", createdAt: "a", updatedAt: "a" });
      const ids = newTurnIds(sessionId, Date.now(), 9);
      for (const [i, id] of ids.entries()) {
        await history.putTurn(turn(sessionId, id, i % 2 === 0 ? "user" : "assistant", { text: `#${i}`, ...(i === 3 ? { supersededBy: "x" } : {}) }));
      }
      const first = await history.pageTurns(sessionId, 4);
      expect(first.turns.map((t) => t.text)).to.deep.equal(["#0", "#1", "#2", "#4"]);
      expect(first.cursor).to.be.a("string");
      const second = await history.pageTurns(sessionId, 4, first.cursor);
      expect(second.turns.map((t) => t.text)).to.deep.equal(["#5", "#6", "#7", "#8"]);
      const third = await history.pageTurns(sessionId, 4, second.cursor);
      expect(third.turns).to.deep.equal([]);
      expect(third.cursor).to.equal(undefined);
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
