/**
 * The origin secret's rotation (infra/origin-secret.ts): raising chat:originSecretVersion by one regenerates only
 * the slot CloudFront is about to send, so the value the edge locations still send while they switch over stays
 * accepted by the authorizers.
 */
import { expect } from "chai";
import { originSecretSlots } from "../../infra/origin-secret";
import { bundleOptions, ONE_REGION } from "./fixtures";
import { buildStack } from "./harness";
import { Stack } from "./query";

describe("infra: the origin secret and its rotation", function () {
  this.timeout(120_000);

  it("a version change regenerates exactly one slot, the one sent next; odd versions send a, even ones b", () => {
    for (let version = 1; version < 50; version++) {
      const now = originSecretSlots(version);
      const next = originSecretSlots(version + 1);
      const changed = (["a", "b"] as const).filter((slot) => now[slot] !== next[slot]);
      expect(changed, `v${version}`).to.deep.equal([next.sent]);
      expect(now.sent).to.not.equal(next.sent);
    }
    expect(originSecretSlots(1)).to.deep.equal({ a: 1, b: 0, sent: "a" });
    for (const bad of [0, -1, 1.5]) expect(() => originSecretSlots(bad)).to.throw(/positive integer/);
  });

  it("across pulumi up with versions 1 → 2 → 3, CloudFront sends a new value each time and the authorizers accept it and the one before", async () => {
    const sentAndAccepted = async (version: number) => {
      const stack = new Stack((await buildStack({ ...ONE_REGION, originSecretVersion: version }, bundleOptions())).resources);
      const d = stack.ofType("aws:cloudfront/distribution:Distribution")[0]!;
      const origin = (d.inputs.origins as { originId: string; customHeaders?: { name: string; value: string }[] }[]).find((o) => o.originId.startsWith("ws-"))!;
      const sent = origin.customHeaders![0]!.value;
      const region = ONE_REGION.regions[0]!;
      const accepted = String(stack.fn(region, "authorizer").inputs.environment.variables.ORIGIN_VERIFY_SECRETS).split(",");
      return { sent, accepted };
    };
    const v1 = await sentAndAccepted(1);
    const v2 = await sentAndAccepted(2);
    const v3 = await sentAndAccepted(3);
    expect(new Set([v1.sent, v2.sent, v3.sent]).size).to.equal(3);
    expect(v2.accepted).to.have.members([v2.sent, v1.sent]);
    expect(v3.accepted).to.have.members([v3.sent, v2.sent]);
    expect(v3.accepted).to.not.include(v1.sent);
  });
});
