/**
 * The whole program as a function of the validated config, so the entry point (`index.ts`) and the tests (which
 * build several configs in one process) share it.
 *
 * Order of construction: tables and sign-in in the primary region, one regional slice per region, then the edge
 * (which needs every region's API) and the web client's files (which need the edge's host name). Cognito's
 * callback URLs need the edge's host too, so they arrive through a deferred output.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { WebConfig } from "../runtime/protocol";
import { ChatAuth } from "./auth";
import { bundleHandler, bundleWorkerService, type HandlerBundler, type ServiceBundler } from "./bundle";
import type { ChatConfig } from "./config";
import { EdgeCertificate, EdgeDnsRecords } from "./custom-domain";
import { LatencyEndpoint, latencyOriginHost } from "./latency-endpoint";
import { OriginSecret } from "./origin-secret";
import { routeOf } from "./model-routing";
import { RegionalChat } from "./regional-chat";
import { ChatTables } from "./tables";
import { ChatEdge, NEAREST_WEBSOCKET_PATH, websocketPath } from "./web-edge";
import { STAGE_NAME } from "./websocket-routes";
import { WebContent } from "./web-content";
import { contentSecurityPolicy, originOf } from "../runtime/web-security-headers";

export interface StackOptions {
  /** Builds a handler's code archive; esbuild over runtime/handlers by default. */
  bundle?: HandlerBundler;
  /** The web client's build folder; dist/web by default. */
  webDistDir?: string;
  /** With `chat:worker: ecs`, builds the worker service's bundle; esbuild over runtime/worker-service by default. */
  workerServiceBundle?: ServiceBundler;
}

export interface RegionOutputs {
  /** Through CloudFront: `wss://<host>/ws/<region>`. */
  websocketUrl: pulumi.Output<string>;
  guardrailId: pulumi.Output<string>;
  guardrailVersion: pulumi.Output<string>;
  /** The Bedrock model id (or inference profile) this region calls. */
  modelId: string;
}

export interface StackOutputs {
  webUrl: pulumi.Output<string>;
  /** With a custom domain: `wss://<domain>/ws`, through CloudFront to the nearest healthy region (latency-routed). */
  nearestWebsocketUrl: string | undefined;
  primaryRegion: string;
  regions: Record<string, RegionOutputs>;
  userPoolId: pulumi.Output<string>;
  userPoolClientId: pulumi.Output<string>;
  hostedSignInUrl: pulumi.Output<string>;
  connectionsTableName: pulumi.Output<string>;
  historyTableName: pulumi.Output<string>;
  webBucketName: pulumi.Output<string>;
  distributionId: pulumi.Output<string>;
}

/** Tags on every resource that supports them, so a deployment's cost and inventory can be found by stack. */
export function defaultTags(): Record<string, string> {
  return { app: "bedrock-streaming-chat", "pulumi-project": pulumi.getProject(), "pulumi-stack": pulumi.getStack() };
}

/** One AWS provider per configured region; every regional resource is created through its region's provider. */
export function regionProviders(config: ChatConfig): Map<string, aws.Provider> {
  return new Map(config.regions.map((region) => [region, regionProvider(`aws-${region}`, region)]));
}

function regionProvider(name: string, region: string): aws.Provider {
  return new aws.Provider(name, { region: region as aws.Region, defaultTags: { tags: defaultTags() } });
}

export function createStack(config: ChatConfig, options: StackOptions = {}): StackOutputs {
  const providers = regionProviders(config);
  const primary = providerOf(providers, config.primaryRegion);
  const onPrimary = { providers: { aws: primary } };

  const tables = new ChatTables(
    "chat-tables",
    { replicaRegions: config.regions.slice(1), deletionProtection: config.protectData, protect: config.protectData },
    onPrimary,
  );

  const bundle = options.bundle ?? bundleHandler;
  const [webUrl, resolveWebUrl] = pulumi.deferredOutput<string>();
  const auth = new ChatAuth(
    "chat-auth",
    {
      callbackUrls: [webUrl.apply((url) => `${url}/`)],
      logoutUrls: [webUrl.apply((url) => `${url}/`)],
      deletionProtection: config.protectData,
      selfSignUpDomains: config.selfSignUpDomains,
      preSignUpCode: () => bundle("pre-sign-up"),
      logRetentionDays: config.logRetentionDays,
      threatProtection: config.threatProtection,
      ...(config.authDomainPrefix !== undefined ? { domainPrefix: config.authDomainPrefix } : {}),
    },
    onPrimary,
  );

  // What CloudFront sends to every WebSocket API, and what their authorizers accept (the current and previous values).
  const originSecret = new OriginSecret("chat-origin-secret", { version: config.originSecretVersion }, onPrimary);

  // Known once every region's API exists: each worker may post to clients connected to the others (resume).
  const [regionalApis, resolveRegionalApis] = pulumi.deferredOutput<{ region: string; apiId: string; stageName: string }[]>();
  const slices = config.regions.map(
    (region) =>
      new RegionalChat(
        `chat-${region}`,
        {
          config,
          modelId: modelIdOf(config, region),
          connectionsTableName: tables.connections.name,
          historyTableName: tables.history.name,
          userPoolId: auth.userPoolId,
          userPoolClientId: auth.clientId,
          bundle,
          originSecrets: originSecret.accepted,
          peerApis: regionalApis,
          ...(config.worker.mode === "ecs" ? { workerServiceBundle: options.workerServiceBundle ?? (() => bundleWorkerService()) } : {}),
          ...(region === config.primaryRegion && config.ceiling.monthlyBudgetUsd > 0 ? { alarmPublishers: ["budgets.amazonaws.com"] } : {}),
        },
        { providers: { aws: providerOf(providers, region) } },
      ),
  );

  if (config.ceiling.monthlyBudgetUsd > 0) monthlyBudget(config, slices[0]!.alarmTopicArn, primary);

  // The API and its stage name only (the stage itself depends on the functions, whose policies need this list).
  resolveRegionalApis(pulumi.all(slices.map((slice) => pulumi.all([slice.region, slice.apiId]).apply(([region, apiId]) => ({ region, apiId, stageName: STAGE_NAME })))));

  const certificate = config.domain
    ? new EdgeCertificate("chat-domain", { domain: config.domain }, { providers: { aws: usEast1(providers) } })
    : undefined;
  const edge = new ChatEdge(
    "chat-edge",
    {
      contentSecurityPolicy: pagePolicy(config, auth),
      origins: config.regions.map((region, i) => ({ region, apiDomain: slices[i]!.apiDomain })),
      originSecret: originSecret.sent,
      ...(config.domain ? { nearestOriginHost: latencyOriginHost(config.domain.name) } : {}),
      ...(config.domain && certificate
        ? { customDomain: pulumi.output({ name: config.domain.name, certificateArn: certificate.certificateArn }) }
        : {}),
    },
    onPrimary,
  );
  if (config.domain) {
    const domain = config.domain;
    new EdgeDnsRecords(
      "chat-domain",
      { domain, distributionDomain: edge.distributionDomain, distributionZoneId: edge.distributionZoneId },
      onPrimary,
    );
    config.regions.forEach(
      (region, i) =>
        new LatencyEndpoint(
          `chat-${region}-latency`,
          {
            domainName: domain.name,
            hostedZoneId: domain.hostedZoneId,
            apiId: slices[i]!.apiId,
            stageName: slices[i]!.stageName,
            messageFunctionName: slices[i]!.functionNames.message,
          },
          { providers: { aws: providerOf(providers, region) } },
        ),
    );
  }
  // With a custom domain the page first tries `/ws` (the nearest healthy region, latency-routed), then each region.
  const nearest = config.domain ? { region: "nearest", url: `wss://${config.domain.name}${NEAREST_WEBSOCKET_PATH}` } : undefined;
  const url = pulumi.interpolate`https://${edge.host}`;
  resolveWebUrl(url);

  const websocketUrl = (region: string) => pulumi.interpolate`wss://${edge.host}${websocketPath(region)}`;
  const webConfig: pulumi.Output<WebConfig> = pulumi
    .all([url, auth.authority, auth.clientId, auth.hostedDomainUrl, ...config.regions.map(websocketUrl)])
    .apply(([web, authority, clientId, domain, ...urls]): WebConfig => ({
      regions: [...(nearest ? [nearest] : []), ...config.regions.map((region, i) => ({ region, url: urls[i]! }))],
      auth: { mode: "cognito" as const, authority, clientId, domain, redirectUri: `${web}/`, logoutUri: `${web}/` },
      modelLabel: modelLabel(config),
      emulator: false,
    }));
  new WebContent(
    "chat-web",
    { bucketName: edge.bucketName, config: webConfig, ...(options.webDistDir ? { distDir: options.webDistDir } : {}) },
    onPrimary,
  );

  return {
    webUrl: url,
    nearestWebsocketUrl: nearest?.url,
    primaryRegion: config.primaryRegion,
    regions: Object.fromEntries(
      config.regions.map((region, i) => [
        region,
        {
          websocketUrl: websocketUrl(region),
          guardrailId: slices[i]!.guardrailId,
          guardrailVersion: slices[i]!.guardrailVersion,
          modelId: modelIdOf(config, region),
        },
      ]),
    ),
    userPoolId: auth.userPoolId,
    userPoolClientId: auth.clientId,
    hostedSignInUrl: auth.signInUrl,
    connectionsTableName: tables.connections.name,
    historyTableName: tables.history.name,
    webBucketName: edge.bucketName,
    distributionId: edge.distributionId,
  };
}

/**
 * The account's monthly cost budget (AWS Budgets is global and account-wide: one per stack, created through the
 * primary provider), notifying the primary region's alarm topic at 80 % of actual and 100 % of forecast spend.
 */
function monthlyBudget(config: ChatConfig, topicArn: pulumi.Output<string>, primary: aws.Provider): aws.budgets.Budget {
  const notify = (notificationType: string, threshold: number) => ({
    comparisonOperator: "GREATER_THAN",
    notificationType,
    threshold,
    thresholdType: "PERCENTAGE",
    subscriberSnsTopicArns: [topicArn],
  });
  return new aws.budgets.Budget(
    "chat-budget",
    {
      budgetType: "COST",
      limitAmount: String(config.ceiling.monthlyBudgetUsd),
      limitUnit: "USD",
      timeUnit: "MONTHLY",
      notifications: [notify("ACTUAL", 80), notify("FORECASTED", 100)],
    },
    { provider: primary },
  );
}

/**
 * The page's CSP for this stack: connect-src its own host (`'self'`: config.json and, by CSP Level 3, `wss://` to
 * the same host), Cognito's OIDC endpoints and hosted domain, and with a custom domain its WebSocket host named
 * outright (every WebSocket path, `/ws` and `/ws/<region>`, is on the page's own host). The cloudfront.net name cannot be named: the policy is part of the distribution that gets the name.
 */
function pagePolicy(config: ChatConfig, auth: ChatAuth): pulumi.Output<string> {
  const own = config.domain ? [`wss://${config.domain.name}`] : [];
  return pulumi
    .all([auth.authority, auth.hostedDomainUrl])
    .apply(([authority, hosted]) => contentSecurityPolicy({ connect: [...own, originOf(authority), originOf(hosted)] }));
}

function modelIdOf(config: ChatConfig, region: string): string {
  const id = config.modelIdByRegion[region];
  if (id === undefined) throw new Error(`no model id for region ${region}`);
  return id;
}

/**
 * The page's model label: the one id every region calls, else the model and each region's route to it
 * (`anthropic.claude-haiku-4-5… (us-east-1: us., eu-west-1: eu.)`), else each region's id.
 */
export function modelLabel(config: ChatConfig): string {
  const ids = config.regions.map((region) => modelIdOf(config, region));
  if (new Set(ids).size === 1) return ids[0]!;
  const routes = ids.map(routeOf);
  const models = new Set(routes.map((route) => route.model));
  if (models.size === 1) {
    const via = config.regions.map((region, i) => {
      const route = routes[i]!;
      return `${region}: ${route.kind === "profile" ? `${route.geography.prefix}.` : "in-region"}`;
    });
    return `${[...models][0]!} (${via.join(", ")})`;
  }
  return config.regions.map((region, i) => `${region}: ${ids[i]!}`).join(", ");
}

function providerOf(providers: Map<string, aws.Provider>, region: string): aws.Provider {
  const provider = providers.get(region);
  if (!provider) throw new Error(`no provider for region ${region}`);
  return provider;
}

/** CloudFront certificates live in us-east-1: reuse that region's provider, or add one. */
function usEast1(providers: Map<string, aws.Provider>): aws.Provider {
  return providers.get("us-east-1") ?? regionProvider("aws-us-east-1-edge", "us-east-1");
}
