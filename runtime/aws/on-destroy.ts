/**
 * Work to do when an SDK client is destroyed. The lean transports made from a client's configuration (the Bedrock
 * stream's kept HTTP/2 sessions, ../model/bedrock.ts; the @connections keep-alive pool, ../connections/sender.ts) live
 * beside the client, not in it, so the client's own `destroy()` does not reach them: registered here, they end with it.
 */

interface Destroyable {
  destroy(): void;
}

const registered = new WeakMap<Destroyable, Array<() => void>>();

/** Runs `cleanup` once, when `client.destroy()` is next called (before the client's own destroy). */
export function onDestroy(client: Destroyable, cleanup: () => void): void {
  let cleanups = registered.get(client);
  if (!cleanups) {
    const list: Array<() => void> = [];
    cleanups = list;
    registered.set(client, list);
    const destroy = client.destroy.bind(client);
    // An own property in front of the class's method: this instance only.
    client.destroy = () => {
      for (const cleanup of list.splice(0)) cleanup();
      destroy();
    };
  }
  cleanups.push(cleanup);
}
