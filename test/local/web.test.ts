import { expect } from "chai";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IdentityIssuer } from "../../runtime/local/emulators/identity";
import { LocalWebServer } from "../../runtime/local/web";

describe("local/web: the local web server", () => {
  let dir: string;
  let identity: IdentityIssuer;
  const servers: LocalWebServer[] = [];
  const start = async (staticDir: string) => {
    const server = await new LocalWebServer({
      staticDir,
      identity,
      port: 0,
      config: () => ({ regions: [{ region: "us-east-1", url: "ws://127.0.0.1:1/local" }], auth: { mode: "local", tokenUrl: "/local/token" }, modelLabel: "local", emulator: true }),
    }).start();
    servers.push(server);
    return server;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "web-"));
    mkdirSync(join(dir, "dist", "assets"), { recursive: true });
    writeFileSync(join(dir, "dist", "index.html"), "<!doctype html><title>chat</title>");
    writeFileSync(join(dir, "dist", "assets", "app.js"), "console.log(1)");
    writeFileSync(join(dir, "secret.txt"), "outside the static root");
    identity = new IdentityIssuer({ region: "us-east-1", userPoolId: "us-east-1_LocalPool", clientId: "c" });
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves the built client, falls back to index.html for app routes, and never leaves its root", async () => {
    const web = await start(join(dir, "dist"));
    const js = await fetch(`${web.url}assets/app.js`);
    expect(js.headers.get("content-type")).to.match(/javascript/);
    expect(await js.text()).to.equal("console.log(1)");
    expect(await (await fetch(`${web.url}sessions/abc`)).text()).to.include("<title>chat</title>");
    expect((await fetch(`${web.url}missing.js`)).status).to.equal(404);
    expect((await fetch(`${web.url}..%2fsecret.txt`)).status).to.equal(404);
    expect((await fetch(`${web.url}config.json`, { method: "POST" })).status).to.equal(405);
  });

  it("says to run the build when dist/web is missing", async () => {
    const web = await start(join(dir, "nothing-here"));
    const page = await (await fetch(web.url)).text();
    expect(page).to.include("npm run build:web");
  });

  it("mints ID tokens (or access tokens with use=access) for a valid user name only", async () => {
    const web = await start(join(dir, "dist"));
    const claims = async (query: string) => {
      const { token } = (await (await fetch(`${web.url}local/token?${query}`)).json()) as { token: string };
      return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString()) as Record<string, unknown>;
    };
    expect(await claims("user=alice")).to.include({ token_use: "id", "cognito:username": "alice" });
    expect(await claims("user=alice&use=access")).to.include({ token_use: "access", username: "alice" });
    expect((await fetch(`${web.url}local/token?user=${encodeURIComponent("<script>")}`)).status).to.equal(400);
  });

  it("mints a token that lives `ttl` seconds, and refuses a ttl that is not a whole number of seconds in 1…86400", async () => {
    const web = await start(join(dir, "dist"));
    const claims = async (query: string) => {
      const response = await fetch(`${web.url}local/token?${query}`);
      expect(response.status, query).to.equal(200);
      const { token } = (await response.json()) as { token: string };
      return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString()) as { iat: number; exp: number };
    };
    const short = await claims("user=alice&ttl=1");
    expect(short.exp - short.iat).to.equal(1);
    const day = await claims("user=alice&ttl=86400");
    expect(day.exp - day.iat).to.equal(86400);
    const usual = await claims("user=alice");
    expect(usual.exp - usual.iat).to.equal(3600);
    for (const ttl of ["0", "-5", "1.5", "abc", "", "86401", "1e3", "9999999999"]) {
      const response = await fetch(`${web.url}local/token?user=alice&ttl=${encodeURIComponent(ttl)}`);
      expect(response.status, `ttl=${ttl}`).to.equal(400);
      expect(((await response.json()) as { message: string }).message).to.equal("ttl must be a whole number of seconds from 1 to 86400");
    }
  });
});
