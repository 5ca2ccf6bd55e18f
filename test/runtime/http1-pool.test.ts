/**
 * runtime/aws/http1-pool.ts against real servers: Node's http and https servers (keep-alive, chunked answers, TLS with
 * ALPN and session resumption, certificate checks) and raw TCP servers that answer exactly the bytes a test writes
 * (interim 1xx answers, bodies ended by the close, answers cut short, a connection closed while idle).
 */
import { execFileSync, fork } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { expect } from "chai";
import { Http1Pool, type Http1Request } from "../../runtime/aws/http1-pool";
import { waitFor } from "../local/helpers";

const post = (path = "/p", body = "{}", headers: Record<string, string> = {}): Http1Request => ({
  method: "POST",
  path,
  headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), ...headers },
  body: Buffer.from(body),
});

/** For a request that should fail: `.then(noAnswer, caught)` gives its error, or undefined if it was answered. */
const noAnswer = (): undefined => undefined;
const caught = (error: unknown): unknown => error;

/** A server that counts the connections it accepted and closes them all when stopped. */
async function serve<S extends net.Server>(server: S): Promise<{ server: S; url: string; connections: net.Socket[]; stop(): Promise<void> }> {
  const connections: net.Socket[] = [];
  server.on(server instanceof https.Server ? "secureConnection" : "connection", (socket: net.Socket) => connections.push(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  const scheme = server instanceof https.Server ? "https://localhost" : "http://127.0.0.1";
  return {
    server,
    url: `${scheme}:${port}`,
    connections,
    stop: async () => {
      for (const c of connections) c.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A raw TCP server: `answer` writes whatever bytes it likes for each request head it reads. */
function rawServer(answer: (socket: net.Socket, head: string) => void): net.Server {
  return net.createServer((socket) => {
    let seen = "";
    socket.on("data", (chunk) => {
      seen += chunk.toString("latin1");
      for (let end = seen.indexOf("\r\n\r\n"); end >= 0; end = seen.indexOf("\r\n\r\n")) {
        const head = seen.slice(0, end);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (seen.length < end + 4 + length) return;
        seen = seen.slice(end + 4 + length);
        answer(socket, head);
      }
    });
    socket.on("error", () => undefined);
  });
}

describe("runtime/aws: the keep-alive HTTP/1.1 pool", function () {
  this.timeout(15_000);

  it("sends head and body as given and reuses one connection for requests one after another", async () => {
    const seen: Array<{ method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }> = [];
    const s = await serve(
      http.createServer((req, res) => {
        let body = "";
        req.on("data", (c) => (body += c));
        req.on("end", () => {
          seen.push({ method: req.method, url: req.url, headers: req.headers, body });
          res.writeHead(200, { "content-type": "application/json", "x-amzn-requestid": "r1" }).end(JSON.stringify({ echo: body }));
        });
      }),
    );
    const pool = new Http1Pool(new URL(s.url), { maxSockets: 5 });
    try {
      for (let i = 0; i < 10; i++) {
        const response = await pool.request(post(`/prod/@connections/abc%3D?n=${i}`, JSON.stringify({ i, text: "héllo" }), { "x-amz-date": "20261205T001053Z" })).response;
        expect(response.status).to.equal(200);
        expect(response.headers["x-amzn-requestid"]).to.equal("r1");
        expect(JSON.parse(response.body.toString("utf8"))).to.deep.equal({ echo: JSON.stringify({ i, text: "héllo" }) });
      }
      expect(s.connections).to.have.length(1);
      expect(seen[3]).to.include({ method: "POST", url: "/prod/@connections/abc%3D?n=3", body: JSON.stringify({ i: 3, text: "héllo" }) });
      expect(seen[3].headers).to.include({ host: new URL(s.url).host, "x-amz-date": "20261205T001053Z", "content-type": "application/json" });
    } finally {
      pool.destroy();
      await s.stop();
    }
  });

  it("does not hold the process open with an idle kept-alive connection (the server keeps it open)", async () => {
    const s = await serve(http.createServer((_req, res) => res.writeHead(204).end()));
    s.server.keepAliveTimeout = 0; // the server never closes an idle connection
    try {
      const child = fork(join(__dirname, "fixtures", "pool-one-call.ts"), [s.url], { execArgv: ["--import", "tsx"], stdio: ["ignore", "pipe", "inherit", "ipc"] });
      let out = "";
      child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
      // The child makes its call and has nothing left to do: it must exit while its connection is still open.
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      expect(code).to.equal(0);
      expect(out.trim()).to.equal("204");
      expect(s.connections).to.have.length(1);
    } finally {
      await s.stop();
    }
  });

  it("reads chunked answers, skips interim 1xx answers, and reads a body that ends with the connection", async () => {
    const chunked = await serve(
      http.createServer((req, res) => {
        req.resume();
        req.on("end", () => {
          res.writeHead(400, { "x-amzn-errortype": "ValidationException" });
          res.write('{"message":');
          setImmediate(() => res.end('"bad"}'));
        });
      }),
    );
    const raw = await serve(
      rawServer((socket, head) => {
        if (head.startsWith("POST /interim")) socket.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </x>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        else socket.end("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end");
      }),
    );
    const a = new Http1Pool(new URL(chunked.url), { maxSockets: 1 });
    const b = new Http1Pool(new URL(raw.url), { maxSockets: 1 });
    try {
      for (let i = 0; i < 2; i++) {
        const refused = await a.request(post()).response;
        expect(refused.status).to.equal(400);
        expect(refused.headers["transfer-encoding"]).to.equal("chunked");
        expect(refused.body.toString()).to.equal('{"message":"bad"}');
      }
      expect(chunked.connections).to.have.length(1);
      const interim = await b.request(post("/interim")).response;
      expect(interim).to.deep.include({ status: 200 });
      expect(interim.body.toString()).to.equal("ok");
      const untilClose = await b.request(post("/close")).response;
      expect(untilClose.body.toString()).to.equal("until the end");
      // That connection could not carry another answer; the next request opens a new one.
      expect((await b.request(post("/interim")).response).status).to.equal(200);
      expect(raw.connections).to.have.length(2);
    } finally {
      a.destroy();
      b.destroy();
      await chunked.stop();
      await raw.stop();
    }
  });

  it("reads bodies that span many socket reads (framed by length or chunked), and closes a connection the server asked to close", async () => {
    const big = Buffer.alloc(1024 * 1024 + 7, "x");
    const s = await serve(
      http.createServer((req, res) => {
        req.resume();
        if (req.url === "/length") res.writeHead(200, { "content-length": String(big.length) }).end(big);
        else if (req.url === "/chunked") {
          res.writeHead(200);
          // Many chunks of odd sizes, each written on its own.
          let at = 0;
          const next = () => {
            if (at >= big.length) return void res.end();
            const size = Math.min(big.length - at, 1 + ((at * 7919) % 40_000));
            res.write(big.subarray(at, at + size));
            at += size;
            setImmediate(next);
          };
          next();
        } else res.writeHead(200, { connection: "close", "content-length": "2" }).end("ok");
      }),
    );
    const pool = new Http1Pool(new URL(s.url), { maxSockets: 1 });
    try {
      for (const path of ["/length", "/chunked"]) {
        const response = await pool.request({ ...post(path), method: "GET", body: Buffer.alloc(0), headers: {} }).response;
        expect(response.body.equals(big), path).to.equal(true);
      }
      expect(s.connections).to.have.length(1);
      expect((await pool.request(post("/close")).response).body.toString()).to.equal("ok");
      await waitFor(() => s.connections[0].closed, 5_000, "the connection the server asked to close");
      expect((await pool.request({ ...post("/length"), method: "GET", body: Buffer.alloc(0), headers: {} }).response).body.length).to.equal(big.length);
      expect(s.connections).to.have.length(2);
    } finally {
      pool.destroy();
      await s.stop();
    }
  });

  it("keeps at most maxSockets connections and serves the waiting requests in order as they free up", async () => {
    const held: Array<() => void> = [];
    const order: string[] = [];
    const s = await serve(
      http.createServer((req, res) => {
        req.resume();
        order.push(req.url!);
        held.push(() => res.end(req.url));
      }),
    );
    const pool = new Http1Pool(new URL(s.url), { maxSockets: 3 });
    try {
      const answers = Array.from({ length: 9 }, (_, i) => pool.request(post(`/r${i}`)).response);
      await waitFor(() => held.length === 3, 5_000, "three requests held");
      for (let served = 3; served < 9; served++) {
        held.shift()!();
        await waitFor(() => held.length === 3 || order.length === 9, 5_000, "the next request");
      }
      while (held.length) held.shift()!();
      expect((await Promise.all(answers)).map((r) => r.body.toString())).to.deep.equal(Array.from({ length: 9 }, (_, i) => `/r${i}`));
      expect(order).to.deep.equal(Array.from({ length: 9 }, (_, i) => `/r${i}`));
      expect(s.connections).to.have.length(3);
    } finally {
      pool.destroy();
      await s.stop();
    }
  });

  it("fails a request whose connection closes before the answer is complete with ECONNRESET, and opens a new connection after an idle one closed", async () => {
    const s = await serve(
      rawServer((socket, head) => {
        if (head.startsWith("POST /cut")) socket.end("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nonly");
        else socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
      }),
    );
    const pool = new Http1Pool(new URL(s.url), { maxSockets: 1 });
    try {
      const error = await pool.request(post("/cut")).response.then(noAnswer, caught);
      expect(error).to.have.property("code", "ECONNRESET");
      expect((await pool.request(post("/ok")).response).body.toString()).to.equal("ok");
      // The server closes the idle connection: the pool notices and the next request gets a fresh one.
      s.connections.at(-1)!.end();
      await waitFor(() => s.connections.at(-1)!.closed, 5_000, "the server's close");
      await new Promise((r) => setImmediate(r));
      expect((await pool.request(post("/ok")).response).body.toString()).to.equal("ok");
      expect(s.connections).to.have.length(3);
      const refused = await new Http1Pool(new URL("http://127.0.0.1:1"), { maxSockets: 1 }).request(post()).response.then(noAnswer, caught);
      expect(refused).to.have.property("code", "ECONNREFUSED");
    } finally {
      pool.destroy();
      await s.stop();
    }
  });

  it("fails a malformed answer with HPE_INVALID and does not reuse its connection", async () => {
    const s = await serve(
      rawServer((socket, head) => {
        if (head.startsWith("POST /bad")) socket.write("SPDY/9 200 OK\r\n\r\n");
        else socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
      }),
    );
    const pool = new Http1Pool(new URL(s.url), { maxSockets: 1 });
    try {
      const error = await pool.request(post("/bad")).response.then(noAnswer, caught);
      expect(error).to.have.property("code", "HPE_INVALID");
      expect((await pool.request(post("/ok")).response).body.toString()).to.equal("ok");
      expect(s.connections).to.have.length(2);
    } finally {
      pool.destroy();
      await s.stop();
    }
  });

  it("fails requests in flight, waiting, or made after destroy(), and closes its connections", async () => {
    const held: http.ServerResponse[] = [];
    const s = await serve(
      http.createServer((req, res) => {
        req.resume();
        held.push(res);
      }),
    );
    const pool = new Http1Pool(new URL(s.url), { maxSockets: 1 });
    try {
      const inFlight = pool.request(post("/a")).response.then(noAnswer, caught);
      const waiting = pool.request(post("/b")).response.then(noAnswer, caught);
      await waitFor(() => held.length === 1, 5_000, "the request in flight");
      pool.destroy();
      expect(await inFlight).to.have.property("code", "ECONNRESET");
      expect(await waiting).to.have.property("code", "ERR_POOL_CLOSED");
      expect(await pool.request(post("/c")).response.then(noAnswer, caught)).to.have.property("code", "ERR_POOL_CLOSED");
      await waitFor(() => s.connections[0].closed, 5_000, "the connection closed");
      expect(held).to.have.length(1);
    } finally {
      await s.stop();
    }
  });

  it("cancels a request in flight (its connection is closed) or waiting (never sent), and the pool serves the next", async () => {
    const held: http.ServerResponse[] = [];
    const urls: string[] = [];
    const s = await serve(
      http.createServer((req, res) => {
        req.resume();
        urls.push(req.url!);
        if (req.url === "/hold") held.push(res);
        else res.end("fine");
      }),
    );
    const pool = new Http1Pool(new URL(s.url), { maxSockets: 1 });
    try {
      const inFlight = pool.request(post("/hold"));
      const waiting = pool.request(post("/never"));
      await waitFor(() => held.length === 1, 5_000, "the held request");
      const reason = Object.assign(new Error("deadline"), { name: "TimeoutError" });
      waiting.cancel(reason);
      inFlight.cancel(reason);
      for (const p of [inFlight.response, waiting.response]) {
        expect(await p.then(noAnswer, caught)).to.equal(reason);
      }
      await waitFor(() => s.connections[0].closed, 5_000, "the cancelled connection closed");
      expect((await pool.request(post("/next")).response).body.toString()).to.equal("fine");
      expect(urls).to.deep.equal(["/hold", "/next"]);
    } finally {
      pool.destroy();
      await s.stop();
    }
  });

  it("refuses a header or path that would break the request line, before sending anything", async () => {
    const s = await serve(http.createServer((req, res) => res.end()));
    const pool = new Http1Pool(new URL(s.url), { maxSockets: 1 });
    try {
      for (const request of [post("/p", "{}", { "x-evil": "a\r\nx-injected: 1" }), post("/p q"), post("/p\r\nx: y"), { ...post(), method: "GET /x" }]) {
        const error = await pool.request(request).response.then(noAnswer, caught);
        expect(error).to.be.instanceOf(TypeError);
      }
      expect(s.connections).to.have.length(0);
    } finally {
      pool.destroy();
      await s.stop();
    }
  });

  describe("over TLS", () => {
    let dir: string;
    let cert: string;
    let key: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), "http1-pool-"));
      execFileSync("openssl", [
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
        "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
      ], { stdio: "ignore" });
      cert = readFileSync(join(dir, "cert.pem"), "utf8");
      key = readFileSync(join(dir, "key.pem"), "utf8");
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("verifies the certificate and the host name, offers http/1.1 by ALPN and resumes the TLS session on a new connection", async () => {
      const protocols: Array<string | false | null> = [];
      const s = await serve(
        https.createServer({ cert, key, ALPNProtocols: ["http/1.1"] }, (req, res) => {
          protocols.push((req.socket as TLSSocket).alpnProtocol);
          req.resume();
          res.end("secure");
        }),
      );
      const trusted = new Http1Pool(new URL(s.url), { maxSockets: 2, extraCa: [cert] });
      const untrusted = new Http1Pool(new URL(s.url), { maxSockets: 1 });
      const wrongName = new Http1Pool(new URL(s.url.replace("localhost", "127.0.0.1")), { maxSockets: 1, extraCa: [cert] });
      try {
        expect((await trusted.request(post()).response).body.toString()).to.equal("secure");
        // Two at once: a second connection, which resumes the first one's session.
        const both = await Promise.all([trusted.request(post()).response, trusted.request(post()).response]);
        expect(both.map((r) => r.status)).to.deep.equal([200, 200]);
        expect(s.connections).to.have.length(2);
        expect((s.connections[1] as TLSSocket).isSessionReused()).to.equal(true);
        expect(protocols).to.deep.equal(["http/1.1", "http/1.1", "http/1.1"]);
        const selfSigned = await untrusted.request(post()).response.then(noAnswer, caught);
        expect(selfSigned).to.have.property("code", "DEPTH_ZERO_SELF_SIGNED_CERT");
        const mismatch = await wrongName.request(post()).response.then(noAnswer, caught);
        expect(mismatch).to.have.property("code", "ERR_TLS_CERT_ALTNAME_INVALID");
      } finally {
        trusted.destroy();
        untrusted.destroy();
        wrongName.destroy();
        await s.stop();
      }
    });
  });
});
