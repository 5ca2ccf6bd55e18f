/**
 * One region's generation job queue (`chat:worker: ecs`): the message handler sends each turn's job here and the
 * worker service long-polls it. Encrypted at rest with SQS-managed keys (SSE-SQS: no KMS key policy or KMS rights
 * for the producer and consumer; SQS developer guide, "Encryption at rest"), a dead-letter queue after
 * `maxReceives` receives, and alarms on the dead-letter queue's depth and on the oldest job's age.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { SQS_MAX_MESSAGE_BYTES, SQS_MAX_WAIT_SECONDS } from "./worker-limits";

/** A job older than this is late enough to page someone: users are waiting for its first token. */
export const OLDEST_JOB_ALARM_SECONDS = 60;

/**
 * A job that waited this long is not worth generating (the user has long given up or resent); expired jobs are
 * dropped by SQS, and the turn ends by the stale-turn rule. The dead-letter queue keeps what failed for 14 days,
 * the maximum: its retention must exceed the source queue's, because a message keeps its original enqueue time
 * when it moves (SQS developer guide, "Using dead-letter queues").
 */
export const JOB_RETENTION_SECONDS = 3600;
export const DEAD_LETTER_RETENTION_SECONDS = 1_209_600;

/**
 * How long a received job stays invisible to other receivers. The worker service deletes a job as soon as it has
 * claimed the turn, so this only covers receive → claim; a job whose claim failed reappears after it.
 */
export const JOB_VISIBILITY_SECONDS = 30;

export interface WorkerQueueArgs {
  /** Receives before SQS moves a job to the dead-letter queue (redrive maxReceiveCount, 1-1000). */
  readonly maxReceives: number;
  /** The region's alarm topic. */
  readonly alarmTopicArn: pulumi.Input<string>;
}

export class WorkerQueue extends pulumi.ComponentResource {
  public readonly queueUrl: pulumi.Output<string>;
  public readonly queueArn: pulumi.Output<string>;
  public readonly queueName: pulumi.Output<string>;
  public readonly deadLetterQueueArn: pulumi.Output<string>;

  constructor(name: string, args: WorkerQueueArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chat:worker:WorkerQueue", name, {}, opts);
    const parent = { parent: this };
    const deadLetters = new aws.sqs.Queue(
      `${name}-dlq`,
      { sqsManagedSseEnabled: true, messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS },
      parent,
    );
    const queue = new aws.sqs.Queue(
      `${name}-queue`,
      {
        sqsManagedSseEnabled: true,
        messageRetentionSeconds: JOB_RETENTION_SECONDS,
        visibilityTimeoutSeconds: JOB_VISIBILITY_SECONDS,
        // Long polling by default, at SQS's maximum wait: fewer empty receives (SQS API reference, ReceiveMessage).
        receiveWaitTimeSeconds: SQS_MAX_WAIT_SECONDS,
        // The context travels in the job (config.ts bounds chat:contextBudgetTokens so that it fits).
        maxMessageSize: SQS_MAX_MESSAGE_BYTES,
        redrivePolicy: pulumi.jsonStringify({ deadLetterTargetArn: deadLetters.arn, maxReceiveCount: args.maxReceives }),
      },
      parent,
    );
    // Only this queue may send to the dead-letter queue.
    new aws.sqs.RedriveAllowPolicy(
      `${name}-dlq-allow`,
      { queueUrl: deadLetters.url, redriveAllowPolicy: pulumi.jsonStringify({ redrivePermission: "byQueue", sourceQueueArns: [queue.arn] }) },
      parent,
    );

    const alarm = (role: string, description: string, metricName: string, queueName: pulumi.Input<string>, threshold: number, statistic: string) =>
      new aws.cloudwatch.MetricAlarm(
        `${name}-${role}-alarm`,
        {
          alarmDescription: description,
          namespace: "AWS/SQS",
          metricName,
          dimensions: { QueueName: queueName },
          statistic,
          period: 60,
          evaluationPeriods: 1,
          threshold,
          comparisonOperator: "GreaterThanOrEqualToThreshold",
          treatMissingData: "notBreaching",
          alarmActions: [args.alarmTopicArn],
        },
        parent,
      );
    alarm("dead-letters", "Generation jobs failed every receive and sit in the dead-letter queue", "ApproximateNumberOfMessagesVisible", deadLetters.name, 1, "Maximum");
    alarm("oldest-job", `A generation job waited ${OLDEST_JOB_ALARM_SECONDS} s or more in the queue`, "ApproximateAgeOfOldestMessage", queue.name, OLDEST_JOB_ALARM_SECONDS, "Maximum");

    this.queueUrl = queue.url;
    this.queueArn = queue.arn;
    this.queueName = queue.name;
    this.deadLetterQueueArn = deadLetters.arn;
    this.registerOutputs({ queueUrl: this.queueUrl, queueArn: this.queueArn, deadLetterQueueArn: this.deadLetterQueueArn });
  }
}
