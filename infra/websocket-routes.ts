/**
 * The routes of one region's WebSocket API, their Lambda proxy integrations, the REQUEST authorizer on `$connect`,
 * the invoke permissions (each scoped to its route's source ARN), and the deployed stage with throttling and
 * access logs.
 */
import { createHash } from "node:crypto";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ORIGIN_VERIFY_HEADER } from "../runtime/auth/origin-verify";
import { CLIENT_ACTIONS, SUBPROTOCOL_HEADER, type ClientAction } from "../runtime/protocol";

/** The stage every regional API is deployed to; CloudFront rewrites viewer paths to `/<STAGE_NAME>`. */
export const STAGE_NAME = "live";

/**
 * Where the $connect authorizer's token comes from (wire protocol, Connect): the handshake's offered subprotocols,
 * `Sec-WebSocket-Protocol: chat.v1, <jwt>`. Never the query string: a token in a URL lands in logs. API Gateway
 * answers 401 without calling the authorizer when the header is missing.
 */
export const TOKEN_IDENTITY_SOURCE = `route.request.header.${SUBPROTOCOL_HEADER}`;
/**
 * The header only the stack's CloudFront distribution adds (runtime/auth/origin-verify.ts). As an identity source it
 * makes API Gateway answer 401 to a handshake without it before the authorizer Lambda runs: when an identity source
 * is missing, the authorizer is not called (API Gateway developer guide, "Control access to WebSocket APIs with
 * AWS Lambda REQUEST authorizers"; every listed source must be present).
 */
export const ORIGIN_IDENTITY_SOURCE = `route.request.header.${ORIGIN_VERIFY_HEADER}`;

/** `$request.body.action` selects the route from the JSON frame's `action` field. */
export const ROUTE_SELECTION_EXPRESSION = "$request.body.action";

/** Route key → which function serves it. The message handler serves every action route and `$default`. */
export function routeTargets(): Record<string, "connect" | "disconnect" | "message"> {
  const actions = Object.fromEntries(CLIENT_ACTIONS.map((action: ClientAction) => [action, "message" as const]));
  return { $connect: "connect", $disconnect: "disconnect", $default: "message", ...actions };
}

/**
 * Access log fields. Never the query string or the request headers: a client may put a token there. (`$context` variables for WebSocket APIs,
 * API Gateway developer guide, "WebSocket API access logging variables".)
 */
export const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: "$context.requestId",
  extendedRequestId: "$context.extendedRequestId",
  connectionId: "$context.connectionId",
  eventType: "$context.eventType",
  routeKey: "$context.routeKey",
  status: "$context.status",
  requestTime: "$context.requestTimeEpoch",
  sourceIp: "$context.identity.sourceIp",
  userAgent: "$context.identity.userAgent",
  principalId: "$context.authorizer.principalId",
  authorizerError: "$context.authorizer.error",
  integrationError: "$context.integration.error",
  integrationLatency: "$context.integrationLatency",
  error: "$context.error.message",
});

interface Target {
  /** The function's ARN (for permissions) and invoke ARN (for integrations). */
  arn: pulumi.Input<string>;
  invokeArn: pulumi.Input<string>;
}

export interface WebSocketRoutesArgs {
  /** The WebSocket API these routes belong to. */
  readonly apiId: pulumi.Input<string>;
  /** The API's execution ARN, `arn:aws:execute-api:<region>:<account>:<apiId>`. */
  readonly executionArn: pulumi.Input<string>;
  /** The functions behind the routes and the authorizer. */
  readonly functions: Readonly<Record<"authorizer" | "connect" | "disconnect" | "message", Target>>;
  /** Stage-wide route throttling (steady rate per second, burst). */
  readonly throttling: pulumi.Input<{ burstLimit: number; rateLimit: number }>;
  /** Access log retention in days. */
  readonly logRetentionDays: pulumi.Input<number>;
  /** Resources the stage must wait for (its execution-log group; the account's API Gateway CloudWatch role). */
  readonly stageDependsOn?: pulumi.Input<pulumi.Resource>[];
}

export class WebSocketRoutes extends pulumi.ComponentResource {
  public readonly stageName: pulumi.Output<string>;
  public readonly accessLogGroupName: pulumi.Output<string>;

  constructor(name: string, args: WebSocketRoutesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chat:api:WebSocketRoutes", name, {}, opts);
    const parent = { parent: this };

    const authorizer = new aws.apigatewayv2.Authorizer(
      `${name}-authorizer`,
      {
        apiId: args.apiId,
        authorizerType: "REQUEST",
        authorizerUri: args.functions.authorizer.invokeArn,
        identitySources: [TOKEN_IDENTITY_SOURCE, ORIGIN_IDENTITY_SOURCE],
      },
      parent,
    );
    new aws.lambda.Permission(
      `${name}-authorizer-invoke`,
      {
        action: "lambda:InvokeFunction",
        function: args.functions.authorizer.arn,
        principal: "apigateway.amazonaws.com",
        sourceArn: pulumi.interpolate`${args.executionArn}/authorizers/${authorizer.id}`,
      },
      parent,
    );

    const integrations = new Map<string, aws.apigatewayv2.Integration>();
    const integrationFor = (target: "connect" | "disconnect" | "message") => {
      let integration = integrations.get(target);
      if (!integration) {
        integration = new aws.apigatewayv2.Integration(
          `${name}-${target}-integration`,
          {
            apiId: args.apiId,
            integrationType: "AWS_PROXY",
            // Lambda proxy integrations are always called with POST.
            integrationMethod: "POST",
            integrationUri: args.functions[target].invokeArn,
            contentHandlingStrategy: "CONVERT_TO_TEXT",
          },
          parent,
        );
        integrations.set(target, integration);
      }
      return integration;
    };

    const routes: aws.apigatewayv2.Route[] = [];
    for (const [routeKey, target] of Object.entries(routeTargets())) {
      const integration = integrationFor(target);
      const role = routeKey.replace(/^\$/, "");
      routes.push(
        new aws.apigatewayv2.Route(
          `${name}-${role}-route`,
          {
            apiId: args.apiId,
            routeKey,
            target: pulumi.interpolate`integrations/${integration.id}`,
            ...(routeKey === "$connect" ? { authorizationType: "CUSTOM", authorizerId: authorizer.id } : { authorizationType: "NONE" }),
          },
          parent,
        ),
      );
      new aws.lambda.Permission(
        `${name}-${role}-invoke`,
        {
          action: "lambda:InvokeFunction",
          function: args.functions[target].arn,
          principal: "apigateway.amazonaws.com",
          // arn:aws:execute-api:region:account:apiId/stage/routeKey
          sourceArn: pulumi.interpolate`${args.executionArn}/${STAGE_NAME}/${routeKey}`,
        },
        parent,
      );
    }

    // WebSocket APIs have no auto-deploy: redeploy whenever a route, an integration or the authorizer changes
    // (their ids stay the same on an in-place update, so the fingerprint covers their settings too).
    const settings: pulumi.Output<unknown>[] = [
      ...routes.map((r) => pulumi.output({ id: r.id, key: r.routeKey, target: r.target, auth: r.authorizationType, authorizer: r.authorizerId })),
      ...[...integrations.values()].map((i) => pulumi.output({ id: i.id, uri: i.integrationUri, type: i.integrationType })),
      pulumi.output({ id: authorizer.id, uri: authorizer.authorizerUri, sources: authorizer.identitySources }),
    ];
    const fingerprint = pulumi
      .all(settings)
      .apply((parts) => createHash("sha256").update(JSON.stringify(parts)).digest("hex"));
    const deployment = new aws.apigatewayv2.Deployment(
      `${name}-deployment`,
      { apiId: args.apiId, description: "Streaming chat routes", triggers: { routes: fingerprint } },
      { parent: this, dependsOn: routes },
    );

    const accessLogs = new aws.cloudwatch.LogGroup(`${name}-access-logs`, { retentionInDays: args.logRetentionDays }, parent);
    const throttling = pulumi.output(args.throttling);
    const stage = new aws.apigatewayv2.Stage(
      `${name}-stage`,
      {
        apiId: args.apiId,
        name: STAGE_NAME,
        deploymentId: deployment.id,
        defaultRouteSettings: {
          throttlingBurstLimit: throttling.burstLimit,
          throttlingRateLimit: throttling.rateLimit,
          detailedMetricsEnabled: true,
          // Execution logs at ERROR only and never the message data (frames carry the user's text).
          loggingLevel: "ERROR",
          dataTraceEnabled: false,
        },
        accessLogSettings: { destinationArn: accessLogs.arn, format: ACCESS_LOG_FORMAT },
      },
      { parent: this, ...(args.stageDependsOn ? { dependsOn: args.stageDependsOn } : {}) },
    );
    this.stageName = stage.name;
    this.accessLogGroupName = accessLogs.name;
    this.registerOutputs({ stageName: this.stageName, accessLogGroupName: this.accessLogGroupName });
  }
}
