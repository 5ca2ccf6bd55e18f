/**
 * The store contract: the same cases against the in-memory fakes the use-case tests run on (test/runtime/fakes.ts)
 * and the DynamoDB adapters (runtime/store/dynamo-*.ts) on both local engines the project uses, dynalite (what
 * `npm start` runs) and DynamoDB Local (Amazon's emulator), with tables created from runtime/store/schema.ts.
 * A behaviour the fakes get wrong would make every use-case test wrong with it; here it fails.
 */
import { expect } from "chai";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { randomUUID } from "node:crypto";
import type { ChatError } from "../../runtime/chat/errors";
import { newTurnIds } from "../../runtime/chat/ids";
import { InvalidCursor, type ConnectionStore, type HistoryStore, type Turn, type UserLedger } from "../../runtime/chat/ports";
import { leanDocumentClient } from "../../runtime/aws/dynamo-document-client";
import { startDynamo, type DynamoKind } from "../../runtime/local/emulators/dynamodb";
import { DynamoConnectionStore } from "../../runtime/store/dynamo-connections";
import { DynamoHistoryStore } from "../../runtime/store/dynamo-history";
import { sessionKey, turnKey } from "../../runtime/store/history-items";
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
  /** Every item kept under a session, whatever its kind (sort keys, or the fake's names for them). */
  itemsOf(sessionId: string): Promise<string[]>;
  stop(): Promise<void>;
}

async function dynamoStores(kind: DynamoKind): Promise<Stores> {
  const db = await startDynamo({ kind, region: "us-east-1", tablePrefix: `t${randomUUID().slice(0, 8)}` });
  // The client the runtime uses (runtime/aws/dynamo-client.ts): the item calls go to DynamoDB's JSON API directly.
  const doc = leanDocumentClient(
    new DynamoDBClient({ endpoint: db.endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  return {
    connections: new DynamoConnectionStore(() => doc, db.tables.connections),
    history: new DynamoHistoryStore(() => doc, db.tables.history, 30),
    ledger: new DynamoUserLedger(() => doc, db.tables.history),
    expiresAt: async (table, key) => (await doc.send(new GetCommand({ TableName: db.tables[table], Key: key }))).Item?.expiresAt,
    itemsOf: async (sessionId) => {
      const { Items } = await doc.send(
        new QueryCommand({ TableName: db.tables.history, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": `SESSION#${sessionId}` }, ConsistentRead: true }),
      );
      return (Items ?? []).map((item) => String(item.sk));
    },
    stop: async () => {
      doc.destroy();
      await db.stop();
    },
  };
}

const implementations: Array<{ name: string; open: () => Promise<Stores> }> = [
  {
    name: "in-memory fakes",
    open: async () => {
      const history = new MemoryHistory();
      return { connections: new MemoryConnections(), history, ledger: new MemoryLedger(), itemsOf: async (sessionId: string) => history.itemsOf(sessionId), stop: async () => undefined };
    },
  },
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
      // Nothing started: the refusal names no turn (an error naming the answer would read as its end).
      expect((busy as ChatError).ids).to.deep.equal({});
      if (stores.expiresAt) expect(await stores.expiresAt("history", turnKey(sessionId, userId))).to.be.a("number");
    });

    it("conversations: rename only an existing session; erase a session but the live turns' erase requests, then the turn", async () => {
      const sessionId = randomUUID();
      const at = new Date().toISOString();
      expect(await history.renameSession(sessionId, "nothing here")).to.equal(false);
      expect(await history.getSession(sessionId)).to.equal(undefined, "a rename creates nothing");
      await history.createSession({ sessionId, userId: "alice", title: "first words", createdAt: at, updatedAt: at });
      expect(await history.renameSession(sessionId, "Better title")).to.equal(true);
      expect(await history.getSession(sessionId)).to.deep.include({ title: "Better title", updatedAt: at });
      // Enough turns for more than one BatchWriteItem call (25 requests each).
      const ids = newTurnIds(sessionId, Date.now(), 30);
      for (const [i, turnId] of ids.entries()) await history.putTurn(turn(sessionId, turnId, i % 2 === 0 ? "user" : "assistant"));
      const live = ids[ids.length - 1]!;
      await history.watchTurn(sessionId, live, { connectionId: "w1", callbackEndpoint: "https://x", region: "us-east-1", afterSeq: -1, offset: 0, at });
      await history.acknowledgeWatcher(sessionId, live, "w1", at);
      await history.requestStop(sessionId, ids[1]!, at);
      expect((await history.allTurns(sessionId)).map((t) => t.turnId)).to.deep.equal(ids);
      expect(await history.eraseRequested(sessionId, live)).to.equal(false);
      await history.requestErase(sessionId, live, at);
      expect(await history.eraseRequested(sessionId, live)).to.equal(true);
      expect(await history.stopRequested(sessionId, live)).to.equal(true, "an erase request is a stop request");
      expect((await history.turnControl(sessionId, live)).stopRequested).to.equal(true);

      await history.eraseSession(sessionId, [live]);
      expect(await history.getSession(sessionId)).to.equal(undefined);
      expect((await history.listSessions("alice", 50)).map((s) => s.sessionId)).to.not.include(sessionId);
      expect((await history.allTurns(sessionId)).map((t) => t.turnId)).to.deep.equal([live], "the live turn stays for its worker");
      expect(await history.eraseRequested(sessionId, live)).to.equal(true, "the worker still reads it");
      expect(await stores.itemsOf(sessionId)).to.have.length(2);
      await history.eraseTurn(sessionId, live);
      expect(await stores.itemsOf(sessionId)).to.deep.equal([]);
      // The worker's late writes cannot re-create the erased turn (they are conditional on it streaming).
      expect(await history.saveProgress(sessionId, live, "late", at)).to.equal(false);
      expect(await history.finishTurn(sessionId, live, { text: "late", status: "stopped", stopReason: "stopped", usage: { inputTokens: 1, outputTokens: 1 }, ttftMs: null, updatedAt: at })).to.equal(false);
    });

    it("turns: pages oldest first with earlier versions, without dropped turns; context reads newest first before a turn", async () => {
      const sessionId = randomUUID();
      await history.createSession({ sessionId, userId: "alice", title: "t", createdAt: "a", updatedAt: "a" });
      const ids = newTurnIds(sessionId, Date.now(), 9);
      for (const [i, id] of ids.entries()) {
        const marks = i === 3 ? { droppedBy: "x" } : i === 5 ? { supersededBy: "y" } : {};
        await history.putTurn(turn(sessionId, id, i % 2 === 0 ? "user" : "assistant", { text: `#${i}`, ...marks }));
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
      const smallFirstPage: string[] = [];
      for await (const t of history.turnsUpTo(sessionId, ids[6]!, 100, 2)) smallFirstPage.push(t.text);
      expect(smallFirstPage).to.deep.equal(upTo, "a small first page is followed by more pages");
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

    it("putNewTurns writes an exchange (and the session it starts) in one call; turnsUpTo reads only the context's fields", async () => {
      const sessionId = randomUUID();
      const at = new Date().toISOString();
      const [userId, answerId] = newTurnIds(sessionId, Date.now(), 2) as [string, string];
      const question = turn(sessionId, userId, "user", { text: "q" });
      const answer = turn(sessionId, answerId, "assistant", { text: "", status: "streaming", parentTurnId: userId, model: "m", region: "us-east-1", connectionId: "c1" });
      await history.putNewTurns([question, answer], { sessionId, userId: "alice", title: "q", createdAt: at, updatedAt: at });
      expect(await history.getSession(sessionId)).to.deep.equal({ sessionId, userId: "alice", title: "q", createdAt: at, updatedAt: at });
      expect(await history.getTurn(sessionId, userId)).to.deep.equal(question);
      expect(await history.getTurn(sessionId, answerId)).to.deep.equal(answer);
      const [later] = newTurnIds(sessionId, Date.now(), 1);
      await history.putNewTurns([turn(sessionId, later!, "user", { text: "q2" })]);
      expect(await history.getTurn(sessionId, later!)).to.include({ text: "q2" });

      const read = [];
      for await (const t of history.turnsUpTo(sessionId, answerId, 10)) read.push(t);
      expect(read).to.deep.equal([
        { turnId: answerId, role: "assistant", text: "", status: "streaming", parentTurnId: userId },
        { turnId: userId, role: "user", text: "q", status: "complete" },
      ]);
    });

    it("touchOwnSession moves only the owner's existing session, in one conditional write, and untouchSession puts it back", async () => {
      const sessionId = randomUUID();
      const at = new Date(Date.now() - 60_000).toISOString();
      await history.createSession({ sessionId, userId: "alice", title: "t", createdAt: at, updatedAt: at });
      const now = new Date().toISOString();
      expect(await history.touchOwnSession(sessionId, "bob", now)).to.equal(false);
      expect((await history.getSession(sessionId))?.updatedAt).to.equal(at, "another user's send moved nothing");
      const touch = await history.touchOwnSession(sessionId, "alice", now);
      expect(touch).to.deep.equal({ previousAt: at });
      expect((await history.getSession(sessionId))?.updatedAt).to.equal(now);
      const missing = randomUUID();
      expect(await history.touchOwnSession(missing, "alice", now)).to.equal(false);
      expect(await history.getSession(missing)).to.equal(undefined, "a session that does not exist is not created");

      // A send refused after its touch puts the session back where it was, unless something touched it since.
      await history.untouchSession(sessionId, now, touch as { previousAt: string });
      expect((await history.getSession(sessionId))?.updatedAt).to.equal(at);
      const later = new Date(Date.now() + 1_000).toISOString();
      const second = await history.touchOwnSession(sessionId, "alice", now);
      await history.touchSession(sessionId, later);
      await history.untouchSession(sessionId, now, second as { previousAt: string });
      expect((await history.getSession(sessionId))?.updatedAt).to.equal(later, "a newer touch stands");
    });

    it("edit and continue: dropTurn marks an ended turn once; reopenTurn reopens an unchanged one; control is cleared", async () => {
      const sessionId = randomUUID();
      const [userId, answerId, liveId] = newTurnIds(sessionId, Date.now(), 3) as [string, string, string];
      const answer = turn(sessionId, answerId, "assistant", { text: "partial", status: "stopped", stopReason: "stopped", generationStartedAt: "g", region: "eu-west-1" });
      await history.putTurn(turn(sessionId, userId, "user"));
      await history.putTurn(answer);
      await history.putTurn(turn(sessionId, liveId, "assistant", { status: "streaming" }));
      expect(await history.dropTurn(sessionId, liveId, "e", "at")).to.equal(false, "a streaming turn is its worker's");
      expect(await history.reopenTurn(sessionId, answerId, "an older updatedAt", { region: "us-east-1", connectionId: "c", at: "t1" })).to.equal(false);
      expect(await history.reopenTurn(sessionId, answerId, answer.updatedAt, { region: "us-east-1", connectionId: "c", at: "t1" })).to.equal(true);
      expect(await history.reopenTurn(sessionId, answerId, answer.updatedAt, { region: "us-east-1", connectionId: "c2", at: "t2" })).to.equal(false, "once");
      const reopened = (await history.getTurn(sessionId, answerId))!;
      expect(reopened).to.include({ status: "streaming", continuedAt: "t1", updatedAt: "t1", region: "us-east-1", connectionId: "c", text: "partial" });
      expect(reopened.generationStartedAt).to.equal(undefined);
      expect(await history.startGeneration(sessionId, answerId, "t3")).to.include({ turnId: answerId });

      await history.requestStop(sessionId, liveId, "at");
      await history.watchTurn(sessionId, liveId, { connectionId: "w", callbackEndpoint: "e", region: "r", afterSeq: 0, offset: 1, at: "at" });
      await history.acknowledgeWatcher(sessionId, liveId, "w", "at");
      await history.clearTurnControl(sessionId, liveId);
      expect(await history.turnControl(sessionId, liveId)).to.deep.equal({ stopRequested: false, watchers: [], acknowledged: [] });

      expect(await history.dropTurn(sessionId, userId, "e", "at")).to.equal(true);
      expect(await history.dropTurn(sessionId, userId, "f", "at")).to.equal(false, "once");
      expect((await history.getTurn(sessionId, userId))!.droppedBy).to.equal("e");
      expect((await history.pageTurns(sessionId, 10)).turns.map((t) => t.turnId)).to.deep.equal([answerId, liveId]);
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
