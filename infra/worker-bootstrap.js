/*
 * The worker service's start, run as `node -e` in the pinned public Node image (worker-service.ts): fetch the
 * bundle from S3 with the task role's credentials, check its SHA-256, and run it in this same process (compiled in
 * memory: the container's filesystem stays read-only), so node stays PID 1 and receives ECS's SIGTERM itself. Node's standard library only (the image has no AWS SDK): the container
 * credentials endpoint (ECS developer guide, "Amazon ECS task IAM role") and a Signature Version 4 GET (S3 API
 * reference, "Signature Calculations for the Authorization Header"; checked against the AWS SDK's signer in
 * test/infra/worker-bootstrap.test.ts). Plain JavaScript: it runs as it is, never compiled.
 */
/* global require, module, process, console, Buffer, URL, AbortSignal, fetch, setTimeout */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS: `node -e` runs it as a script */
"use strict";
const crypto = require("node:crypto");
const vm = require("node:vm");

const hmac = (key, data) => crypto.createHmac("sha256", key).update(data, "utf8").digest();
const sha256Hex = (data) => crypto.createHash("sha256").update(data).digest("hex");

/** `20260101T000000Z` */
function amzDate(now) {
  return now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/**
 * The headers of a SigV4-signed S3 GET of `url` (a virtual-hosted object URL whose key needs no encoding). The
 * payload is not signed (UNSIGNED-PAYLOAD); the content is checked by its hash instead.
 */
function signedGetHeaders(url, region, credentials, now) {
  const target = new URL(url);
  const date = amzDate(now);
  const scope = `${date.slice(0, 8)}/${region}/s3/aws4_request`;
  const headers = { host: target.host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD", "x-amz-date": date };
  if (credentials.sessionToken) headers["x-amz-security-token"] = credentials.sessionToken;
  const names = Object.keys(headers).sort();
  const canonicalRequest = [
    "GET",
    target.pathname,
    "",
    ...names.map((name) => `${name}:${headers[name]}`),
    "",
    names.join(";"),
    "UNSIGNED-PAYLOAD",
  ].join("\n");
  const stringToSign = ["AWS4-HMAC-SHA256", date, scope, sha256Hex(canonicalRequest)].join("\n");
  let key = hmac(`AWS4${credentials.secretAccessKey}`, date.slice(0, 8));
  for (const part of [region, "s3", "aws4_request"]) key = hmac(key, part);
  const signature = crypto.createHmac("sha256", key).update(stringToSign, "utf8").digest("hex");
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`;
  return headers;
}

/** The task role's credentials from the ECS container credentials endpoint. */
async function containerCredentials(env, fetchImpl) {
  const url = env.AWS_CONTAINER_CREDENTIALS_FULL_URI || `http://169.254.170.2${env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI || ""}`;
  if (!env.AWS_CONTAINER_CREDENTIALS_FULL_URI && !env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) throw new Error("no container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is not set: is a task role attached?)");
  const response = await fetchImpl(url, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`container credentials answered ${response.status}`);
  const body = await response.json();
  return { accessKeyId: body.AccessKeyId, secretAccessKey: body.SecretAccessKey, sessionToken: body.Token };
}

/** Downloads the bundle and returns its code once its SHA-256 is the expected one. */
async function fetchBundle(env, fetchImpl = fetch, now = () => new Date()) {
  const url = env.WORKER_BUNDLE_URL;
  const expected = env.WORKER_BUNDLE_SHA256;
  if (!url || !/^[0-9a-f]{64}$/.test(expected || "")) throw new Error("WORKER_BUNDLE_URL and WORKER_BUNDLE_SHA256 (64 hex digits) are required");
  const credentials = await containerCredentials(env, fetchImpl);
  const headers = signedGetHeaders(url, env.AWS_REGION, credentials, now());
  delete headers.host;
  const response = await fetchImpl(url, { headers, signal: AbortSignal.timeout(30_000) });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  const code = Buffer.from(await response.arrayBuffer());
  const actual = sha256Hex(code);
  if (actual !== expected) throw new Error(`the bundle's SHA-256 is ${actual}, expected ${expected}`);
  return code.toString("utf8");
}

/** Runs a CommonJS bundle as if required from `filename` (its only requires are Node's built-in modules). */
function runBundle(code, filename) {
  const module = { exports: {} };
  const run = vm.compileFunction(code, ["exports", "require", "module", "__filename", "__dirname"], { filename });
  run(module.exports, require, module, filename, "/");
  return module.exports;
}

/** Fetches the bundle (five tries, backing off) and runs it; exits 1 when it cannot, so ECS replaces the task. */
async function start(env = process.env) {
  for (let attempt = 1; ; attempt++) {
    try {
      const code = await fetchBundle(env);
      console.log(JSON.stringify({ level: "INFO", message: "worker bundle fetched", sha256: env.WORKER_BUNDLE_SHA256, attempt }));
      runBundle(code, `/worker-service-${env.WORKER_BUNDLE_SHA256}.cjs`);
      return;
    } catch (error) {
      console.error(JSON.stringify({ level: "ERROR", message: "worker bundle fetch failed", error: String(error), attempt }));
      if (attempt >= 5) process.exit(1);
      await new Promise((resolve) => setTimeout(resolve, 1000 * 2 ** (attempt - 1)));
    }
  }
}

if (typeof module === "object" && module.exports) module.exports = { signedGetHeaders, fetchBundle, runBundle, start };
