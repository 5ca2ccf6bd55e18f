/**
 * The secret that CloudFront adds to every request it sends to a WebSocket API (`X-Origin-Verify`) and that the
 * $connect authorizer requires (runtime/auth/origin-verify.ts), so nobody reaches an API around CloudFront.
 *
 * Rotation without refusing anyone: two random values live in two slots, and `chat:originSecretVersion` decides
 * which slot CloudFront sends. Raising the version by one regenerates only the slot that is not being sent and
 * makes it the one sent; the authorizers accept both slots. While CloudFront's edge locations switch over (minutes
 * after `pulumi up`), the value some still send is the previous one, which stays accepted until the next rotation.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

/**
 * For a version, the generation of each slot (a slot's value is regenerated when its generation changes) and the
 * slot CloudFront sends: odd versions send `a`, even ones `b`. Version v → v+1 changes exactly one generation,
 * that of the slot sent at v+1.
 */
export function originSecretSlots(version: number): { a: number; b: number; sent: "a" | "b" } {
  if (!Number.isInteger(version) || version < 1) throw new Error(`origin secret version must be a positive integer, got ${version}`);
  return { a: Math.floor((version + 1) / 2), b: Math.floor(version / 2), sent: version % 2 === 1 ? "a" : "b" };
}

/** 48 letters and digits: about 285 bits, and nothing a header value must escape. */
export const ORIGIN_SECRET_LENGTH = 48;

export class OriginSecret extends pulumi.ComponentResource {
  /** The value CloudFront sends now (secret). */
  public readonly sent: pulumi.Output<string>;
  /** Both values the authorizers accept, comma-separated (ORIGIN_VERIFY_SECRETS; secret). */
  public readonly accepted: pulumi.Output<string>;

  constructor(name: string, args: { version: number }, opts?: pulumi.ComponentResourceOptions) {
    super("chat:edge:OriginSecret", name, {}, opts);
    const slots = originSecretSlots(args.version);
    const slot = (id: "a" | "b") =>
      new random.RandomPassword(
        `${name}-${id}`,
        { length: ORIGIN_SECRET_LENGTH, special: false, keepers: { generation: String(slots[id]) } },
        { parent: this },
      ).result;
    const a = slot("a");
    const b = slot("b");
    this.sent = pulumi.secret(slots.sent === "a" ? a : b);
    this.accepted = pulumi.secret(pulumi.interpolate`${a},${b}`);
    this.registerOutputs({});
  }
}
