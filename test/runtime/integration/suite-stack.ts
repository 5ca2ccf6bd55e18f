/**
 * A local stack for one `describe` block of the wire tests: started before its tests and stopped after them, with
 * every client they opened through `connect` (in the primary region, or the one named).
 */
import { startLocalStack, type LocalStack, type LocalStackOptions } from "../../../runtime/local/stack";
import { ChatClient } from "./client";

export interface SuiteStack {
  /** The running stack (set once `before` has run). */
  readonly stack: LocalStack;
  connect(user: string, region?: string): Promise<ChatClient>;
}

export function suiteStack(options: LocalStackOptions): SuiteStack {
  let stack: LocalStack | undefined;
  const clients: ChatClient[] = [];
  before(async () => {
    stack = await startLocalStack(options);
  });
  after(async () => {
    for (const c of clients) c.close();
    await stack?.stop();
  });
  return {
    get stack() {
      if (!stack) throw new Error("the stack starts in the suite's before hook");
      return stack;
    },
    async connect(user, region) {
      const running = this.stack;
      const url = region === undefined ? running.wsUrl : running.regions.find((r) => r.region === region)!.wsUrl;
      const client = await ChatClient.open(url, await running.token(user));
      clients.push(client);
      return client;
    },
  };
}
