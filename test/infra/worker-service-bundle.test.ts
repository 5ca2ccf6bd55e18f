/**
 * The worker service's bundle (WORKER_SERVICE_ENTRY through esbuild): unlike the Lambda bundles it carries the AWS
 * SDK's container credential provider (a task's credentials come from the ECS credentials endpoint, and the image
 * has no SDK to fall back on), needs nothing beyond Node's built-in modules, and is named by its SHA-256.
 */
import { createHash } from "node:crypto";
import * as path from "node:path";
import { expect } from "chai";
import { bundleWorkerService, esbuildOptions, LAMBDA_UNUSED_PACKAGES, serviceEsbuildOptions } from "../../infra/bundle";
import { WORKER_SERVICE_ENTRY } from "../../runtime/env";

/** Packages the SDK requires inside try/catch only when they are installed (SigV4a's CRT signer); absent is fine. */
const OPTIONAL_REQUIRES = ["@aws-sdk/signature-v4-crt"];

describe("infra: the worker service's bundle", function () {
  this.timeout(120_000);

  it("leaves nothing out that a container needs, unlike the Lambda bundles", () => {
    expect(esbuildOptions("x.ts").external).to.deep.equal([...LAMBDA_UNUSED_PACKAGES]);
    expect(serviceEsbuildOptions("x.ts").external).to.deep.equal([]);
  });

  it(`bundles ${WORKER_SERVICE_ENTRY} with the container credential provider, requiring only Node's built-ins, named by its SHA-256`, () => {
    const bundle = bundleWorkerService();
    expect(bundle.sha256).to.equal(createHash("sha256").update(bundle.code, "utf8").digest("hex"));
    // @aws-sdk/credential-provider-http reads the ECS container credentials endpoint from these variables.
    expect(bundle.code).to.contain("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").and.contain("169.254.170.2");
    const required = new Set([...bundle.code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!));
    const outside = [...required].filter((name) => !name.startsWith("node:") && !OPTIONAL_REQUIRES.includes(name));
    expect(outside, "packages the pinned Node image does not have").to.deep.equal([]);
    // Built once per process: the same object for every region.
    expect(bundleWorkerService()).to.equal(bundle);
  });

  it("names the missing entry point when the runtime has none", () => {
    expect(() => bundleWorkerService(path.join(__dirname, "no-such-root"))).to.throw(`cannot bundle the worker service: ${WORKER_SERVICE_ENTRY} does not exist`);
  });
});
