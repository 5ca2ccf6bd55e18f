/** Small readers over a recorded stack, so the topology tests say what they check and not how to find it. */
import type { RecordedResource } from "./harness";

export const TYPES = {
  provider: "pulumi:providers:aws",
  api: "aws:apigatewayv2/api:Api",
  route: "aws:apigatewayv2/route:Route",
  integration: "aws:apigatewayv2/integration:Integration",
  authorizer: "aws:apigatewayv2/authorizer:Authorizer",
  stage: "aws:apigatewayv2/stage:Stage",
  deployment: "aws:apigatewayv2/deployment:Deployment",
  function: "aws:lambda/function:Function",
  permission: "aws:lambda/permission:Permission",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  role: "aws:iam/role:Role",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  table: "aws:dynamodb/table:Table",
  guardrail: "aws:bedrock/guardrail:Guardrail",
  guardrailVersion: "aws:bedrock/guardrailVersion:GuardrailVersion",
  userPool: "aws:cognito/userPool:UserPool",
  userPoolClient: "aws:cognito/userPoolClient:UserPoolClient",
  userPoolDomain: "aws:cognito/userPoolDomain:UserPoolDomain",
  bucket: "aws:s3/bucket:Bucket",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  publicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  bucketObject: "aws:s3/bucketObjectv2:BucketObjectv2",
  distribution: "aws:cloudfront/distribution:Distribution",
  cloudfrontFunction: "aws:cloudfront/function:Function",
  certificate: "aws:acm/certificate:Certificate",
  record: "aws:route53/record:Record",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
} as const;

export class Stack {
  constructor(readonly resources: RecordedResource[]) {}

  ofType(type: string): RecordedResource[] {
    return this.resources.filter((r) => r.type === type);
  }

  one(type: string, name: string): RecordedResource {
    const found = this.resources.filter((r) => r.type === type && r.name === name);
    if (found.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
    return found[0]!;
  }

  /** The region of the provider a custom resource was created with (undefined: the default provider). */
  regionOf(resource: RecordedResource): string | undefined {
    if (!resource.provider) return undefined;
    const id = resource.provider.split("::").pop();
    const provider = this.ofType(TYPES.provider).find((p) => p.id === id);
    return provider ? String(provider.inputs.region) : undefined;
  }

  /** Custom resources of a type created on a region's provider. */
  inRegion(type: string, region: string): RecordedResource[] {
    return this.ofType(type).filter((r) => this.regionOf(r) === region);
  }

  /** The function of a handler in a region (names are `chat-<region>-<handler>-fn`). */
  fn(region: string, handler: string): RecordedResource {
    return this.one(TYPES.function, `chat-${region}-${handler}-fn`);
  }

  /** Custom (non-component) resources: what the provider creates. */
  custom(): RecordedResource[] {
    return this.resources.filter((r) => !r.type.startsWith("chat:"));
  }
}
