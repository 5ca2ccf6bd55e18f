import { expect } from "chai";
import { TWO_REGION_DEV } from "./fixtures";
import { runProgram } from "./harness";

describe("infra entry point (infra/index.ts)", function () {
  this.timeout(120_000);

  it("runs the program from the stack config and exports the outputs a user needs", async () => {
    // Imported inside the mocked run, as `pulumi up` would load it (once per process).
    const { outputs, resources } = await runProgram(() => import("../../infra/index.js"), TWO_REGION_DEV);
    for (const name of ["webUrl", "primaryRegion", "regions", "userPoolId", "userPoolClientId", "hostedSignInUrl", "connectionsTableName", "historyTableName", "webBucketName", "distributionId"]) {
      expect(outputs[name], name).to.not.equal(undefined);
    }
    expect(outputs.nearestWebsocketUrl).to.equal(undefined);
    expect(outputs.primaryRegion).to.equal("us-east-1");
    expect(Object.keys(outputs.regions as object)).to.deep.equal(["us-east-1", "us-west-2"]);
    expect(resources.filter((r) => r.type === "pulumi:providers:aws").map((r) => r.inputs.region)).to.deep.equal(["us-east-1", "us-west-2"]);
  });
});
