/**
 * infra/worker-bootstrap.js, the worker service's start in the container: its Signature Version 4 equals the AWS
 * SDK's own signer (@smithy/signature-v4) for the same request, and a start against local stand-ins for the ECS
 * container credentials endpoint and S3 fetches with the task role's credentials, refuses a bundle whose hash
 * differs, and runs the one that matches in the same process.
 */
import { createHash } from "node:crypto";
import { NodeSha256 } from "../sdk-sha256";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import * as path from "node:path";
import { expect } from "chai";
import { SignatureV4 } from "@smithy/signature-v4";

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}
interface Bootstrap {
  signedGetHeaders(url: string, region: string, credentials: Credentials, now: Date): Record<string, string>;
  fetchBundle(env: Record<string, string | undefined>, fetchImpl?: typeof fetch, now?: () => Date): Promise<string>;
  runBundle(code: string, filename: string): Record<string, unknown>;
}

const bootstrap = createRequire(__filename)(path.join(__dirname, "..", "..", "infra", "worker-bootstrap.js")) as Bootstrap;


const CREDENTIALS = { accessKeyId: "ASIAEXAMPLEKEY", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", sessionToken: "IQoJb3JpZ2luX2VjEXAMPLE//token+/=" };

/** The Authorization header the AWS SDK computes for the same GET. */
async function sdkAuthorization(url: string, region: string, credentials: Credentials, now: Date, headers: Record<string, string>): Promise<string> {
  const target = new URL(url);
  const signer = new SignatureV4({ service: "s3", region, credentials, sha256: NodeSha256, uriEscapePath: false, applyChecksum: false });
  const signed = await signer.sign(
    { method: "GET", protocol: target.protocol, hostname: target.hostname, port: target.port ? Number(target.port) : undefined, path: target.pathname, query: {}, headers },
    { signingDate: now },
  );
  return String(signed.headers.authorization);
}

describe("infra/worker-bootstrap.js: the worker service's start", () => {
  it("signs an S3 GET exactly as the AWS SDK's SigV4 signer does, with and without a session token", async () => {
    const url = "https://chat-code-1234567.s3.eu-west-1.amazonaws.com/worker-service/" + "ab".repeat(32) + ".cjs";
    const now = new Date("2026-12-04T21:30:05.123Z");
    for (const credentials of [CREDENTIALS, { accessKeyId: "AKIAEXAMPLE", secretAccessKey: "secret" }]) {
      const headers = bootstrap.signedGetHeaders(url, "eu-west-1", credentials, now);
      expect(headers["x-amz-date"]).to.equal("20261204T213005Z");
      expect(headers["x-amz-content-sha256"]).to.equal("UNSIGNED-PAYLOAD");
      const { authorization, ...signedHeaders } = headers;
      expect(authorization).to.equal(await sdkAuthorization(url, "eu-west-1", credentials, now, signedHeaders));
      expect(authorization).to.match(new RegExp(`^AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/20261204/eu-west-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date${"sessionToken" in credentials ? ";x-amz-security-token" : ""}, Signature=[0-9a-f]{64}$`));
    }
  });

  describe("against local stand-ins for the credentials endpoint and S3", () => {
    const code = "module.exports = { started: true, node: typeof process.version === 'string' };";
    const sha256 = createHash("sha256").update(code).digest("hex");
    let server: http.Server;
    let base: string;
    const seen: { path: string; authorization?: string; token?: string }[] = [];

    before(async () => {
      server = http.createServer((request, response) => {
        seen.push({ path: String(request.url), authorization: request.headers.authorization, token: request.headers["x-amz-security-token"] as string | undefined });
        if (request.url === "/v2/credentials/task-role") {
          response.setHeader("content-type", "application/json");
          response.end(JSON.stringify({ AccessKeyId: CREDENTIALS.accessKeyId, SecretAccessKey: CREDENTIALS.secretAccessKey, Token: CREDENTIALS.sessionToken, Expiration: "2026-12-05T00:00:00Z" }));
        } else if (request.url === `/worker-service/${sha256}.cjs` && request.headers.authorization) {
          response.end(code);
        } else {
          response.statusCode = 403;
          response.end();
        }
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => server.close());

    const env = (hash: string) => ({
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `${base}/v2/credentials/task-role`,
      AWS_REGION: "eu-west-1",
      WORKER_BUNDLE_URL: `${base}/worker-service/${sha256}.cjs`,
      WORKER_BUNDLE_SHA256: hash,
    });

    it("fetches the bundle with the task role's credentials and runs it when its SHA-256 matches", async () => {
      seen.length = 0;
      const fetched = await bootstrap.fetchBundle(env(sha256));
      expect(fetched).to.equal(code);
      expect(seen.map((s) => s.path)).to.deep.equal(["/v2/credentials/task-role", `/worker-service/${sha256}.cjs`]);
      expect(seen[1]!.token).to.equal(CREDENTIALS.sessionToken);
      expect(seen[1]!.authorization).to.match(/^AWS4-HMAC-SHA256 Credential=ASIAEXAMPLEKEY\//);
      expect(bootstrap.runBundle(fetched, "/worker-service.cjs")).to.deep.equal({ started: true, node: true });
    });

    it("refuses a bundle whose SHA-256 is not the expected one, and a start without a task role", async () => {
      const other = "0".repeat(64);
      const wrong = await bootstrap.fetchBundle({ ...env(other), WORKER_BUNDLE_URL: `${base}/worker-service/${sha256}.cjs` }).then(
        () => "fetched",
        (error: Error) => error.message,
      );
      expect(wrong).to.equal(`the bundle's SHA-256 is ${sha256}, expected ${other}`);
      const { AWS_CONTAINER_CREDENTIALS_FULL_URI: _unused, ...withoutRole } = env(sha256);
      const noRole = await bootstrap.fetchBundle(withoutRole).then(() => "fetched", (error: Error) => error.message);
      expect(noRole).to.match(/no container credentials/);
    });
  });
});
