/**
 * What the mocked AWS provider answers for each resource type: the inputs plus the computed attributes the program
 * reads (ids, ARNs, endpoints), shaped like the real ones so that ARNs built from them can be asserted. Shared by
 * the tests (test/infra/harness.ts) and the offline plan (`npm run plan`).
 */
import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";

export const MOCK_ACCOUNT = "123456789012";

type State = Record<string, unknown>;

/** A short, stable, lower-case id derived from a resource's name (API ids are 10 such characters). */
export function mockId(name: string, length = 10): string {
  return createHash("sha1").update(name).digest("hex").slice(0, length);
}

/** The id and state the mocked provider returns for a new resource in `region`. */
export function mockResource(args: pulumi.runtime.MockResourceArgs, region: string): { id: string; state: State } {
  const inputs = args.inputs as State;
  const name = typeof inputs.name === "string" ? inputs.name : `${args.name}-${mockId(args.name, 7)}`;
  const arn = (service: string, resource: string, inRegion = region) =>
    `arn:aws:${service}:${inRegion}:${MOCK_ACCOUNT}:${resource}`;
  const base = { ...inputs };
  switch (args.type) {
    case "pulumi:providers:aws":
      return { id: `provider-${args.name}`, state: base };
    case "aws:apigatewayv2/api:Api": {
      const id = mockId(args.name);
      return {
        id,
        state: {
          ...base,
          arn: `arn:aws:apigateway:${region}::/apis/${id}`,
          apiEndpoint: `wss://${id}.execute-api.${region}.amazonaws.com`,
          executionArn: arn("execute-api", id),
        },
      };
    }
    case "aws:apigatewayv2/stage:Stage":
      return {
        id: String(inputs.name),
        state: {
          ...base,
          invokeUrl: `wss://${String(inputs.apiId)}.execute-api.${region}.amazonaws.com/${String(inputs.name)}`,
          executionArn: arn("execute-api", `${String(inputs.apiId)}/${String(inputs.name)}`),
        },
      };
    case "aws:lambda/function:Function": {
      const functionArn = arn("lambda", `function:${name}`);
      return {
        id: name,
        state: {
          ...base,
          name,
          arn: functionArn,
          qualifiedArn: `${functionArn}:$LATEST`,
          invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${functionArn}/invocations`,
        },
      };
    }
    case "aws:iam/role:Role":
      return { id: name, state: { ...base, name, arn: `arn:aws:iam::${MOCK_ACCOUNT}:role/${name}` } };
    case "aws:dynamodb/table:Table": {
      const tableArn = arn("dynamodb", `table/${name}`);
      return {
        id: name,
        state: { ...base, name, arn: tableArn, streamArn: `${tableArn}/stream/2026-01-01T00:00:00.000` },
      };
    }
    case "aws:cognito/userPool:UserPool": {
      const id = `${region}_${mockId(args.name, 9)}`;
      return { id, state: { ...base, arn: arn("cognito-idp", `userpool/${id}`), endpoint: `cognito-idp.${region}.amazonaws.com/${id}` } };
    }
    case "aws:cloudfront/distribution:Distribution": {
      const id = `E${mockId(args.name, 13).toUpperCase()}`;
      return {
        id,
        state: {
          ...base,
          arn: `arn:aws:cloudfront::${MOCK_ACCOUNT}:distribution/${id}`,
          domainName: `d${mockId(args.name, 13)}.cloudfront.net`,
          hostedZoneId: "Z2FDTNDATAQYW2",
        },
      };
    }
    case "aws:cloudfront/function:Function":
      return { id: name, state: { ...base, arn: `arn:aws:cloudfront::${MOCK_ACCOUNT}:function/${name}` } };
    case "aws:s3/bucket:Bucket": {
      const bucket = typeof inputs.bucket === "string" ? inputs.bucket : name;
      return {
        id: bucket,
        state: { ...base, bucket, arn: `arn:aws:s3:::${bucket}`, bucketRegionalDomainName: `${bucket}.s3.${region}.amazonaws.com` },
      };
    }
    case "aws:bedrock/guardrail:Guardrail": {
      const guardrailId = mockId(args.name, 12);
      return {
        id: `${guardrailId},DRAFT`,
        state: { ...base, guardrailId, guardrailArn: arn("bedrock", `guardrail/${guardrailId}`), version: "DRAFT" },
      };
    }
    case "aws:bedrock/guardrailVersion:GuardrailVersion":
      return { id: `${String(inputs.guardrailArn)},1`, state: { ...base, version: "1" } };
    case "aws:cloudwatch/logGroup:LogGroup":
      return { id: name, state: { ...base, name, arn: arn("logs", `log-group:${name}`) } };
    case "aws:acm/certificate:Certificate":
      return {
        id: mockId(args.name, 36),
        state: {
          ...base,
          arn: arn("acm", `certificate/${mockId(args.name, 36)}`, "us-east-1"),
          domainValidationOptions: [
            { domainName: inputs.domainName, resourceRecordName: `_x.${String(inputs.domainName)}.`, resourceRecordType: "CNAME", resourceRecordValue: "_y.acm-validations.aws." },
          ],
        },
      };
    case "aws:apigatewayv2/domainName:DomainName":
      return {
        id: String(inputs.domainName),
        state: {
          ...base,
          domainNameConfiguration: {
            ...(inputs.domainNameConfiguration as State),
            targetDomainName: `d-${mockId(args.name)}.execute-api.${region}.amazonaws.com`,
            hostedZoneId: `Z${mockId(`${region}-zone`, 12).toUpperCase()}`,
          },
        },
      };
    case "random:index/randomPassword:RandomPassword": {
      // Stable per resource and generation (keepers), so a test can see which slot a rotation regenerated.
      const keepers = JSON.stringify(inputs.keepers ?? {});
      const result = createHash("sha256").update(`${args.name}|${keepers}`).digest("hex").slice(0, Number(inputs.length ?? 16));
      return { id: `${args.name}-id`, state: { ...base, result } };
    }
    case "aws:sqs/queue:Queue": {
      // A queue's id is its URL (SQS API reference, CreateQueue).
      const url = `https://sqs.${region}.amazonaws.com/${MOCK_ACCOUNT}/${name}`;
      return { id: url, state: { ...base, name, url, arn: arn("sqs", name) } };
    }
    case "aws:ecs/cluster:Cluster":
      return { id: arn("ecs", `cluster/${name}`), state: { ...base, name, arn: arn("ecs", `cluster/${name}`) } };
    case "aws:ecs/taskDefinition:TaskDefinition": {
      const family = String(inputs.family);
      return { id: family, state: { ...base, arn: arn("ecs", `task-definition/${family}:1`), revision: 1 } };
    }
    default:
      return { id: `${args.name}-id`, state: { name, ...base, arn: arn("mock", `${args.type}/${name}`) } };
  }
}

/** Provider functions the program may call; anything else is an error the harness reports. */
export function mockCall(args: pulumi.runtime.MockCallArgs, region: string | undefined): Record<string, unknown> | undefined {
  switch (args.token) {
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return { accountId: MOCK_ACCOUNT, arn: `arn:aws:iam::${MOCK_ACCOUNT}:user/test`, userId: "AIDAMOCK", id: MOCK_ACCOUNT };
    case "aws:index/getPartition:getPartition":
      return { partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws", id: "aws" };
    case "aws:index/getRegion:getRegion":
      return region ? { name: region, region, id: region, endpoint: `ec2.${region}.amazonaws.com`, description: region } : undefined;
    case "aws:index/getAvailabilityZones:getAvailabilityZones": {
      if (!region) return undefined;
      // Three zones, a → az1, b → az2, c → az3, with zone IDs as AWS writes them (usw1-az1); the exclusions the
      // program asks for are applied, as the provider does.
      const excluded = new Set([...((args.inputs.excludeZoneIds as string[] | undefined) ?? []), ...((args.inputs.excludeNames as string[] | undefined) ?? [])]);
      const zones = [1, 2, 3].map((n) => ({ name: `${region}${"abc"[n - 1]}`, zoneId: `${zoneIdPrefix(region)}-az${n}` })).filter((z) => !excluded.has(z.name) && !excluded.has(z.zoneId));
      return { id: region, names: zones.map((z) => z.name), zoneIds: zones.map((z) => z.zoneId), groupNames: [region] };
    }
    default:
      return undefined;
  }
}

const DIRECTIONS: Record<string, string> = { north: "n", south: "s", east: "e", west: "w", central: "c", northeast: "ne", southeast: "se", northwest: "nw", southwest: "sw" };

/** The prefix of a region's zone IDs: us-west-1 → usw1, ap-northeast-1 → apne1. */
export function zoneIdPrefix(region: string): string {
  const [area, direction, number] = region.split("-");
  return `${area}${DIRECTIONS[direction ?? ""] ?? direction}${number}`;
}
