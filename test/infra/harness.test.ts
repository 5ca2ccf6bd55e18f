import { expect } from "chai";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { bundleOptions } from "./fixtures";
import { buildStack, regionOfProvider, runProgram } from "./harness";

describe("infra test harness", () => {
  it("builds a one-region and a two-region stack in the same process, each with its own record", async () => {
    const one = await buildStack({ regions: ["eu-west-1"] }, bundleOptions());
    const two = await buildStack({ regions: ["us-east-1", "us-west-2"] }, bundleOptions());
    const regionsOf = (resources: typeof one.resources) =>
      resources.filter((r) => r.type === "pulumi:providers:aws").map((r) => r.inputs.region as string);
    expect(regionsOf(one.resources)).to.deep.equal(["eu-west-1"]);
    expect(regionsOf(two.resources)).to.deep.equal(["us-east-1", "us-west-2"]);
    const provider = two.resources.find((r) => r.type === "pulumi:providers:aws" && r.inputs.region === "us-west-2");
    expect(regionOfProvider(`urn:x::${provider?.id}`)).to.equal("us-west-2");
  });

  it("records what the engine would see beyond inputs: URN, parent, dependencies, retainOnDelete, protect", async () => {
    const { resources } = await runProgram(() => {
      const group = new pulumi.ComponentResource("test:index:Group", "group");
      const queue = new aws.sqs.Queue("first", {});
      new aws.sqs.Queue("second", {}, { parent: group, dependsOn: [queue], retainOnDelete: true, protect: true });
      return {};
    }, {});
    const [group, first, second] = resources;
    expect(first).to.include({ name: "first", retainOnDelete: false, protect: false });
    expect(first!.urn).to.match(/::aws:sqs\/queue:Queue::first$/);
    expect(second).to.include({ name: "second", retainOnDelete: true, protect: true });
    expect(second!.dependencies).to.deep.equal([first!.urn]);
    expect(second!.parent).to.equal(group!.urn).and.match(/::test:index:Group::group$/);
  });

  it("fails a build whose config is invalid, naming the key", async () => {
    let error: unknown;
    try {
      await buildStack({ regions: ["us-east-1", "us-east-1"] });
    } catch (e) {
      error = e;
    }
    expect(String(error)).to.contain("chat:regions");
  });
});

describe("infra test harness: loud failures", () => {
  const failureOf = async (program: () => Record<string, unknown>) => {
    try {
      await runProgram(program, {});
    } catch (e) {
      return String(e);
    }
    return "no failure";
  };

  it("fails on a provider call without a mock, naming the token", async () => {
    const message = await failureOf(() => ({ zone: aws.route53.getZoneOutput({ name: "example.com" }).zoneId }));
    expect(message).to.contain("aws:route53/getZone:getZone");
  });

  it("fails when a callback inside apply throws, even if only a resource input depends on it", async () => {
    const message = await failureOf(() => {
      const name = pulumi.output("x").apply((): string => {
        throw new Error("boom inside apply");
      });
      new aws.sqs.Queue("q", { name });
      return {};
    });
    expect(message).to.contain("boom inside apply");
  });

  it("fails when an output's apply throws", async () => {
    const message = await failureOf(() => ({
      out: pulumi.output(1).apply((): number => {
        throw new Error("boom in output");
      }),
    }));
    expect(message).to.contain("boom in output");
  });
});
