/**
 * With a custom domain, one more way in: `wss://<domain>/ws` on the CloudFront distribution, whose origin
 * `ws-origin.<domain>` resolves, through Route 53 latency-based records, to the API Gateway custom domain of the
 * region with the lowest latency for the CloudFront edge location among the healthy ones. Viewers never connect to
 * `ws-origin.<domain>` themselves: without CloudFront's X-Origin-Verify header the API refuses the handshake.
 * Each region contributes a regional custom domain (with its own ACM certificate in that region), an API mapping
 * to its stage, a health check that follows a CloudWatch alarm on the chat path, and one latency record.
 * (Route 53 developer guide, "Latency-based routing"; API Gateway developer guide, "Custom domain names for
 * WebSocket APIs".)
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { validatedCertificate } from "./custom-domain";

/** The latency-routed origin host under the custom domain (CloudFront's `/ws` origin). */
export function latencyOriginHost(domainName: string): string {
  return `ws-origin.${domainName}`;
}

export interface LatencyEndpointArgs {
  /** The custom domain (`chat:domainName`); this region serves `ws-origin.<domainName>`. */
  readonly domainName: string;
  /** Its Route 53 hosted zone. */
  readonly hostedZoneId: string;
  /** This region's WebSocket API and stage. */
  readonly apiId: pulumi.Input<string>;
  readonly stageName: pulumi.Input<string>;
  /** The message function, whose sustained errors take the region out of rotation. */
  readonly messageFunctionName: pulumi.Input<string>;
}

/** Create with the region's provider. */
export class LatencyEndpoint extends pulumi.ComponentResource {
  /** Route 53 health check id of this region. */
  public readonly healthCheckId: pulumi.Output<string>;

  constructor(name: string, args: LatencyEndpointArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chat:domain:LatencyEndpoint", name, {}, opts);
    const parent = { parent: this };
    const region = aws.getRegionOutput({}, parent).region;
    const host = latencyOriginHost(args.domainName);

    // A regional custom domain needs a certificate from its own region.
    const certificateArn = validatedCertificate(name, host, args.hostedZoneId, this);
    const domain = new aws.apigatewayv2.DomainName(
      `${name}-domain`,
      { domainName: host, domainNameConfiguration: { certificateArn, endpointType: "REGIONAL", securityPolicy: "TLS_1_2" } },
      parent,
    );
    new aws.apigatewayv2.ApiMapping(`${name}-mapping`, { apiId: args.apiId, domainName: domain.id, stage: args.stageName }, parent);

    // Unhealthy after three minutes in a row with errors on the chat path; no data counts as healthy.
    const alarm = new aws.cloudwatch.MetricAlarm(
      `${name}-health-alarm`,
      {
        alarmDescription: "Chat path failing in this region (Route 53 takes it out of latency routing)",
        namespace: "AWS/Lambda",
        metricName: "Errors",
        dimensions: { FunctionName: args.messageFunctionName },
        statistic: "Sum",
        period: 60,
        evaluationPeriods: 3,
        threshold: 5,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        treatMissingData: "notBreaching",
      },
      parent,
    );
    const health = new aws.route53.HealthCheck(
      `${name}-health`,
      { type: "CLOUDWATCH_METRIC", cloudwatchAlarmName: alarm.name, cloudwatchAlarmRegion: region, insufficientDataHealthStatus: "Healthy" },
      parent,
    );
    const target = domain.domainNameConfiguration.apply((c) => ({ name: c.targetDomainName ?? "", zoneId: c.hostedZoneId ?? "" }));
    new aws.route53.Record(
      `${name}-latency`,
      {
        zoneId: args.hostedZoneId,
        name: host,
        type: "A",
        setIdentifier: region,
        latencyRoutingPolicies: [{ region }],
        healthCheckId: health.id,
        aliases: [{ name: target.name, zoneId: target.zoneId, evaluateTargetHealth: true }],
      },
      parent,
    );
    this.healthCheckId = health.id;
    this.registerOutputs({ healthCheckId: this.healthCheckId });
  }
}
