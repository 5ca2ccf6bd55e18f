/**
 * The edge: a private S3 bucket for the web client behind CloudFront origin access control, and one CloudFront
 * distribution that serves the page and carries each region's WebSocket API under `/ws/<region>` (and, with a
 * custom domain, the nearest healthy region's under `/ws`). Every WebSocket origin gets the X-Origin-Verify header
 * that the APIs' $connect authorizers require, so the APIs answer only through this distribution.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ORIGIN_VERIFY_HEADER } from "../runtime/auth/origin-verify";

/** CloudFront managed policies, by id (CloudFront developer guide, "Use managed cache policies" / "… origin request policies"). */
export const MANAGED_POLICY = {
  cachingOptimized: "658327ea-f89d-4fab-a63d-7e88639e58f6",
  cachingDisabled: "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
  /** Forwards every viewer header (the Sec-WebSocket-* handshake headers too) and the query string, but not Host. */
  allViewerExceptHostHeader: "b689b0a8-53d0-40ab-baf2-68738e2966ac",
} as const;

/** The viewer path of a region's WebSocket endpoint. */
export function websocketPath(region: string): string {
  return `/ws/${region}`;
}

/** The viewer path of the nearest healthy region's WebSocket endpoint (with a custom domain only). */
export const NEAREST_WEBSOCKET_PATH = "/ws";

/** Source of a CloudFront Function kept in infra/edge/ (unit-tested there against CloudFront event shapes). */
export function edgeFunctionCode(file: "ws-path-rewrite.js" | "spa-rewrite.js"): string {
  return fs.readFileSync(path.join(__dirname, "edge", file), "utf8");
}

export interface RegionalOrigin {
  region: string;
  /** `<apiId>.execute-api.<region>.amazonaws.com`. */
  apiDomain: pulumi.Input<string>;
}

export interface ChatEdgeArgs {
  /** Each region's WebSocket API, primary first. */
  readonly origins: readonly RegionalOrigin[];
  /** Custom viewer domain and its us-east-1 ACM certificate; without them the cloudfront.net name and certificate serve. */
  readonly customDomain?: pulumi.Input<{ name: string; certificateArn: string }>;
  /** The page's Content-Security-Policy (runtime/web-security-headers.ts), set on every response of the web client. */
  readonly contentSecurityPolicy: pulumi.Input<string>;
  /** The X-Origin-Verify value every WebSocket origin request carries (infra/origin-secret.ts). */
  readonly originSecret: pulumi.Input<string>;
  /**
   * With a custom domain: the latency-routed host of the regional API custom domains (`ws-origin.<domain>`,
   * infra/latency-endpoint.ts), served at `/ws`.
   */
  readonly nearestOriginHost?: string;
}

export class ChatEdge extends pulumi.ComponentResource {
  public readonly bucketName: pulumi.Output<string>;
  public readonly distributionId: pulumi.Output<string>;
  public readonly distributionArn: pulumi.Output<string>;
  /** `dxxxx.cloudfront.net`. */
  public readonly distributionDomain: pulumi.Output<string>;
  /** CloudFront's hosted zone, for Route 53 alias records. */
  public readonly distributionZoneId: pulumi.Output<string>;
  /** The host viewers use: the custom domain when set, else the cloudfront.net name. */
  public readonly host: pulumi.Output<string>;

  constructor(name: string, args: ChatEdgeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chat:edge:ChatEdge", name, {}, opts);
    const parent = { parent: this };

    const bucket = new aws.s3.Bucket(`${name}-web`, { forceDestroy: true }, parent);
    const publicAccess = new aws.s3.BucketPublicAccessBlock(
      `${name}-web-private`,
      { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      parent,
    );
    new aws.s3.BucketOwnershipControls(`${name}-web-ownership`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, parent);
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-web-encryption`,
      { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }] },
      parent,
    );
    const oac = new aws.cloudfront.OriginAccessControl(
      `${name}-web-oac`,
      { description: "Streaming chat web client", originAccessControlOriginType: "s3", signingBehavior: "always", signingProtocol: "sigv4" },
      parent,
    );

    const edgeFunction = (role: string, file: "ws-path-rewrite.js" | "spa-rewrite.js", comment: string) =>
      new aws.cloudfront.Function(`${name}-${role}`, { runtime: "cloudfront-js-2.0", code: edgeFunctionCode(file), publish: true, comment }, parent);
    const spaRewrite = edgeFunction("spa-rewrite", "spa-rewrite.js", "Serve /index.html for client-side routes");
    const wsRewrite = edgeFunction("ws-rewrite", "ws-path-rewrite.js", "Rewrite /ws/<region> to the API stage path");

    // The page's security headers, the same as the local web server's (runtime/web-security-headers.ts); they
    // override whatever an origin sends (CloudFront developer guide, "Understand response headers policies").
    const headers = new aws.cloudfront.ResponseHeadersPolicy(
      `${name}-headers`,
      {
        comment: "Streaming chat: strict CSP and security headers",
        securityHeadersConfig: {
          contentSecurityPolicy: { contentSecurityPolicy: args.contentSecurityPolicy, override: true },
          strictTransportSecurity: { accessControlMaxAgeSec: 63_072_000, includeSubdomains: true, override: true },
          contentTypeOptions: { override: true },
          frameOptions: { frameOption: "DENY", override: true },
          referrerPolicy: { referrerPolicy: "no-referrer", override: true },
        },
      },
      parent,
    );

    const webOrigin = "web";
    const custom = args.customDomain ? pulumi.output(args.customDomain) : undefined;
    // Each WebSocket origin: HTTPS only, and the header that proves a request came through this distribution. An
    // origin custom header also replaces a viewer's header of the same name (CloudFront developer guide, "Add custom
    // headers to origin requests"), so a viewer cannot send a guess through CloudFront either.
    const websocketOrigin = (originId: string, domainName: pulumi.Input<string>) => ({
      originId,
      domainName,
      customOriginConfig: { httpPort: 80, httpsPort: 443, originProtocolPolicy: "https-only", originSslProtocols: ["TLSv1.2"] },
      customHeaders: [{ name: ORIGIN_VERIFY_HEADER, value: args.originSecret }],
    });
    const websocketRoutes = [
      ...args.origins.map((origin) => ({ path: websocketPath(origin.region), origin: websocketOrigin(`ws-${origin.region}`, origin.apiDomain) })),
      // CloudFront resolves the origin's name from the edge location, so Route 53's latency records pick the region
      // nearest to the edge that took the viewer (Route 53 developer guide, "Latency-based routing").
      ...(args.nearestOriginHost ? [{ path: NEAREST_WEBSOCKET_PATH, origin: websocketOrigin("ws-nearest", args.nearestOriginHost) }] : []),
    ];
    const distribution = new aws.cloudfront.Distribution(
      `${name}-cdn`,
      {
        enabled: true,
        comment: "Streaming chat: web client and WebSocket APIs",
        isIpv6Enabled: true,
        httpVersion: "http2and3",
        priceClass: "PriceClass_All",
        defaultRootObject: "index.html",
        ...(custom ? { aliases: [custom.name] } : {}),
        origins: [
          { originId: webOrigin, domainName: bucket.bucketRegionalDomainName, originAccessControlId: oac.id },
          ...websocketRoutes.map((route) => route.origin),
        ],
        defaultCacheBehavior: {
          targetOriginId: webOrigin,
          viewerProtocolPolicy: "redirect-to-https",
          allowedMethods: ["GET", "HEAD", "OPTIONS"],
          cachedMethods: ["GET", "HEAD"],
          compress: true,
          cachePolicyId: MANAGED_POLICY.cachingOptimized,
          responseHeadersPolicyId: headers.id,
          functionAssociations: [{ eventType: "viewer-request", functionArn: spaRewrite.arn }],
        },
        // WebSocket behaviors: never cached, the handshake headers forwarded (Sec-WebSocket-Protocol carries the
        // token; AllViewerExceptHostHeader includes every viewer header but Host, CloudFront developer guide, "Use
        // managed origin request policies"), Host not (API Gateway routes on its own host name). CloudFront
        // developer guide, "Use WebSockets with CloudFront distributions".
        orderedCacheBehaviors: websocketRoutes.map((route) => ({
          pathPattern: route.path,
          targetOriginId: route.origin.originId,
          viewerProtocolPolicy: "https-only",
          allowedMethods: ["GET", "HEAD", "OPTIONS"],
          cachedMethods: ["GET", "HEAD"],
          compress: false,
          cachePolicyId: MANAGED_POLICY.cachingDisabled,
          originRequestPolicyId: MANAGED_POLICY.allViewerExceptHostHeader,
          functionAssociations: [{ eventType: "viewer-request", functionArn: wsRewrite.arn }],
        })),
        restrictions: { geoRestriction: { restrictionType: "none" } },
        viewerCertificate: custom
          ? { acmCertificateArn: custom.certificateArn, sslSupportMethod: "sni-only", minimumProtocolVersion: "TLSv1.2_2021" }
          : // The default *.cloudfront.net certificate: CloudFront then negotiates TLSv1 or later and this setting
            // cannot be raised; set chat:domainName for TLS 1.2+ (see docs/edge.md).
            { cloudfrontDefaultCertificate: true },
      },
      parent,
    );

    // Only this distribution may read the bucket (CloudFront developer guide, "Restrict access to an Amazon S3 origin").
    new aws.s3.BucketPolicy(
      `${name}-web-policy`,
      {
        bucket: bucket.id,
        policy: pulumi.all([bucket.arn, distribution.arn]).apply(([bucketArn, distributionArn]) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "CloudFrontReadsWebClient",
                Effect: "Allow",
                Principal: { Service: "cloudfront.amazonaws.com" },
                Action: ["s3:GetObject"],
                Resource: [`${bucketArn}/*`],
                Condition: { StringEquals: { "AWS:SourceArn": distributionArn } },
              },
            ],
          }),
        ),
      },
      { parent: this, dependsOn: [publicAccess] },
    );

    this.bucketName = bucket.bucket;
    this.distributionId = distribution.id;
    this.distributionArn = distribution.arn;
    this.distributionDomain = distribution.domainName;
    this.distributionZoneId = distribution.hostedZoneId;
    this.host = custom ? custom.name : distribution.domainName;
    this.registerOutputs({ bucketName: this.bucketName, distributionId: this.distributionId, host: this.host });
  }
}
