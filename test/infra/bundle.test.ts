import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { builtinModules } from "node:module";
import { expect } from "chai";
import { allHandlersPresent, bundleHandler, bundleSource } from "../../infra/bundle";
import { HANDLERS, type HandlerName } from "../../runtime/env";

/**
 * Installed packages a bundle still loads at run time with require(). Node built-ins are provided by Lambda;
 * packages that are not installed at all are optional requires the AWS SDK wraps in try/catch (SigV4a, CRT).
 */
function unbundledPackages(code: string): string[] {
  const required = [...code.matchAll(/require\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]!);
  return required.filter((m) => !m.startsWith("node:") && !builtinModules.includes(m) && isInstalled(m));
}

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

  it("bundles each real handler once per process, self-contained, exporting handler", function () {
    if (!allHandlersPresent()) this.skip();
    for (const name of HANDLERS) {
      expect(bundleHandler(name)).to.equal(bundleHandler(name));
      const code = bundleSource(name);
      expect(unbundledPackages(code), `${name}: modules left outside the bundle`).to.deep.equal([]);
      const loaded: { exports: Record<string, unknown> } = { exports: {} };
      // Load the bundle as Lambda would (CommonJS), without running the handler.
      new Function("module", "exports", "require", code)(loaded, loaded.exports, require);
      expect(loaded.exports.handler, name).to.be.a("function");
    }
  });
});
