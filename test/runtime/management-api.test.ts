import { expect } from "chai";
import { managementApi, resetManagementApis } from "../../runtime/aws/management-api-client";

describe("runtime/aws/management-api-client: @connections clients per endpoint and region", () => {
  afterEach(() => resetManagementApis());

  it("signs a request to another region's API for that region, and reuses one client per endpoint and region", async () => {
    const own = managementApi("https://abc.execute-api.us-east-1.amazonaws.com/prod");
    const other = managementApi("https://xyz.execute-api.eu-west-1.amazonaws.com/prod", "eu-west-1");
    expect(await other.config.region()).to.equal("eu-west-1");
    expect(managementApi("https://xyz.execute-api.eu-west-1.amazonaws.com/prod", "eu-west-1")).to.equal(other);
    expect(own).to.not.equal(other);
  });
});
