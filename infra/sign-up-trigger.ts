/**
 * The user pool's pre-sign-up trigger (runtime/handlers/pre-sign-up.ts): a function that may only write its own
 * logs, invocable only by Cognito for this user pool (resource policy with the pool's ARN as source).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ENV } from "../runtime/env";
import { LAMBDA_HANDLER } from "./bundle";
import { LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME } from "./chat-function";
import { assumeRolePolicy } from "./permissions";

export interface SignUpTriggerArgs {
  /** The bundled `pre-sign-up` entry point. */
  readonly code: pulumi.Input<pulumi.asset.Archive>;
  /** E-mail domains allowed to sign up by themselves (non-empty). */
  readonly domains: readonly string[];
  readonly logRetentionDays: pulumi.Input<number>;
}

export class SignUpTrigger extends pulumi.ComponentResource {
  public readonly function: aws.lambda.Function;

  constructor(
    private readonly name: string,
    args: SignUpTriggerArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("chat:auth:SignUpTrigger", name, {}, opts);
    const parent = { parent: this };
    const logs = new aws.cloudwatch.LogGroup(`${name}-logs`, { retentionInDays: args.logRetentionDays }, parent);
    const role = new aws.iam.Role(`${name}-role`, { assumeRolePolicy: assumeRolePolicy("lambda.amazonaws.com") }, parent);
    const policy = new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: role.id,
        policy: logs.arn.apply((arn) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Sid: "WriteOwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`${arn}:*`] }],
          }),
        ),
      },
      parent,
    );
    this.function = new aws.lambda.Function(
      `${name}-fn`,
      {
        description: "Streaming chat: pre-sign-up trigger (allowed e-mail domains)",
        runtime: LAMBDA_RUNTIME,
        architectures: [LAMBDA_ARCHITECTURE],
        handler: LAMBDA_HANDLER,
        code: args.code,
        role: role.arn,
        // Cognito waits 5 s for a trigger (Cognito developer guide, "Customizing user pool workflows with Lambda triggers").
        timeout: 5,
        memorySize: 128,
        environment: { variables: { [ENV.signUpEmailDomains]: args.domains.join(",") } },
        loggingConfig: { logFormat: "JSON", logGroup: logs.name },
      },
      { parent: this, dependsOn: [policy] },
    );
    this.registerOutputs({ functionArn: this.function.arn });
  }

  /** Lets Cognito invoke the trigger for this user pool only. */
  allowInvokeFrom(userPoolArn: pulumi.Input<string>): aws.lambda.Permission {
    return new aws.lambda.Permission(
      `${this.name}-invoke`,
      { action: "lambda:InvokeFunction", function: this.function.name, principal: "cognito-idp.amazonaws.com", sourceArn: userPoolArn },
      { parent: this },
    );
  }
}
