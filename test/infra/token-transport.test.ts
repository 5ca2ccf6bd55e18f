/**
 * The token is not in the URL (wire protocol, Connect): the authorizer's identity source is the
 * Sec-WebSocket-Protocol header, and no code in the program, the runtime or the page reads a `token` query
 * parameter any more (a bearer token in a URL ends up in consoles, proxies and logs).
 */
import { expect } from "chai";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { TOKEN_IDENTITY_SOURCE } from "../../infra/websocket-routes";

const ROOT = join(__dirname, "../..");
const SOURCES = ["infra", "runtime", "web/src"];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|js|mts)$/.test(name) ? [path] : [];
  });
}

/** Ways code has read a token from a query string. Dropping it (`delete request.querystring.token`) is not one. */
const READS_TOKEN_QUERY: RegExp[] = [
  /searchParams\.(get|has|getAll)\(\s*["'`]token["'`]/,
  /searchParams\.set\(\s*["'`]token["'`]/,
  /queryStringParameters\??\.?\[?\s*["'`]?token\b/,
  /route\.request\.querystring\./,
  /[?&]token=/,
  /(?<!delete request\.)querystring\.token/,
  /TOKEN_QUERY_PARAMETER/,
];

describe("infra + runtime + web: the token never travels in the URL", () => {
  it("the $connect authorizer's identity source is the Sec-WebSocket-Protocol header", () => {
    expect(TOKEN_IDENTITY_SOURCE).to.equal("route.request.header.Sec-WebSocket-Protocol");
  });

  it("no source file reads a token query parameter", () => {
    const offenders: string[] = [];
    for (const file of SOURCES.flatMap((dir) => sourceFiles(join(ROOT, dir)))) {
      readFileSync(file, "utf8")
        .split("\n")
        .forEach((line, i) => {
          if (READS_TOKEN_QUERY.some((pattern) => pattern.test(line))) offenders.push(`${relative(ROOT, file)}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(offenders).to.deep.equal([]);
  });

  it("the scan would catch the old ways of reading it", () => {
    const old = [
      'const token = event.queryStringParameters?.["token"];',
      "const token = event.queryStringParameters?.token;",
      'new URL(req.url).searchParams.get("token")',
      "target.searchParams.set(TOKEN_QUERY_PARAMETER, token);",
      'identitySources: ["route.request.querystring.token"]',
      "var token = request.querystring.token;",
      "`${url}?token=${token}`",
    ];
    for (const line of old) expect(READS_TOKEN_QUERY.some((p) => p.test(line)), line).to.equal(true);
    expect(READS_TOKEN_QUERY.some((p) => p.test("delete request.querystring.token;"))).to.equal(false);
  });
});
