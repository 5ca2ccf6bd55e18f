/** runtime/aws/on-destroy.ts: cleanups registered on a client run once, before the client's own destroy, on that instance only. */
import { expect } from "chai";
import { onDestroy } from "../../runtime/aws/on-destroy";

class Client {
  constructor(private readonly log: string[]) {}
  destroy(): void {
    this.log.push("client");
  }
}

describe("runtime/aws/on-destroy: work that ends with an SDK client", () => {
  it("runs every cleanup once, in order, before the client's own destroy, and only for that instance", () => {
    const log: string[] = [];
    const client = new Client(log);
    const other = new Client(log);
    onDestroy(client, () => log.push("first"));
    onDestroy(client, () => log.push("second"));
    other.destroy();
    expect(log).to.deep.equal(["client"]);
    client.destroy();
    expect(log).to.deep.equal(["client", "first", "second", "client"]);
    client.destroy();
    expect(log, "a second destroy runs no cleanup again").to.deep.equal(["client", "first", "second", "client", "client"]);
    onDestroy(client, () => log.push("later"));
    client.destroy();
    expect(log.slice(-2), "a cleanup registered after a destroy runs at the next").to.deep.equal(["later", "client"]);
  });
});
