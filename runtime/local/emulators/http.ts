/** Small HTTP helpers shared by the emulators. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { AddressInfo, Server } from "node:net";

export type AnyRequest = IncomingMessage | Http2ServerRequest;
export type AnyResponse = ServerResponse | Http2ServerResponse;

/** Reads a request body; resolves `null` when it exceeds `limitBytes` (the rest is drained). */
export async function readBody(req: AnyRequest, limitBytes = 10 * 1024 * 1024): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) tooLarge = true;
    if (!tooLarge) chunks.push(chunk);
  }
  return tooLarge ? null : Buffer.concat(chunks);
}

/**
 * An AWS JSON error: the SDKs name the exception from the `x-amzn-errortype` header (without it they report
 * "Unknown"), and read the message from the body's `message`.
 */
export function sendAwsError(res: AnyResponse, status: number, errorType: string, message: string): void {
  const body = JSON.stringify({ message });
  (res as ServerResponse).writeHead(status, {
    "content-type": "application/json",
    "x-amzn-errortype": errorType,
    "x-amzn-requestid": cryptoRandomId(),
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

export function sendJson(res: AnyResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  (res as ServerResponse).writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

function cryptoRandomId(): string {
  return globalThis.crypto.randomUUID();
}

/** Listens on `port` (0 = a free one); rejects with the listen error (e.g. EADDRINUSE) instead of throwing later. */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.off("listening", onListening);
      reject(error);
    };
    const onListening = () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}

/** Closes a server and every connection still open on it. */
export function close(server: Server & { closeAllConnections?: () => void }): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}
