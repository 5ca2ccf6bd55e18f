/**
 * Every policy rule over every resource the program creates, for a one-region and a three-region stack: all pass.
 * Then a bad variant of each, derived from the real recorded resource by changing the one property the rule
 * guards: each fails with a message. (Cases the program cannot produce are in policy-rules.test.ts.)
 *
 * Resource rules see a resource's inputs (what CrossGuard's resource validation gets); stack rules see inputs
 * merged with the mocked provider's outputs (what CrossGuard's stack validation gets: ids, ARNs, names).
 */
import { expect } from "chai";
import { resourceRules, stackRules, TYPES as T, WORKER_RULE_NAMES, type ResourceView, type StackResourceView } from "../../infra/policy/rules";
import { buildStack, regionOfProvider, type RecordedResource } from "./harness";

type Props = Record<string, unknown>;

const resourceView = (r: RecordedResource): ResourceView => ({ type: r.type, name: r.name, props: r.inputs });
const stackView = (r: RecordedResource): StackResourceView => ({
  type: r.type,
  name: r.name,
  id: r.id,
  props: { ...r.inputs, ...r.state },
  ...(regionOfProvider(r.provider) !== undefined ? { region: regionOfProvider(r.provider) } : {}),
});

/** A deep copy that a bad variant may change without touching the recorded stack. */
const copy = <V>(value: V): V => structuredClone(value);

function ruleNamed(name: string) {
  const rule = resourceRules.find((r) => r.name === name);
  if (!rule) throw new Error(`no resource rule ${name}`);
  return rule;
}

function stackRuleNamed(name: string) {
  const rule = stackRules.find((r) => r.name === name);
  if (!rule) throw new Error(`no stack rule ${name}`);
  return rule;
}

/** Rewrites every statement of a policy document held as a JSON string (as the program renders it). */
function editStatements(policy: unknown, edit: (statement: Props) => void): string {
  const document = (typeof policy === "string" ? JSON.parse(policy) : copy(policy)) as { Statement: Props[] };
  for (const statement of [document.Statement].flat()) edit(statement);
  return JSON.stringify(document);
}

interface BadVariant {
  /** The rule that must catch it. */
  rule: string;
  what: string;
  type: string;
  /** Which recorded resource to start from (default: the first of `type`). */
  pick?: (r: RecordedResource) => boolean;
  /** Changes the copy's props into the bad variant. */
  spoil: (props: Props) => void;
  expected: RegExp;
}

const isWorkerPolicy = (r: RecordedResource) => String(r.inputs.policy).includes("bedrock:InvokeModelWithResponseStream");

const BAD_VARIANTS: BadVariant[] = [
  {
    rule: "iam-least-privilege",
    what: "a service wildcard action",
    type: T.rolePolicy,
    pick: isWorkerPolicy,
    spoil: (p) => (p.policy = editStatements(p.policy, (s) => (s.Action = ["dynamodb:*"]))),
    expected: /wildcard action dynamodb:\*/,
  },
  {
    rule: "iam-least-privilege",
    what: "Action *",
    type: T.rolePolicy,
    spoil: (p) => (p.policy = editStatements(p.policy, (s) => (s.Action = "*"))),
    expected: /wildcard action \*/,
  },
  {
    rule: "iam-least-privilege",
    what: "Resource * on the model statement",
    type: T.rolePolicy,
    pick: isWorkerPolicy,
    spoil: (p) => (p.policy = editStatements(p.policy, (s) => (s.Resource = "*"))),
    expected: /grants bedrock:InvokeModelWithResponseStream on unscoped resource \*/,
  },
  {
    rule: "iam-least-privilege",
    what: "a trust policy for any action",
    type: T.role,
    spoil: (p) => (p.assumeRolePolicy = editStatements(p.assumeRolePolicy, (s) => (s.Action = "sts:*"))),
    expected: /assumeRolePolicy: .*wildcard action sts:\*/,
  },
  {
    rule: "iam-least-privilege",
    what: "an AWS managed full-access policy",
    type: T.rolePolicyAttachment,
    spoil: (p) => (p.policyArn = "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"),
    expected: /attaches the AWS managed policy arn:aws:iam::aws:policy\/AmazonDynamoDBFullAccess/,
  },
  {
    rule: "cloudfront-https-tls12",
    what: "viewer protocol allow-all on the default behavior",
    type: T.distribution,
    spoil: (p) => ((p.defaultCacheBehavior as Props).viewerProtocolPolicy = "allow-all"),
    expected: /defaultCacheBehavior viewerProtocolPolicy is allow-all/,
  },
  {
    rule: "cloudfront-https-tls12",
    what: "viewer protocol allow-all on every ordered behavior (the WebSocket path)",
    type: T.distribution,
    spoil: (p) => {
      const behaviors = p.orderedCacheBehaviors as Props[] | undefined;
      if (!behaviors?.length) throw new Error("the distribution has no ordered cache behaviors to spoil");
      for (const behavior of behaviors) behavior.viewerProtocolPolicy = "allow-all";
    },
    expected: /orderedCacheBehaviors\[0\].* viewerProtocolPolicy is allow-all/,
  },
  {
    rule: "cloudfront-https-tls12",
    what: "a custom certificate with TLS 1.0",
    type: T.distribution,
    spoil: (p) =>
      (p.viewerCertificate = {
        acmCertificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/0d0e8f34-0000-4000-8000-000000000000",
        sslSupportMethod: "sni-only",
        minimumProtocolVersion: "TLSv1",
      }),
    expected: /minimumProtocolVersion TLSv1 is below TLSv1.2/,
  },
  {
    rule: "s3-public-access-blocked",
    what: "a public access block that lets bucket policies be public",
    type: T.bucketPublicAccessBlock,
    spoil: (p) => (p.blockPublicPolicy = false),
    expected: /blockPublicPolicy is not true/,
  },
  {
    rule: "s3-no-public-acl",
    what: "a public-read canned ACL",
    type: T.bucket,
    spoil: (p) => (p.acl = "public-read"),
    expected: /acl public-read makes the bucket public/,
  },
  {
    rule: "s3-bucket-policy-not-public",
    what: "a bucket policy for Principal *",
    type: T.bucketPolicy,
    spoil: (p) => (p.policy = editStatements(p.policy, (s) => ((s.Principal = "*"), delete s.Condition))),
    expected: /allows Principal \*/,
  },
  {
    rule: "s3-bucket-policy-not-public",
    what: "the CloudFront grant without its SourceArn condition",
    type: T.bucketPolicy,
    spoil: (p) => (p.policy = editStatements(p.policy, (s) => delete s.Condition)),
    expected: /service principal without an aws:SourceArn/,
  },
  {
    rule: "dynamodb-encrypted-kms",
    what: "server-side encryption off",
    type: T.table,
    spoil: (p) => (p.serverSideEncryption = { enabled: false }),
    expected: /serverSideEncryption.enabled is not true/,
  },
  {
    rule: "dynamodb-point-in-time-recovery",
    what: "PITR off",
    type: T.table,
    spoil: (p) => (p.pointInTimeRecovery = { enabled: false }),
    expected: /pointInTimeRecovery.enabled is not true/,
  },
  {
    rule: "log-group-retention",
    what: "no retention",
    type: T.logGroup,
    spoil: (p) => delete p.retentionInDays,
    expected: /retentionInDays is undefined/,
  },
  {
    rule: "log-group-retention",
    what: "retention 0 (never expire)",
    type: T.logGroup,
    spoil: (p) => (p.retentionInDays = 0),
    expected: /retentionInDays is 0/,
  },
  {
    rule: "lambda-runtime-nodejs22",
    what: "nodejs20.x",
    type: T.lambdaFunction,
    spoil: (p) => (p.runtime = "nodejs20.x"),
    expected: /runtime is nodejs20.x, expected nodejs22.x/,
  },
  {
    rule: "lambda-runtime-nodejs22",
    what: "x86_64",
    type: T.lambdaFunction,
    spoil: (p) => (p.architectures = ["x86_64"]),
    expected: /architectures is \["x86_64"\]/,
  },
  {
    rule: "apigateway-stage-logs-and-throttling",
    what: "data tracing on (logs every frame)",
    type: T.stage,
    spoil: (p) => ((p.defaultRouteSettings as Props).dataTraceEnabled = true),
    expected: /dataTraceEnabled/,
  },
  {
    rule: "apigateway-stage-logs-and-throttling",
    what: "an access log format with the query string (the token)",
    type: T.stage,
    spoil: (p) => ((p.accessLogSettings as Props).format = '{"qs":"$request.querystring.token"}'),
    expected: /may carry the token/,
  },
  {
    rule: "apigateway-stage-logs-and-throttling",
    what: "no throttling",
    type: T.stage,
    spoil: (p) => (p.defaultRouteSettings = { loggingLevel: "ERROR" }),
    expected: /no throttlingRateLimit/,
  },
  {
    rule: "lambda-permission-source-arn",
    what: "an API Gateway permission without a source ARN",
    type: T.lambdaPermission,
    spoil: (p) => delete p.sourceArn,
    expected: /has no sourceArn/,
  },
  {
    rule: "cognito-client-code-flow",
    what: "the implicit grant",
    type: T.userPoolClient,
    spoil: (p) => (p.allowedOauthFlows = ["code", "implicit"]),
    expected: /implicit/,
  },
  {
    rule: "cognito-client-code-flow",
    what: "the plain-password auth flow",
    type: T.userPoolClient,
    spoil: (p) => (p.explicitAuthFlows = ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH"]),
    expected: /explicitAuthFlows allows ALLOW_USER_PASSWORD_AUTH/,
  },
  {
    rule: "sns-topic-encrypted",
    what: "an alarm topic without its KMS key",
    type: T.snsTopic,
    spoil: (p) => delete p.kmsMasterKeyId,
    expected: /kmsMasterKeyId is not set/,
  },
  {
    rule: "cloudfront-strict-csp",
    what: "inline styles allowed",
    type: T.responseHeadersPolicy,
    spoil: (p) => {
      const csp = (p.securityHeadersConfig as { contentSecurityPolicy: { contentSecurityPolicy: string } }).contentSecurityPolicy;
      csp.contentSecurityPolicy = csp.contentSecurityPolicy.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'");
    },
    expected: /allows 'unsafe-inline'/,
  },
  {
    rule: "cloudfront-strict-csp",
    what: "framing allowed",
    type: T.responseHeadersPolicy,
    spoil: (p) => {
      const csp = (p.securityHeadersConfig as { contentSecurityPolicy: { contentSecurityPolicy: string } }).contentSecurityPolicy;
      csp.contentSecurityPolicy = csp.contentSecurityPolicy.replace("frame-ancestors 'none'", "frame-ancestors *");
    },
    expected: /lacks frame-ancestors 'none'/,
  },
  {
    rule: "cloudfront-strict-csp",
    what: "no CSP at all",
    type: T.responseHeadersPolicy,
    spoil: (p) => delete (p.securityHeadersConfig as Props).contentSecurityPolicy,
    expected: /contentSecurityPolicy is not set/,
  },
  {
    rule: "cloudfront-origin-secret",
    what: "a WebSocket origin without the origin secret",
    type: T.distribution,
    spoil: (p) => {
      for (const origin of p.origins as Props[]) delete origin.customHeaders;
    },
    expected: /origin ws-[a-z0-9-]+ does not add the X-Origin-Verify header/,
  },
  {
    rule: "apigateway-connect-requires-edge",
    what: "an authorizer that does not require CloudFront's header",
    type: T.authorizer,
    spoil: (p) => (p.identitySources = ["route.request.header.Sec-WebSocket-Protocol"]),
    expected: /lack route\.request\.header\.X-Origin-Verify/,
  },
  {
    rule: "service-trust-scoped",
    what: "a role API Gateway may assume for any account",
    type: T.role,
    spoil: (p) => (p.assumeRolePolicy = editStatements(p.assumeRolePolicy, (s) => {
      s.Principal = { Service: "apigateway.amazonaws.com" };
      delete s.Condition;
    })),
    expected: /trusts apigateway\.amazonaws\.com without an aws:SourceAccount/,
  },
  {
    rule: "bedrock-guardrail-blocks",
    what: "no prompt-attack filter",
    type: T.guardrail,
    spoil: (p) => {
      const config = p.contentPolicyConfig as { filtersConfigs: Props[] };
      config.filtersConfigs = config.filtersConfigs.filter((f) => f.type !== "PROMPT_ATTACK");
    },
    expected: /no PROMPT_ATTACK filter on input/,
  },
  {
    rule: "bedrock-guardrail-blocks",
    what: "output filters off",
    type: T.guardrail,
    spoil: (p) => {
      for (const filter of (p.contentPolicyConfig as { filtersConfigs: Props[] }).filtersConfigs) filter.outputStrength = "NONE";
    },
    expected: /no content filter on output/,
  },
  {
    rule: "bedrock-guardrail-blocks",
    what: "a detect-only filter",
    type: T.guardrail,
    spoil: (p) => ((p.contentPolicyConfig as { filtersConfigs: Props[] }).filtersConfigs[0].inputAction = "NONE"),
    expected: /inputAction NONE only detects/,
  },
];

// Every config sets the account's API Gateway logging role (off by default), so the rules judge that role too.
const CONFIGS: { title: string; config: Record<string, unknown> }[] = [
  { title: "one region", config: { regions: ["us-east-1"], apiGatewayLoggingRole: true } },
  { title: "three regions", config: { regions: ["us-east-1", "eu-west-1", "ap-southeast-2"], apiGatewayLoggingRole: true } },
  // A custom domain puts an ACM certificate on the distribution: the TLS 1.2 branch of the CloudFront rule.
  { title: "two regions behind a custom domain", config: { regions: ["eu-west-1", "us-east-1"], domainName: "chat.example.com", hostedZoneId: "Z0123456789ABCDEFGHIJ", apiGatewayLoggingRole: true } },
];

for (const { title, config } of CONFIGS) {
  describe(`policy rules over the program (${title})`, function () {
    this.timeout(120_000);
    let resources: RecordedResource[];

    before(async () => {
      ({ resources } = await buildStack(config));
    });

    for (const rule of resourceRules) {
      it(`${rule.name}: passes on every resource it judges (and judges some)`, () => {
        const judged = resources.filter((r) => rule.types.includes(r.type));
        // The ECS worker's rules have nothing to judge in these (chat:worker lambda) stacks: policy-worker.test.ts.
        if (!WORKER_RULE_NAMES.includes(rule.name)) expect(judged, `resources of ${rule.types.join(", ")}`).to.have.length.above(0);
        const violations = judged.flatMap((r) => rule.check(resourceView(r)).map((message) => `${r.name}: ${message}`));
        expect(violations).to.deep.equal([]);
      });
    }

    for (const rule of stackRules) {
      it(`${rule.name}: passes on the stack`, () => {
        expect(rule.check(resources.map(stackView))).to.deep.equal([]);
      });
    }

    if (config.domainName !== undefined) {
      it("with chat:domainName the distribution has a custom certificate, judged TLSv1.2+ over SNI", () => {
        const distribution = resources.find((r) => r.type === T.distribution)!;
        expect(distribution.inputs.viewerCertificate).to.include({ sslSupportMethod: "sni-only" }).and.have.property("acmCertificateArn").that.is.a("string");
        const spoiled = copy(distribution.inputs);
        (spoiled.viewerCertificate as Props).minimumProtocolVersion = "TLSv1.1_2016";
        expect(ruleNamed("cloudfront-https-tls12").check({ type: T.distribution, props: spoiled })).to.deep.equal([
          "viewerCertificate minimumProtocolVersion TLSv1.1_2016 is below TLSv1.2",
        ]);
      });
    }

    it("every resource rule has a bad variant below (the stack rules have theirs at the end)", () => {
      const covered = new Set(BAD_VARIANTS.map((v) => v.rule));
      for (const rule of resourceRules.filter((r) => !WORKER_RULE_NAMES.includes(r.name))) expect(covered.has(rule.name), rule.name).to.equal(true);
    });

    for (const variant of BAD_VARIANTS) {
      it(`${variant.rule} fails ${variant.what}`, () => {
        const original = resources.find((r) => r.type === variant.type && (variant.pick?.(r) ?? true));
        if (!original) throw new Error(`the program creates no ${variant.type} to derive the bad variant from`);
        const props = copy(original.inputs);
        variant.spoil(props);
        const messages = ruleNamed(variant.rule).check({ type: original.type, name: original.name, props });
        expect(messages.join("\n")).to.match(variant.expected);
        expect(ruleNamed(variant.rule).check(resourceView(original)), "the original passes").to.deep.equal([]);
      });
    }

    if ((config.regions as string[]).length > 1) {
      it("dynamodb-point-in-time-recovery fails a replica without PITR", () => {
        const table = copy(resources.find((r) => r.type === T.table)!.inputs);
        const replicas = table.replicas as Props[];
        expect(replicas).to.have.length((config.regions as string[]).length - 1);
        replicas[replicas.length - 1].pointInTimeRecovery = false;
        const messages = ruleNamed("dynamodb-point-in-time-recovery").check({ type: T.table, props: table });
        expect(messages).to.deep.equal([`replica ${String(replicas[replicas.length - 1].regionName)} has pointInTimeRecovery off`]);
      });
    }

    describe("stack rules on bad variants of the stack", () => {
      const spoiled = (spoil: (views: StackResourceView[]) => StackResourceView[]) => spoil(copy(resources).map(stackView));
      const connectRoutes = (views: StackResourceView[]) => views.filter((v) => v.type === T.route && v.props.routeKey === "$connect");

      it("websocket-connect-authorized fails a $connect route without its authorizer", () => {
        const views = spoiled((vs) => {
          for (const route of connectRoutes(vs)) {
            route.props.authorizationType = "NONE";
            delete route.props.authorizerId;
          }
          return vs;
        });
        const violations = stackRuleNamed("websocket-connect-authorized").check(views);
        expect(violations).to.have.length((config.regions as string[]).length);
        for (const v of violations) expect(v.message).to.match(/\$connect authorizationType is NONE/);
      });

      it("websocket-connect-authorized fails an API whose $connect route is gone, and one whose authorizer is gone", () => {
        const noConnect = spoiled((vs) => vs.filter((v) => !connectRoutes([v]).length));
        expect(stackRuleNamed("websocket-connect-authorized").check(noConnect).map((v) => v.message).join("\n")).to.match(/has no \$connect route/);
        const noAuthorizer = spoiled((vs) => vs.filter((v) => v.type !== T.authorizer));
        expect(stackRuleNamed("websocket-connect-authorized").check(noAuthorizer).map((v) => v.message).join("\n")).to.match(/names no authorizer/);
      });

      it("model-callers-guarded fails a model-calling function without GUARDRAIL_ID/VERSION", () => {
        const views = spoiled((vs) => {
          for (const fn of vs.filter((v) => v.type === T.lambdaFunction)) {
            const variables = (fn.props.environment as { variables?: Props } | undefined)?.variables;
            if (variables) {
              delete variables.GUARDRAIL_ID;
              delete variables.GUARDRAIL_VERSION;
            }
          }
          return vs;
        });
        const violations = stackRuleNamed("model-callers-guarded").check(views);
        // Exactly the workers: their roles are the ones that may invoke a model.
        expect(violations).to.have.length((config.regions as string[]).length);
        for (const v of violations) expect(v.message).to.match(/worker.*may invoke a model but its environment lacks GUARDRAIL_ID, GUARDRAIL_VERSION/);
      });

      it("model-callers-guarded fails a function that gains model access without a guardrail", () => {
        const views = spoiled((vs) => {
          const authorizerFn = vs.find((v) => v.type === T.lambdaFunction && /authorizer/.test(v.name ?? ""));
          const role = vs.find((v) => v.type === T.role && v.props.arn === authorizerFn?.props.role);
          const policy = vs.find((v) => v.type === T.rolePolicy && (v.props.role === role?.id || v.props.role === role?.props.name));
          if (!policy) throw new Error("no authorizer role policy found");
          const document = JSON.parse(String(policy.props.policy)) as { Statement: Props[] };
          document.Statement.push({ Effect: "Allow", Action: "bedrock:InvokeModel", Resource: "arn:aws:bedrock:us-east-1::foundation-model/m" });
          policy.props.policy = JSON.stringify(document);
          return vs;
        });
        const violations = stackRuleNamed("model-callers-guarded").check(views);
        expect(violations.map((v) => v.message).join("\n")).to.match(/authorizer.*may invoke a model but its environment lacks GUARDRAIL_ID/);
      });

      if ((config.regions as string[]).length > 1) {
        it("model-callers-guarded fails a function that names another region's guardrail", () => {
          const views = spoiled((vs) => {
            const [home, away] = config.regions as string[];
            const homeGuardrail = vs.find((v) => v.type === T.guardrail && v.region === home)!;
            const awayWorker = vs.find((v) => v.type === T.lambdaFunction && v.region === away && /worker/.test(v.name ?? ""))!;
            ((awayWorker.props.environment as { variables: Props }).variables).GUARDRAIL_ID = homeGuardrail.props.guardrailId;
            return vs;
          });
          const [home, away] = config.regions as string[];
          const messages = stackRuleNamed("model-callers-guarded").check(views).map((v) => v.message);
          expect(messages).to.have.length(1);
          expect(messages[0]).to.match(new RegExp(`worker.* in ${away} names .*Guardrail\\) in ${home}`));
        });
      }

      it("lambda-logs-retained fails a function whose log group is not in the stack", () => {
        const views = spoiled((vs) => {
          const fn = vs.find((v) => v.type === T.lambdaFunction);
          (fn!.props.loggingConfig as Props).logGroup = "/aws/lambda/unmanaged";
          return vs;
        });
        const violations = stackRuleNamed("lambda-logs-retained").check(views);
        expect(violations.map((v) => v.message)).to.deep.equal([`${String(views.find((v) => v.type === T.lambdaFunction)!.name)} (Function) logs to /aws/lambda/unmanaged, which no log group of this stack manages`]);
      });

      it("s3-buckets-have-public-access-block fails a bucket without one", () => {
        const views = spoiled((vs) => vs.filter((v) => v.type !== T.bucketPublicAccessBlock));
        expect(stackRuleNamed("s3-buckets-have-public-access-block").check(views).map((v) => v.message).join("\n")).to.match(/has no BucketPublicAccessBlock/);
      });
    });
  });
}
