/**
 * The Lambda Invoke API (`POST /2015-03-31/functions/{FunctionName}/invocations`), served locally so the
 * `message` handler's asynchronous invoke of `worker` runs unchanged through @aws-sdk/client-lambda with
 * AWS_ENDPOINT_URL_LAMBDA. InvocationType `Event` answers 202 and runs the handler in the background;
 * `RequestResponse` answers 200 with the handler's result (or `X-Amz-Function-Error: Unhandled`); `DryRun` 204.
 * Not emulated: the retries Lambda makes after a failed asynchronous invocation, and its event queue.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { FunctionError, type LocalFunctions } from "./functions";
import { close, listen, readBody, sendAwsError, sendJson } from "./http";

/** Lambda quotas: invocation payload 6 MB (synchronous) and 256 KB (asynchronous). */
const SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;
const ASYNC_PAYLOAD_BYTES = 256 * 1024;

export interface LambdaEmulatorOptions {
  functions: LocalFunctions;
  port?: number;
  host?: string;
  /** Called with the error of a failed asynchronous invocation (default: written to stderr). */
  onAsyncError?: (functionName: string, error: unknown) => void;
}

export class LambdaEmulator {
  private readonly server = createServer((req, res) => void this.onRequest(req, res));
  private port = 0;

  constructor(private readonly options: LambdaEmulatorOptions) {}

  async start(): Promise<this> {
    this.port = await listen(this.server, this.options.port ?? 0, this.options.host ?? "127.0.0.1");
    return this;
  }

  /** `AWS_ENDPOINT_URL_LAMBDA`. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    await close(this.server);
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(url.pathname);
    if (req.method !== "POST" || !match) {
      await readBody(req);
      return sendAwsError(res, 404, "UnknownOperationException", `No operation at ${req.method} ${url.pathname}`);
    }
    const name = functionNameOf(decodeURIComponent(match[1]));
    const invocationType = String(req.headers["x-amz-invocation-type"] ?? "RequestResponse");
    const limit = invocationType === "Event" ? ASYNC_PAYLOAD_BYTES : SYNC_PAYLOAD_BYTES;
    const payload = await readBody(req, limit);
    if (payload === null) {
      return sendAwsError(res, 413, "RequestTooLargeException", `Request must be smaller than ${limit} bytes for the InvokeFunction operation`);
    }
    const { functions } = this.options;
    if (!functions.has(name)) {
      return sendAwsError(res, 404, "ResourceNotFoundException", `Function not found: arn:aws:lambda:${functions.region}:${functions.accountId}:function:${name}`);
    }
    let event: unknown = {};
    if (payload.length > 0) {
      try {
        event = JSON.parse(payload.toString("utf8"));
      } catch {
        return sendAwsError(res, 400, "InvalidRequestContentException", "Could not parse request body into json");
      }
    }
    if (invocationType === "DryRun") {
      res.writeHead(204);
      return void res.end();
    }
    if (invocationType === "Event") {
      functions.invoke(name, event).catch((error: unknown) => {
        if (this.options.onAsyncError) this.options.onAsyncError(name, error);
        else console.error(`[local lambda] ${name} failed:`, error);
      });
      res.writeHead(202, { "content-length": 0, "x-amzn-requestid": globalThis.crypto.randomUUID() });
      return void res.end();
    }
    try {
      const result = await functions.invoke(name, event);
      sendJson(res, 200, result ?? null, { "x-amz-executed-version": "$LATEST" });
    } catch (error) {
      const errorType = error instanceof FunctionError ? error.errorType : error instanceof Error ? error.name : "Error";
      const errorMessage = error instanceof Error ? error.message : String(error);
      sendJson(
        res,
        200,
        { errorType, errorMessage, trace: error instanceof Error ? (error.stack ?? "").split("\n") : [] },
        { "x-amz-executed-version": "$LATEST", "x-amz-function-error": "Unhandled" },
      );
    }
  }
}

/** A function is named by its name, its ARN, or a partial ARN (`123456789012:function:name`), maybe qualified. */
export function functionNameOf(identifier: string): string {
  const arn = /^(?:arn:aws[a-z-]*:lambda:[a-z0-9-]+:)?(?:\d{12}:)?function:([^:]+)(?::.*)?$/.exec(identifier);
  if (arn) return arn[1];
  return identifier.split(":")[0];
}
