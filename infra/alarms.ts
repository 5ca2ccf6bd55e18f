/**
 * CloudWatch alarms for one region: function errors and throttles of the two functions on the chat path, the
 * WebSocket API's integration and execution errors, and the Bedrock tokens the region's model consumes in an hour
 * (AWS/Bedrock `InputTokenCount` / `OutputTokenCount` by `ModelId`; Bedrock user guide, "Monitor bedrock-runtime
 * inference using CloudWatch metrics"). Every alarm notifies the region's alarm topic (alarm-topic.ts).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface AlarmTargets {
  apiId: pulumi.Input<string>;
  stageName: pulumi.Input<string>;
  /** The worker function's is absent with `chat:worker: ecs` (worker-queue.ts alarms on the queue instead). */
  functionNames: { message: pulumi.Input<string>; worker?: pulumi.Input<string> };
  /** The model id the region's worker calls (the metrics' ModelId dimension). */
  modelId: string;
  /** Tokens an hour (input, and output, each) that fire the token alarms. */
  hourlyTokenAlarm: number;
  /** The topic every alarm notifies. */
  topicArn: pulumi.Input<string>;
}

export function createAlarms(name: string, targets: AlarmTargets, parent: pulumi.Resource): aws.cloudwatch.MetricAlarm[] {
  const alarm = (
    role: string,
    description: string,
    namespace: string,
    metricName: string,
    dimensions: Record<string, pulumi.Input<string>>,
    limit: { period: number; threshold: number } = { period: 300, threshold: 1 },
  ) =>
    new aws.cloudwatch.MetricAlarm(
      `${name}-${role}-alarm`,
      {
        alarmDescription: description,
        namespace,
        metricName,
        dimensions,
        statistic: "Sum",
        period: limit.period,
        evaluationPeriods: 1,
        threshold: limit.threshold,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        treatMissingData: "notBreaching",
        alarmActions: [targets.topicArn],
      },
      { parent },
    );
  const alarms: aws.cloudwatch.MetricAlarm[] = [];
  for (const [fn, functionName] of Object.entries(targets.functionNames)) {
    if (functionName === undefined) continue;
    alarms.push(alarm(`${fn}-errors`, `The ${fn} function failed`, "AWS/Lambda", "Errors", { FunctionName: functionName }));
    alarms.push(alarm(`${fn}-throttles`, `The ${fn} function was throttled`, "AWS/Lambda", "Throttles", { FunctionName: functionName }));
  }
  const api = { ApiId: targets.apiId, Stage: targets.stageName };
  alarms.push(alarm("api-integration-errors", "WebSocket API integration errors", "AWS/ApiGateway", "IntegrationError", api));
  alarms.push(alarm("api-execution-errors", "WebSocket API execution errors", "AWS/ApiGateway", "ExecutionError", api));
  const hourly = { period: 3600, threshold: targets.hourlyTokenAlarm };
  const model = { ModelId: targets.modelId };
  alarms.push(alarm("model-input-tokens", `More than ${targets.hourlyTokenAlarm} input tokens in an hour`, "AWS/Bedrock", "InputTokenCount", model, hourly));
  alarms.push(alarm("model-output-tokens", `More than ${targets.hourlyTokenAlarm} output tokens in an hour`, "AWS/Bedrock", "OutputTokenCount", model, hourly));
  return alarms;
}
