/**
 * Where one region's alarms go: an SNS topic encrypted with a customer-managed KMS key, and optionally an e-mail
 * subscription. CloudWatch alarms (and AWS Budgets) can publish to an encrypted topic only when the key's policy
 * lets their service principal use it, which the AWS-managed `alias/aws/sns` key does not allow (SNS developer
 * guide, "Configure AWS KMS permissions for AWS services"); hence a key of our own.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface AlarmTopicArgs {
  /** Subscribed by e-mail when set (the address must confirm). */
  readonly email?: string;
  /** Services besides CloudWatch that publish here (`budgets.amazonaws.com` in the primary region). */
  readonly publishers?: readonly string[];
}

export class AlarmTopic extends pulumi.ComponentResource {
  public readonly topicArn: pulumi.Output<string>;

  constructor(name: string, args: AlarmTopicArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chat:alarms:AlarmTopic", name, {}, opts);
    const parent = { parent: this };
    const account = aws.getCallerIdentityOutput({}, parent).accountId;
    const partition = aws.getPartitionOutput({}, parent).partition;
    const services = ["cloudwatch.amazonaws.com", ...(args.publishers ?? [])];

    const key = new aws.kms.Key(
      `${name}-key`,
      {
        description: "Streaming chat: alarm topic encryption",
        enableKeyRotation: true,
        deletionWindowInDays: 7,
        policy: pulumi.all([account, partition]).apply(([id, p]) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              // The account administers the key through IAM (KMS developer guide, "Default key policy").
              { Sid: "AccountAdministers", Effect: "Allow", Principal: { AWS: `arn:${p}:iam::${id}:root` }, Action: "kms:*", Resource: "*" },
              {
                Sid: "AlarmServicesEncrypt",
                Effect: "Allow",
                Principal: { Service: services },
                Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
                Resource: "*",
                Condition: { StringEquals: { "aws:SourceAccount": id } },
              },
            ],
          }),
        ),
      },
      parent,
    );
    const topic = new aws.sns.Topic(`${name}-topic`, { kmsMasterKeyId: key.arn }, parent);
    new aws.sns.TopicPolicy(
      `${name}-topic-policy`,
      {
        arn: topic.arn,
        policy: pulumi.all([topic.arn, account]).apply(([arn, id]) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "AlarmServicesPublish",
                Effect: "Allow",
                Principal: { Service: services },
                Action: "sns:Publish",
                Resource: arn,
                Condition: { StringEquals: { "aws:SourceAccount": id } },
              },
            ],
          }),
        ),
      },
      parent,
    );
    if (args.email !== undefined) {
      new aws.sns.TopicSubscription(`${name}-email`, { topic: topic.arn, protocol: "email", endpoint: args.email }, parent);
    }
    this.topicArn = topic.arn;
    this.registerOutputs({ topicArn: this.topicArn });
  }
}
