/** Test helpers: a WebSocket client that queues frames, and a handshake that reports a refusal's HTTP status. */
import WebSocket from "ws";

export interface TestSocket {
  ws: WebSocket;
  /** Resolves with the next frame matching `accept` (frames already received count), or rejects after `timeoutMs`. */
  next<T = Record<string, unknown>>(accept?: (frame: T) => boolean, timeoutMs?: number): Promise<T>;
  /** Every text frame received so far, parsed as JSON when it is JSON. */
  frames: unknown[];
  closed: Promise<{ code: number; reason: string }>;
  send(frame: unknown): void;
}

/** The subprotocols a chat client offers: `chat.v1`, then the token (wire protocol, Connect). */
export function chatProtocols(token: string): string[] {
  return ["chat.v1", token];
}

/** `headers`: extra handshake headers (e.g. a forged X-Origin-Verify). */
export function openSocket(url: string, protocols?: string[], headers?: Record<string, string>): Promise<TestSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, headers ? { headers } : {});
    const frames: unknown[] = [];
    const waiters: Array<() => void> = [];
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      ws.on("close", (code, reason) => r({ code, reason: reason.toString() })),
    );
    ws.on("message", (data) => {
      const text = data.toString();
      let frame: unknown = text;
      try {
        frame = JSON.parse(text);
      } catch {
        // keep the raw text
      }
      frames.push(frame);
      waiters.splice(0).forEach((w) => w());
    });
    ws.on("unexpected-response", (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
    ws.on("error", reject);
    ws.on("open", () => {
      let cursor = 0;
      resolve({
        ws,
        frames,
        closed,
        send: (frame) => ws.send(typeof frame === "string" ? frame : JSON.stringify(frame)),
        next<T>(accept: (frame: T) => boolean = () => true, timeoutMs = 5_000): Promise<T> {
          return new Promise<T>((res, rej) => {
            const timer = setTimeout(() => rej(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(frames)}`)), timeoutMs);
            const check = () => {
              while (cursor < frames.length) {
                const frame = frames[cursor++] as T;
                if (accept(frame)) {
                  clearTimeout(timer);
                  return res(frame);
                }
              }
              waiters.push(check);
            };
            check();
          });
        },
      });
    });
  });
}

/** Attempts a handshake that should fail; resolves with the HTTP status the server answered. */
export function handshakeStatus(url: string, protocols?: string[], headers?: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, headers ? { headers } : {});
    ws.on("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on("open", () => {
      ws.close();
      reject(new Error("handshake unexpectedly succeeded"));
    });
    ws.on("error", () => undefined);
  });
}

export async function waitFor<T>(probe: () => T | undefined | false, timeoutMs = 5_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Same keys, recursively, with the same JSON types — what "matches the fixture's structure" means here. */
export function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.length > 0 ? [shapeOf(value[0])] : [];
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, shapeOf((value as Record<string, unknown>)[k])]),
    );
  }
  return value === null ? "null" : typeof value;
}
