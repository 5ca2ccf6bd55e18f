/**
 * One of the chat's Lambda functions: its own role with an inline least-privilege policy (permissions.ts), its
 * own log group with retention, and the function itself (Node.js 22 on arm64, JSON logs).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { HandlerName } from "../runtime/env";
import { LAMBDA_HANDLER } from "./bundle";
import type { LogLevel, SystemLogLevel } from "./config";
import { assumeRolePolicy, handlerPolicy, type PolicyTargets, type WorkerHandoff } from "./permissions";

/** Asserted by the tests as strings: `tsc` cannot catch a wrong runtime name. */
export const LAMBDA_RUNTIME = "nodejs22.x";
export const LAMBDA_ARCHITECTURE = "arm64";

export interface ChatFunctionArgs {
  /** Which entry point of runtime/handlers this function runs. */
  readonly handler: HandlerName;
  /** The bundled code (bundle.ts). */
  readonly code: pulumi.Input<pulumi.asset.Archive>;
  /** Environment variables (names from runtime/env.ts). */
  readonly environment: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Seconds before Lambda stops the invocation. */
  readonly timeoutSeconds: pulumi.Input<number>;
  /** Memory (and with it CPU) in MB. */
  readonly memoryMb: pulumi.Input<number>;
  /** The resources the handler's policy names (its log group is added here). */
  readonly policyTargets: pulumi.Input<Omit<PolicyTargets, "logGroupArn">>;
  /** Log retention in days. */
  readonly logRetentionDays: pulumi.Input<number>;
  /** Lambda's application and system log levels (advanced logging controls). */
  readonly logLevels: { readonly application: LogLevel; readonly system: SystemLogLevel };
  /** A fixed function name, for a function whose name others must know before it exists (the worker). */
  readonly functionName?: pulumi.Input<string>;
  /** Reserved concurrency: both a guarantee and a ceiling of simultaneous invocations. */
  readonly reservedConcurrency?: number;
  /** Where the message handler hands turns to (`lambda` by default; `ecs`: the worker queue). */
  readonly workerHandoff?: WorkerHandoff;
}

export class ChatFunction extends pulumi.ComponentResource {
  public readonly function: aws.lambda.Function;
  public readonly roleArn: pulumi.Output<string>;
  public readonly logGroupName: pulumi.Output<string>;
  /** The rendered inline policy (JSON), for tests and reviews. */
  public readonly policy: pulumi.Output<string>;

  constructor(name: string, args: ChatFunctionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chat:function:ChatFunction", name, {}, opts);
    const logs = new aws.cloudwatch.LogGroup(`${name}-logs`, { retentionInDays: args.logRetentionDays }, { parent: this });
    const role = new aws.iam.Role(`${name}-role`, { assumeRolePolicy: assumeRolePolicy("lambda.amazonaws.com") }, { parent: this });
    this.policy = pulumi
      .all([pulumi.output(args.policyTargets), logs.arn])
      .apply(([targets, logGroupArn]) => JSON.stringify(handlerPolicy(args.handler, { ...targets, logGroupArn }, args.workerHandoff)));
    const policy = new aws.iam.RolePolicy(`${name}-policy`, { role: role.id, policy: this.policy }, { parent: this });

    this.function = new aws.lambda.Function(
      `${name}-fn`,
      {
        ...(args.functionName !== undefined ? { name: args.functionName } : {}),
        description: `Streaming chat: ${args.handler} handler`,
        runtime: LAMBDA_RUNTIME,
        architectures: [LAMBDA_ARCHITECTURE],
        handler: LAMBDA_HANDLER,
        code: args.code,
        role: role.arn,
        timeout: args.timeoutSeconds,
        memorySize: args.memoryMb,
        ...(args.reservedConcurrency !== undefined ? { reservedConcurrentExecutions: args.reservedConcurrency } : {}),
        environment: { variables: args.environment },
        // With the JSON format Lambda filters application logs at applicationLogLevel (INFO when unset) and sets
        // AWS_LAMBDA_LOG_LEVEL to it, which the Powertools logger follows over its own setting; the levels are
        // accepted only with the JSON format (Lambda developer guide, "Configuring advanced logging controls").
        loggingConfig: {
          logFormat: "JSON",
          logGroup: logs.name,
          applicationLogLevel: args.logLevels.application,
          systemLogLevel: args.logLevels.system,
        },
      },
      // The policy must be in place before the first invocation can need it.
      { parent: this, dependsOn: [policy] },
    );
    this.roleArn = role.arn;
    this.logGroupName = logs.name;
    this.registerOutputs({ functionArn: this.function.arn, roleArn: this.roleArn, logGroupName: this.logGroupName });
  }
}
