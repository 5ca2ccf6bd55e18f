import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { builtinModules } from "node:module";
import { expect } from "chai";
import { execFile } from "node:child_process";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { allHandlersPresent, bundleHandler, bundleSource, LAMBDA_UNUSED_PACKAGES } from "../../infra/bundle";
import { ENTRY_POINTS, type HandlerName } from "../../runtime/env";

/**
 * Installed packages a bundle still loads at run time with require(). Node built-ins are provided by Lambda;
 * packages that are not installed at all are optional requires the AWS SDK wraps in try/catch (SigV4a, CRT); the
 * credential providers Lambda never runs are left out on purpose (infra/bundle.ts LAMBDA_UNUSED_PACKAGES).
 */
function unbundledPackages(code: string): string[] {
  const required = [...code.matchAll(/require\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]!);
  return required.filter((m) => !m.startsWith("node:") && !builtinModules.includes(m) && isInstalled(m) && !LAMBDA_UNUSED_PACKAGES.includes(m));
}

/** The Lambda bundle size target (docs/BENCHMARKS.md): a size, so deterministic for a given lockfile. */
const MAX_BUNDLE_BYTES = 500 * 1024;

function isInstalled(module: string): boolean {
  try {
    require.resolve(module);
    return true;
  } catch {
    return false;
  }
}

describe("infra bundle: handlers → Lambda zip", function () {
  this.timeout(120_000);

  it("bundles a handler into one minified CommonJS file with its dependencies inside", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "handlers-"));
    try {
      fs.writeFileSync(
        path.join(dir, "connect.ts"),
        [
          'import { DynamoDBClient } from "@aws-sdk/client-dynamodb";',
          'import { createHash } from "node:crypto";',
          "const client = new DynamoDBClient({});",
          "export const handler = async (): Promise<string> => createHash(\"sha1\").update(String(client.config.region)).digest(\"hex\");",
          "function unused(): string { return \"tree-shaken\"; }",
        ].join("\n"),
      );
      const code = bundleSource("connect", dir);
      expect(code).to.match(/module\.exports/);
      expect(code).to.contain("handler");
      expect(code).to.not.contain("tree-shaken");
      expect(unbundledPackages(code), "modules left outside the bundle").to.deep.equal([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a bundled SDK call runs in a fresh process with Lambda's environment credentials, loading no left-out provider", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "handlers-"));
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
        res.end(JSON.stringify({ TableNames: ["history"] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      fs.writeFileSync(
        path.join(dir, "connect.ts"),
        [
          'import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";',
          "const client = new DynamoDBClient({});",
          "export const handler = async (): Promise<string[] | undefined> => (await client.send(new ListTablesCommand({}))).TableNames;",
        ].join("\n"),
      );
      // Outside the repository, so a left-out package could not resolve: loading one would fail the call.
      const file = path.join(dir, "index.js");
      fs.writeFileSync(file, bundleSource("connect", dir));
      const script =
        "require(process.argv[1]).handler().then((r) => process.stdout.write(JSON.stringify({ r, loaded: Object.keys(require.cache).length })))";
      const env = {
        PATH: process.env.PATH ?? "",
        AWS_REGION: "us-east-1",
        // What Lambda gives every function (its execution role's session).
        AWS_ACCESS_KEY_ID: "AKIDLAMBDAROLE",
        AWS_SECRET_ACCESS_KEY: "secret",
        AWS_SESSION_TOKEN: "session",
        AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      };
      // Asynchronously: the child calls this process's server.
      const out = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, ["-e", script, file], { cwd: dir, encoding: "utf8", env }, (error, stdout) => (error ? reject(error) : resolve(stdout))),
      );
      expect(JSON.parse(out)).to.deep.equal({ r: ["history"], loaded: 1 });
      expect(seen).to.have.length(1);
      expect(String(seen[0]!.authorization)).to.match(/Credential=AKIDLAMBDAROLE\//);
      expect(seen[0]!["x-amz-security-token"]).to.equal("session");
    } finally {
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the real connect bundle stores a connection through its bundled DynamoDB client", async function () {
    expect(allHandlersPresent(), "a handler in runtime/env.ts has no file").to.equal(true);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "connect-bundle-"));
    const calls: Array<{ target: string; body: string }> = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      req.on("end", () => {
        calls.push({ target: String(req.headers["x-amz-target"]), body });
        res.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
        res.end("{}");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const file = path.join(dir, "index.js");
      fs.writeFileSync(file, bundleSource("connect"));
      const event = {
        headers: { "Sec-WebSocket-Protocol": "chat.v1, eyJhbGciOiJSUzI1NiJ9.e30.sig" },
        requestContext: { connectionId: "conn-1=", routeKey: "$connect", eventType: "CONNECT", connectedAt: 1, authorizer: { userId: "u-1", username: "alice", exp: 1_900_000_000 } },
      };
      const script = `require(process.argv[1]).handler(${JSON.stringify(event)}).then((r) => process.stdout.write(JSON.stringify(r)))`;
      const env = {
        PATH: process.env.PATH ?? "",
        AWS_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "AKIDLAMBDAROLE",
        AWS_SECRET_ACCESS_KEY: "secret",
        AWS_SESSION_TOKEN: "session",
        AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        CONNECTIONS_TABLE: "connections",
        HISTORY_TABLE: "history",
        CONNECTIONS_ENDPOINT: "https://abc.execute-api.us-east-1.amazonaws.com/prod",
        MODEL_ID: "us.anthropic.claude-haiku-4-5-20251001-v1:0",
        WORKER_FUNCTION_NAME: "worker",
        USER_POOL_ID: "us-east-1_abc",
        USER_POOL_CLIENT_ID: "client",
        LOG_LEVEL: "SILENT",
      };
      const out = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, ["-e", script, file], { cwd: dir, encoding: "utf8", env }, (error, stdout) => (error ? reject(error) : resolve(stdout))),
      );
      expect(JSON.parse(out)).to.deep.equal({ statusCode: 200, headers: { "Sec-WebSocket-Protocol": "chat.v1" } });
      expect(calls.map((c) => c.target)).to.deep.equal(["DynamoDB_20120810.PutItem"]);
      expect(JSON.parse(calls[0]!.body)).to.deep.include({ TableName: "connections" });
      expect(JSON.parse(calls[0]!.body).Item.userId).to.deep.equal({ S: "u-1" });
      expect(JSON.parse(calls[0]!.body).Item.tokenExpiresAt).to.deep.equal({ N: "1900000000" });
    } finally {
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("fails with a message naming the missing entry point", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "no-handlers-"));
    try {
      expect(() => bundleSource("worker", dir)).to.throw(/cannot bundle the worker Lambda: .*worker\.ts does not exist/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a handler name that runtime/env.ts does not list", () => {
    expect(() => bundleSource("cron" as HandlerName)).to.throw(/unknown handler "cron": expected one of authorizer, connect/);
  });

  it("bundles each real handler once per process, self-contained, within 500 KB, exporting handler", function () {
    expect(allHandlersPresent(), "a handler in runtime/env.ts has no file").to.equal(true);
    for (const name of ENTRY_POINTS) {
      expect(bundleHandler(name)).to.equal(bundleHandler(name));
      const code = bundleSource(name);
      expect(unbundledPackages(code), `${name}: modules left outside the bundle`).to.deep.equal([]);
      expect(Buffer.byteLength(code), `${name}: bundle size`).to.be.at.most(MAX_BUNDLE_BYTES);
      const loaded: { exports: Record<string, unknown> } = { exports: {} };
      // Load the bundle as Lambda would (CommonJS), without running the handler.
      new Function("module", "exports", "require", code)(loaded, loaded.exports, require);
      expect(loaded.exports.handler, name).to.be.a("function");
    }
    // The pre-sign-up trigger is a few lines and a domain check: it carries no SDK.
    expect(Buffer.byteLength(bundleSource("pre-sign-up"))).to.be.at.most(4_000);
  });
});
