/**
 * CloudWatch alarms for one region: function errors and throttles of the two functions on the chat path, and
 * the WebSocket API's integration and execution errors. They carry no actions: wire them to a topic or a pager
 * (or a Route 53 health check, see docs/edge.md) as the deployment needs.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface AlarmTargets {
  apiId: pulumi.Input<string>;
  stageName: pulumi.Input<string>;
  functionNames: Record<"message" | "worker", pulumi.Input<string>>;
}

export function createAlarms(name: string, targets: AlarmTargets, parent: pulumi.Resource): aws.cloudwatch.MetricAlarm[] {
  const alarm = (role: string, description: string, namespace: string, metricName: string, dimensions: Record<string, pulumi.Input<string>>) =>
    new aws.cloudwatch.MetricAlarm(
      `${name}-${role}-alarm`,
      {
        alarmDescription: description,
        namespace,
        metricName,
        dimensions,
        statistic: "Sum",
        period: 300,
        evaluationPeriods: 1,
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        treatMissingData: "notBreaching",
      },
      { parent },
    );
  const alarms: aws.cloudwatch.MetricAlarm[] = [];
  for (const [fn, functionName] of Object.entries(targets.functionNames)) {
    alarms.push(alarm(`${fn}-errors`, `The ${fn} function failed`, "AWS/Lambda", "Errors", { FunctionName: functionName }));
    alarms.push(alarm(`${fn}-throttles`, `The ${fn} function was throttled`, "AWS/Lambda", "Throttles", { FunctionName: functionName }));
  }
  const api = { ApiId: targets.apiId, Stage: targets.stageName };
  alarms.push(alarm("api-integration-errors", "WebSocket API integration errors", "AWS/ApiGateway", "IntegrationError", api));
  alarms.push(alarm("api-execution-errors", "WebSocket API execution errors", "AWS/ApiGateway", "ExecutionError", api));
  return alarms;
}
