import { expect } from "chai";
import { isUuid, newSessionId, newTurnIds, sessionOfTurn, turnCreatedAt } from "../../runtime/chat/ids";

describe("runtime/chat/ids", () => {
  it("turn ids sort by creation time, also many within one millisecond, and name their session", () => {
    const session = newSessionId();
    expect(isUuid(session)).to.equal(true);
    const now = Date.now();
    const ids = [...newTurnIds(session, now, 3), ...newTurnIds(session, now, 3), ...newTurnIds(session, now - 5000, 2)];
    expect([...ids].sort()).to.deep.equal(ids);
    for (const id of ids) {
      expect(sessionOfTurn(id)).to.equal(session);
      expect(turnCreatedAt(id)).to.be.within(now - 1, now + 100);
    }
  });

  it("refuses ids that are not ours", () => {
    for (const bad of ["", "garbage", "abc_def", "0mwwh4i5fb839ff13_not-a-uuid", `_${newSessionId()}`]) {
      expect(sessionOfTurn(bad), bad).to.equal(undefined);
      expect(turnCreatedAt(bad), bad).to.equal(undefined);
    }
  });
});
