/**
 * The optional custom domain (`chat:domainName`): the viewer certificate CloudFront needs (ACM, us-east-1, DNS
 * validated in the hosted zone, unless `chat:certificateArn` names one) and the Route 53 alias records that point
 * the name at the distribution.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { CustomDomain } from "./config";

export interface EdgeCertificateArgs {
  /** The domain, its hosted zone and optionally an existing certificate. */
  readonly domain: CustomDomain;
}

/** Create with the us-east-1 provider: CloudFront only uses certificates from us-east-1. */
export class EdgeCertificate extends pulumi.ComponentResource {
  /** A validated certificate ARN, ready for the distribution. */
  public readonly certificateArn: pulumi.Output<string>;

  constructor(name: string, args: EdgeCertificateArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chat:domain:EdgeCertificate", name, {}, opts);
    const { domain } = args;
    if (domain.certificateArn !== undefined) {
      this.certificateArn = pulumi.output(domain.certificateArn);
    } else {
      this.certificateArn = validatedCertificate(name, domain.name, domain.hostedZoneId, this);
    }
    this.registerOutputs({ certificateArn: this.certificateArn });
  }
}

/** An ACM certificate for `domainName`, DNS-validated through a record in `zoneId`. */
export function validatedCertificate(name: string, domainName: string, zoneId: string, parent: pulumi.Resource): pulumi.Output<string> {
  const certificate = new aws.acm.Certificate(`${name}-cert`, { domainName, validationMethod: "DNS" }, { parent });
  const option = certificate.domainValidationOptions.apply((options) => {
    const first = options[0];
    if (!first) throw new Error(`ACM returned no DNS validation record for ${domainName}`);
    return first;
  });
  const record = new aws.route53.Record(
    `${name}-cert-validation`,
    {
      zoneId,
      name: option.resourceRecordName,
      type: option.resourceRecordType,
      records: [option.resourceRecordValue],
      ttl: 300,
      allowOverwrite: true,
    },
    { parent },
  );
  const validation = new aws.acm.CertificateValidation(
    `${name}-cert-validated`,
    { certificateArn: certificate.arn, validationRecordFqdns: [record.fqdn] },
    { parent },
  );
  return validation.certificateArn;
}

export interface EdgeDnsRecordsArgs {
  /** The viewer domain and its hosted zone. */
  readonly domain: CustomDomain;
  /** The distribution's domain name and hosted zone id. */
  readonly distributionDomain: pulumi.Input<string>;
  readonly distributionZoneId: pulumi.Input<string>;
}

/** IPv4 and IPv6 alias records from the custom domain to the distribution. */
export class EdgeDnsRecords extends pulumi.ComponentResource {
  constructor(name: string, args: EdgeDnsRecordsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chat:domain:EdgeDnsRecords", name, {}, opts);
    for (const type of ["A", "AAAA"] as const) {
      new aws.route53.Record(
        `${name}-${type.toLowerCase()}`,
        {
          zoneId: args.domain.hostedZoneId,
          name: args.domain.name,
          type,
          aliases: [{ name: args.distributionDomain, zoneId: args.distributionZoneId, evaluateTargetHealth: false }],
        },
        { parent: this },
      );
    }
    this.registerOutputs({});
  }
}
