import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import type { WebConfig } from "../../runtime/protocol";
import { tables } from "../../runtime/store/schema";
import { MANAGED_POLICY } from "../../infra/web-edge";
import { SECURITY_HEADERS } from "../../runtime/web-security-headers";
import { bundleOptions, ONE_REGION, THREE_REGIONS } from "./fixtures";
import { buildStack } from "./harness";
import { Stack, TYPES } from "./query";

for (const [label, config] of [
  ["one region", ONE_REGION],
  ["three regions", THREE_REGIONS],
] as const) {
  describe(`infra stack, global resources (${label})`, function () {
    this.timeout(120_000);
    let stack: Stack;
    let outputs: Record<string, unknown>;
    const regions: readonly string[] = config.regions;
    const primary = regions[0]!;
    const protect = config.environment !== "dev";

    before(async () => {
      const built = await buildStack(config, bundleOptions());
      stack = new Stack(built.resources);
      outputs = built.outputs;
    });

    it("declares both global tables from the schema, in the primary region, replicated to exactly the other regions", () => {
      for (const schema of tables) {
        const table = stack.one(TYPES.table, `chat-tables-${schema.logicalName}`);
        expect(stack.regionOf(table)).to.equal(primary);
        const replicas = (table.inputs.replicas ?? []) as { regionName: string; pointInTimeRecovery: boolean }[];
        expect([primary, ...replicas.map((r) => r.regionName)]).to.have.members([...regions]);
        expect(replicas.map((r) => r.regionName)).to.not.include(primary);
        for (const replica of replicas) expect(replica.pointInTimeRecovery).to.equal(true);
        expect(table.inputs.billingMode).to.equal("PAY_PER_REQUEST");
        expect(table.inputs.streamEnabled).to.equal(true);
        expect(table.inputs.streamViewType).to.equal("NEW_AND_OLD_IMAGES");
        expect(table.inputs.pointInTimeRecovery).to.deep.equal({ enabled: true });
        expect(table.inputs.serverSideEncryption).to.deep.equal({ enabled: true });
        expect(table.inputs.ttl).to.deep.equal({ attributeName: schema.ttlAttribute, enabled: true });
        expect(table.inputs.deletionProtectionEnabled).to.equal(protect);
        expect(table.inputs.hashKey).to.equal(schema.hashKey.name);
        expect(table.inputs.rangeKey).to.equal(schema.rangeKey?.name);
        const indexes = (table.inputs.globalSecondaryIndexes ?? []) as { name: string; projectionType: string; keySchemas: { attributeName: string; keyType: string }[] }[];
        expect(indexes.map((i) => i.name)).to.deep.equal(schema.globalIndexes.map((i) => i.name));
        for (const [i, index] of schema.globalIndexes.entries()) {
          expect(indexes[i]!.projectionType).to.equal("ALL");
          expect(indexes[i]!.keySchemas).to.deep.equal([
            { attributeName: index.hashKey.name, keyType: "HASH" },
            ...(index.rangeKey ? [{ attributeName: index.rangeKey.name, keyType: "RANGE" }] : []),
          ]);
        }
      }
    });

    it("signs users in through a Cognito pool with a public code-flow client whose callbacks are the web URL", () => {
      const pool = stack.ofType(TYPES.userPool);
      expect(pool).to.have.length(1);
      expect(stack.regionOf(pool[0]!)).to.equal(primary);
      expect(pool[0]!.inputs.deletionProtection).to.equal(protect ? "ACTIVE" : "INACTIVE");
      const client = stack.ofType(TYPES.userPoolClient)[0]!;
      const webUrl = String(outputs.webUrl);
      expect(client.inputs).to.deep.include({
        userPoolId: pool[0]!.id,
        generateSecret: false,
        allowedOauthFlowsUserPoolClient: true,
        allowedOauthFlows: ["code"],
        callbackUrls: [`${webUrl}/`],
        logoutUrls: [`${webUrl}/`],
      });
      expect(client.inputs.allowedOauthScopes).to.have.members(["openid", "email", "profile"]);
      expect(client.inputs.explicitAuthFlows).to.deep.equal(["ALLOW_REFRESH_TOKEN_AUTH"]);
      const domain = stack.ofType(TYPES.userPoolDomain)[0]!;
      expect(domain.inputs.userPoolId).to.equal(pool[0]!.id);
      expect(domain.inputs.domain).to.match(/^[a-z0-9-]+$/).and.not.match(/aws|amazon|cognito/);
    });

    it("is invite-only by default, with short-lived tokens and threat protection in audit mode on the Plus plan", () => {
      const pool = stack.ofType(TYPES.userPool)[0]!;
      expect(pool.inputs.adminCreateUserConfig).to.deep.include({ allowAdminCreateUserOnly: true });
      expect(pool.inputs.lambdaConfig ?? {}).to.not.have.property("preSignUp");
      expect(stack.resources.filter((r) => r.type === TYPES.function && /pre-sign-up/.test(r.name))).to.deep.equal([]);
      expect(pool.inputs.userPoolTier).to.equal("PLUS");
      expect(pool.inputs.userPoolAddOns).to.deep.equal({ advancedSecurityMode: "AUDIT" });
      const client = stack.ofType(TYPES.userPoolClient)[0]!;
      expect(client.inputs).to.deep.include({ accessTokenValidity: 60, idTokenValidity: 60, refreshTokenValidity: 30 });
      expect(client.inputs.tokenValidityUnits).to.deep.equal({ accessToken: "minutes", idToken: "minutes", refreshToken: "days" });
    });

    it("keeps the web bucket private: public access blocked, owner-enforced, encrypted, readable only by this distribution", () => {
      const bucket = stack.ofType(TYPES.bucket);
      expect(bucket).to.have.length(1);
      expect(stack.regionOf(bucket[0]!)).to.equal(primary);
      expect(stack.ofType(TYPES.publicAccessBlock)[0]!.inputs).to.include({
        bucket: bucket[0]!.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      });
      expect(stack.ofType("aws:s3/bucketOwnershipControls:BucketOwnershipControls")[0]!.inputs.rule).to.deep.equal({ objectOwnership: "BucketOwnerEnforced" });
      expect(stack.ofType("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")).to.have.length(1);
      const distribution = stack.ofType(TYPES.distribution)[0]!;
      const policy = JSON.parse(String(stack.ofType(TYPES.bucketPolicy)[0]!.inputs.policy));
      expect(policy.Statement).to.deep.equal([
        {
          Sid: "CloudFrontReadsWebClient",
          Effect: "Allow",
          Principal: { Service: "cloudfront.amazonaws.com" },
          Action: ["s3:GetObject"],
          Resource: [`${String(bucket[0]!.state.arn)}/*`],
          Condition: { StringEquals: { "AWS:SourceArn": distribution.state.arn } },
        },
      ]);
    });

    it("serves the page over HTTPS with compression, an SPA rewrite and the security headers policy", () => {
      const distribution = stack.ofType(TYPES.distribution);
      expect(distribution).to.have.length(1);
      const d = distribution[0]!.inputs;
      const web = d.defaultCacheBehavior;
      expect(web.viewerProtocolPolicy).to.equal("redirect-to-https");
      expect(web.compress).to.equal(true);
      expect(web.cachePolicyId).to.equal(MANAGED_POLICY.cachingOptimized);
      const spa = stack.one(TYPES.cloudfrontFunction, "chat-edge-spa-rewrite");
      expect(spa.inputs.runtime).to.equal("cloudfront-js-2.0");
      expect(web.functionAssociations).to.deep.equal([{ eventType: "viewer-request", functionArn: spa.state.arn }]);
      const webOrigin = (d.origins as { originId: string; originAccessControlId?: string; domainName: string }[]).find((o) => o.originId === web.targetOriginId)!;
      expect(webOrigin.originAccessControlId).to.be.a("string");
      expect(webOrigin.domainName).to.equal(stack.ofType(TYPES.bucket)[0]!.state.bucketRegionalDomainName);
      // Distribution-wide error pages would also rewrite the WebSocket behaviors' 403s into the page.
      expect(d.customErrorResponses ?? []).to.deep.equal([]);
      expect(d.viewerCertificate).to.deep.equal({ cloudfrontDefaultCertificate: true });
    });

    it("sets the page's strict CSP and security headers through its own response-headers policy", () => {
      const policy = stack.one("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy", "chat-edge-headers");
      expect(stack.ofType(TYPES.distribution)[0]!.inputs.defaultCacheBehavior.responseHeadersPolicyId).to.equal(policy.id);
      const headers = policy.inputs.securityHeadersConfig;
      const csp = String(headers.contentSecurityPolicy.contentSecurityPolicy);
      expect(headers.contentSecurityPolicy.override).to.equal(true);
      const directives = Object.fromEntries(csp.split("; ").map((d) => [d.split(" ")[0], d.split(" ").slice(1).join(" ")]));
      expect(directives).to.include({
        "default-src": "'none'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "frame-ancestors": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
      });
      expect(csp).to.not.contain("unsafe");
      // connect-src: its own host, and Cognito's OIDC endpoints and hosted domain in the primary region, nothing else.
      const pool = stack.ofType(TYPES.userPoolDomain)[0]!;
      expect(directives["connect-src"]!.split(" ")).to.have.members([
        "'self'",
        `https://cognito-idp.${primary}.amazonaws.com`,
        `https://${String(pool.inputs.domain)}.auth.${primary}.amazoncognito.com`,
      ]);
      expect(headers.strictTransportSecurity).to.include({ accessControlMaxAgeSec: 63_072_000, includeSubdomains: true, override: true });
      expect(SECURITY_HEADERS["strict-transport-security"]).to.equal("max-age=63072000; includeSubDomains");
      expect(headers.frameOptions).to.include({ frameOption: SECURITY_HEADERS["x-frame-options"], override: true });
      expect(headers.referrerPolicy).to.include({ referrerPolicy: SECURITY_HEADERS["referrer-policy"], override: true });
      expect(headers.contentTypeOptions).to.include({ override: true });
    });

    it("carries each region's WebSocket under /ws/<region>: uncached, handshake headers and query string forwarded, HTTPS to the origin", () => {
      const d = stack.ofType(TYPES.distribution)[0]!.inputs;
      const behaviors = d.orderedCacheBehaviors as Record<string, unknown>[];
      expect(behaviors.map((b) => b.pathPattern)).to.deep.equal(regions.map((r) => `/ws/${r}`));
      const rewrite = stack.one(TYPES.cloudfrontFunction, "chat-edge-ws-rewrite");
      for (const region of regions) {
        const behavior = behaviors.find((b) => b.pathPattern === `/ws/${region}`)!;
        expect(behavior).to.include({
          viewerProtocolPolicy: "https-only",
          cachePolicyId: MANAGED_POLICY.cachingDisabled,
          originRequestPolicyId: MANAGED_POLICY.allViewerExceptHostHeader,
          targetOriginId: `ws-${region}`,
        });
        expect(behavior.functionAssociations).to.deep.equal([{ eventType: "viewer-request", functionArn: rewrite.state.arn }]);
        const origin = (d.origins as WebSocketOrigin[]).find((o) => o.originId === `ws-${region}`)!;
        expect(origin.domainName).to.equal(`${stack.inRegion(TYPES.api, region)[0]!.id}.execute-api.${region}.amazonaws.com`);
        expect(origin.customOriginConfig).to.deep.include({ originProtocolPolicy: "https-only", originSslProtocols: ["TLSv1.2"] });
      }
      // Without a custom domain there is no latency-routed `/ws`.
      expect(behaviors.map((b) => b.pathPattern)).to.not.include("/ws");
    });

    it("adds the origin secret the authorizers require to every WebSocket origin, and the one the page's origin needs none", () => {
      const d = stack.ofType(TYPES.distribution)[0]!;
      const sent = String(stack.one("random:index/randomPassword:RandomPassword", "chat-origin-secret-a").state.result);
      expect(sent).to.match(/^[A-Za-z0-9]{48}$/);
      const origins = d.inputs.origins as WebSocketOrigin[];
      expect(origins.filter((o) => o.originId.startsWith("ws-"))).to.have.length(regions.length);
      for (const origin of origins) {
        if (origin.originId === "web") expect(origin.customHeaders ?? []).to.deep.equal([]);
        else expect(origin.customHeaders, origin.originId).to.deep.equal([{ name: "X-Origin-Verify", value: sent }]);
      }
      expect(d.secretInputs.some((path) => path.startsWith("origins"))).to.equal(true);
      for (const region of regions) {
        const accepted = String(stack.fn(region, "authorizer").inputs.environment.variables.ORIGIN_VERIFY_SECRETS).split(",");
        expect(accepted).to.include(sent);
      }
    });

    it("publishes config.json for the page: regions primary first through CloudFront, Cognito sign-in", () => {
      const object = stack.ofType(TYPES.bucketObject).find((o) => o.inputs.key === "config.json")!;
      expect(object.inputs.contentType).to.equal("application/json");
      expect(object.inputs.cacheControl).to.equal("no-cache");
      const web = JSON.parse(String(object.inputs.content)) as WebConfig;
      const host = String(stack.ofType(TYPES.distribution)[0]!.state.domainName);
      expect(web.regions).to.deep.equal(regions.map((region) => ({ region, url: `wss://${host}/ws/${region}` })));
      const pool = stack.ofType(TYPES.userPool)[0]!;
      expect(web.auth).to.deep.equal({
        mode: "cognito",
        authority: `https://cognito-idp.${primary}.amazonaws.com/${pool.id}`,
        clientId: stack.ofType(TYPES.userPoolClient)[0]!.id,
        domain: `https://${String(stack.ofType(TYPES.userPoolDomain)[0]!.inputs.domain)}.auth.${primary}.amazoncognito.com`,
        redirectUri: `https://${host}/`,
        logoutUri: `https://${host}/`,
      });
      expect(web.emulator).to.equal(false);
      expect(web.modelLabel).to.equal(config.modelId);
    });

    it("exports what a user needs: web URL, WebSocket URLs per region, sign-in, guardrails, tables", () => {
      const host = String(stack.ofType(TYPES.distribution)[0]!.state.domainName);
      expect(outputs.webUrl).to.equal(`https://${host}`);
      expect(outputs.primaryRegion).to.equal(primary);
      const perRegion = outputs.regions as Record<string, Record<string, string>>;
      expect(Object.keys(perRegion)).to.deep.equal([...regions]);
      for (const region of regions) {
        // No `execute-api` URL: the API refuses handshakes that do not come through CloudFront.
        expect(perRegion[region]).to.deep.equal({
          websocketUrl: `wss://${host}/ws/${region}`,
          guardrailId: stack.inRegion(TYPES.guardrail, region)[0]!.state.guardrailId,
          guardrailVersion: "1",
          modelId: config.modelId,
        });
      }
      expect(outputs.userPoolId).to.equal(stack.ofType(TYPES.userPool)[0]!.id);
      expect(outputs.userPoolClientId).to.equal(stack.ofType(TYPES.userPoolClient)[0]!.id);
      expect(String(outputs.hostedSignInUrl)).to.match(/^https:\/\/[a-z0-9-]+\.auth\.[a-z0-9-]+\.amazoncognito\.com\/login\?client_id=.+&response_type=code&/);
      expect(String(outputs.hostedSignInUrl)).to.contain(`redirect_uri=${encodeURIComponent(`https://${host}/`)}`);
      expect(outputs.connectionsTableName).to.equal(stack.one(TYPES.table, "chat-tables-connections").state.name);
      expect(outputs.historyTableName).to.equal(stack.one(TYPES.table, "chat-tables-history").state.name);
      expect(outputs.webBucketName).to.equal(stack.ofType(TYPES.bucket)[0]!.state.bucket);
      expect(outputs.distributionId).to.equal(stack.ofType(TYPES.distribution)[0]!.id);
    });
  });
}


interface WebSocketOrigin {
  originId: string;
  domainName: string;
  customOriginConfig: Record<string, unknown>;
  customHeaders?: { name: string; value: string }[];
}

describe("infra stack, sign-up under the operator's control", function () {
  this.timeout(120_000);

  it("with chat:selfSignUpDomains, lets only those domains sign up through a pre-sign-up trigger only this pool may invoke", async () => {
    const stack = new Stack((await buildStack({ ...ONE_REGION, selfSignUpDomains: ["Example.com", "example.org"], threatProtection: "enforced" }, bundleOptions())).resources);
    const pool = stack.ofType(TYPES.userPool)[0]!;
    expect(pool.inputs.adminCreateUserConfig).to.deep.include({ allowAdminCreateUserOnly: false });
    const trigger = stack.one(TYPES.function, "chat-auth-pre-sign-up-fn");
    expect(pool.inputs.lambdaConfig).to.deep.equal({ preSignUp: trigger.state.arn });
    expect(trigger.inputs.environment.variables).to.deep.equal({ SIGN_UP_EMAIL_DOMAINS: "example.com,example.org" });
    expect(trigger.inputs).to.include({ runtime: "nodejs22.x", handler: "index.handler", timeout: 5 });
    expect(stack.regionOf(trigger)).to.equal(ONE_REGION.regions[0]);
    const invoke = stack.one(TYPES.permission, "chat-auth-pre-sign-up-invoke");
    expect(invoke.inputs).to.deep.include({ action: "lambda:InvokeFunction", principal: "cognito-idp.amazonaws.com", sourceArn: pool.state.arn });
    const policy = JSON.parse(String(stack.one(TYPES.rolePolicy, "chat-auth-pre-sign-up-policy").inputs.policy)) as { Statement: { Action: string[] }[] };
    expect(policy.Statement.flatMap((s) => s.Action)).to.have.members(["logs:CreateLogStream", "logs:PutLogEvents"]);
    expect(pool.inputs.userPoolAddOns).to.deep.equal({ advancedSecurityMode: "ENFORCED" });
    expect(pool.inputs.userPoolTier).to.equal("PLUS");
  });

  it("with chat:threatProtection off, stays on the Essentials plan", async () => {
    const stack = new Stack((await buildStack({ ...ONE_REGION, threatProtection: "off" }, bundleOptions())).resources);
    const pool = stack.ofType(TYPES.userPool)[0]!;
    expect(pool.inputs.userPoolTier).to.equal("ESSENTIALS");
    expect(pool.inputs.userPoolAddOns).to.deep.equal({ advancedSecurityMode: "OFF" });
  });
});

describe("infra stack, web client files", function () {
  this.timeout(120_000);

  it("uploads the built client with content types and cache headers, and never its source maps", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "web-dist-"));
    fs.mkdirSync(path.join(dir, "assets"));
    fs.writeFileSync(path.join(dir, "index.html"), "<!doctype html><title>chat</title>");
    fs.writeFileSync(path.join(dir, "assets", "app-1a2b3c.js"), "console.log(1)");
    fs.writeFileSync(path.join(dir, "assets", "app-1a2b3c.js.map"), '{"version":3,"sources":["main.ts"]}');
    fs.writeFileSync(path.join(dir, "config.json"), '{"stale":true}');
    try {
      const stack = new Stack((await buildStack(ONE_REGION, { ...bundleOptions(), webDistDir: dir })).resources);
      const objects = stack.ofType(TYPES.bucketObject);
      expect(objects.map((o) => o.inputs.key)).to.have.members(["index.html", "assets/app-1a2b3c.js", "config.json"]);
      const byKey = Object.fromEntries(objects.map((o) => [o.inputs.key, o.inputs]));
      expect(byKey["index.html"]).to.include({ contentType: "text/html; charset=utf-8", cacheControl: "no-cache" });
      expect(byKey["assets/app-1a2b3c.js"]).to.include({ contentType: "text/javascript; charset=utf-8", cacheControl: "public, max-age=31536000, immutable" });
      expect(byKey["index.html"]!.source).to.deep.equal({ path: path.join(dir, "index.html") });
      // The generated config.json wins over a stale one in the build folder.
      expect(String(byKey["config.json"]!.content)).to.contain('"mode": "cognito"');
      for (const object of objects) expect(object.inputs.bucket).to.equal(stack.ofType(TYPES.bucket)[0]!.id);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("still deploys (config.json only) when the client has not been built", async () => {
    const missing = path.join(os.tmpdir(), `no-web-dist-${process.pid}`);
    const stack = new Stack((await buildStack(ONE_REGION, { ...bundleOptions(), webDistDir: missing })).resources);
    expect(stack.ofType(TYPES.bucketObject).map((o) => o.inputs.key)).to.deep.equal(["config.json"]);
  });
});

describe("infra stack, custom domain", function () {
  this.timeout(120_000);
  const domain = { domainName: "chat.example.com", hostedZoneId: "Z0123456789ABCDEFGHIJ" };
  const regions = ["eu-west-1", "us-east-2"];

  it("requests a us-east-1 certificate, aliases the distribution with TLS 1.2+ and points Route 53 at it", async () => {
    const { resources, outputs } = await buildStack({ ...ONE_REGION, regions, ...domain }, bundleOptions());
    const stack = new Stack(resources);
    const certificate = stack.one(TYPES.certificate, "chat-domain-cert");
    expect(stack.regionOf(certificate)).to.equal("us-east-1");
    expect(certificate.inputs).to.include({ domainName: "chat.example.com", validationMethod: "DNS" });
    const validated = stack.one("aws:acm/certificateValidation:CertificateValidation", "chat-domain-cert-validated");
    const d = stack.ofType(TYPES.distribution)[0]!;
    expect(d.inputs.aliases).to.deep.equal(["chat.example.com"]);
    expect(d.inputs.viewerCertificate).to.deep.equal({
      acmCertificateArn: validated.state.certificateArn,
      sslSupportMethod: "sni-only",
      minimumProtocolVersion: "TLSv1.2_2021",
    });
    const aliases = stack.ofType(TYPES.record).filter((r) => r.inputs.name === "chat.example.com");
    expect(aliases.map((r) => r.inputs.type)).to.have.members(["A", "AAAA"]);
    for (const record of aliases) {
      expect(record.inputs.zoneId).to.equal(domain.hostedZoneId);
      expect(record.inputs.aliases).to.deep.equal([{ name: d.state.domainName, zoneId: d.state.hostedZoneId, evaluateTargetHealth: false }]);
    }
    expect(outputs.webUrl).to.equal("https://chat.example.com");
    expect(stack.ofType(TYPES.userPoolClient)[0]!.inputs.callbackUrls).to.deep.equal(["https://chat.example.com/"]);
    expect((outputs.regions as Record<string, { websocketUrl: string }>)["eu-west-1"]!.websocketUrl).to.equal("wss://chat.example.com/ws/eu-west-1");
  });

  it("routes <domain>/ws through CloudFront to the nearest healthy region: regional custom domains, health checks, latency records", async () => {
    const { resources, outputs } = await buildStack({ ...ONE_REGION, regions, ...domain }, bundleOptions());
    const stack = new Stack(resources);
    // CloudFront's `/ws` behavior goes to the latency-routed origin host, with the origin secret like every region's.
    const d = stack.ofType(TYPES.distribution)[0]!;
    const nearestBehavior = (d.inputs.orderedCacheBehaviors as Record<string, unknown>[]).find((b) => b.pathPattern === "/ws")!;
    expect(nearestBehavior).to.include({ targetOriginId: "ws-nearest", viewerProtocolPolicy: "https-only", cachePolicyId: MANAGED_POLICY.cachingDisabled });
    expect(nearestBehavior.originRequestPolicyId).to.equal(MANAGED_POLICY.allViewerExceptHostHeader);
    const nearestOrigin = (d.inputs.origins as WebSocketOrigin[]).find((o) => o.originId === "ws-nearest")!;
    expect(nearestOrigin.domainName).to.equal("ws-origin.chat.example.com");
    expect(nearestOrigin.customOriginConfig).to.deep.include({ originProtocolPolicy: "https-only", originSslProtocols: ["TLSv1.2"] });
    expect(nearestOrigin.customHeaders!.map((h) => h.name)).to.deep.equal(["X-Origin-Verify"]);
    expect(stack.ofType(TYPES.record).filter((r) => r.inputs.name === "ws.chat.example.com")).to.deep.equal([]);
    const latency = stack.ofType(TYPES.record).filter((r) => r.inputs.name === "ws-origin.chat.example.com");
    expect(latency.map((r) => r.inputs.setIdentifier)).to.have.members(regions);
    for (const region of regions) {
      const certificate = stack.one(TYPES.certificate, `chat-${region}-latency-cert`);
      expect(stack.regionOf(certificate)).to.equal(region);
      expect(certificate.inputs.domainName).to.equal("ws-origin.chat.example.com");
      const custom = stack.inRegion("aws:apigatewayv2/domainName:DomainName", region);
      expect(custom).to.have.length(1);
      expect(custom[0]!.inputs.domainNameConfiguration).to.deep.include({ endpointType: "REGIONAL", securityPolicy: "TLS_1_2" });
      expect(custom[0]!.inputs.domainNameConfiguration.certificateArn).to.equal(
        stack.one("aws:acm/certificateValidation:CertificateValidation", `chat-${region}-latency-cert-validated`).state.certificateArn,
      );
      const mapping = stack.inRegion("aws:apigatewayv2/apiMapping:ApiMapping", region)[0]!;
      expect(mapping.inputs).to.include({ apiId: stack.inRegion(TYPES.api, region)[0]!.id, domainName: custom[0]!.id, stage: "live" });
      const alarm = stack.one(TYPES.alarm, `chat-${region}-latency-health-alarm`);
      expect(alarm.inputs.dimensions).to.deep.equal({ FunctionName: stack.fn(region, "message").state.name });
      const health = stack.one("aws:route53/healthCheck:HealthCheck", `chat-${region}-latency-health`);
      expect(health.inputs).to.include({ type: "CLOUDWATCH_METRIC", cloudwatchAlarmName: alarm.state.name, cloudwatchAlarmRegion: region });
      const record = latency.find((r) => r.inputs.setIdentifier === region)!;
      expect(record.inputs).to.deep.include({ zoneId: domain.hostedZoneId, type: "A", latencyRoutingPolicies: [{ region }], healthCheckId: health.id });
      expect(record.inputs.aliases).to.deep.equal([
        {
          name: custom[0]!.state.domainNameConfiguration.targetDomainName,
          zoneId: custom[0]!.state.domainNameConfiguration.hostedZoneId,
          evaluateTargetHealth: true,
        },
      ]);
    }
    expect(outputs.nearestWebsocketUrl).to.equal("wss://chat.example.com/ws");
    const web = JSON.parse(String(stack.ofType(TYPES.bucketObject).find((o) => o.inputs.key === "config.json")!.inputs.content)) as WebConfig;
    expect(web.regions.map((r) => r.url)).to.deep.equal([
      "wss://chat.example.com/ws",
      "wss://chat.example.com/ws/eu-west-1",
      "wss://chat.example.com/ws/us-east-2",
    ]);
  });

  it("uses a given certificate instead of requesting one for CloudFront", async () => {
    const certificateArn = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab";
    const stack = new Stack((await buildStack({ ...ONE_REGION, ...domain, certificateArn }, bundleOptions())).resources);
    expect(stack.ofType(TYPES.certificate).map((c) => c.name)).to.deep.equal(["chat-eu-west-1-latency-cert"]);
    expect(stack.ofType(TYPES.distribution)[0]!.inputs.viewerCertificate.acmCertificateArn).to.equal(certificateArn);
  });

  it("creates no DNS, certificates or latency routing without chat:domainName", async () => {
    const stack = new Stack((await buildStack(ONE_REGION, bundleOptions())).resources);
    expect(stack.ofType(TYPES.certificate)).to.deep.equal([]);
    expect(stack.ofType(TYPES.record)).to.deep.equal([]);
    expect(stack.ofType("aws:route53/healthCheck:HealthCheck")).to.deep.equal([]);
  });
});
