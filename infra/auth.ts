/**
 * Sign-in: a Cognito user pool in the primary region, its hosted sign-in domain, and one public app client for
 * the web page (authorization code flow, no client secret; the page uses PKCE through oidc-client-ts).
 */
import { createHash } from "node:crypto";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { ThreatProtectionMode } from "./config";
import { SignUpTrigger } from "./sign-up-trigger";

export interface ChatAuthArgs {
  /** Where Cognito may send the browser back after sign-in (the web page's https URLs). */
  readonly callbackUrls: pulumi.Input<pulumi.Input<string>[]>;
  /** Where Cognito may send the browser after sign-out. */
  readonly logoutUrls: pulumi.Input<pulumi.Input<string>[]>;
  /** Hosted sign-in domain prefix; derived from project, stack and account when absent. */
  readonly domainPrefix?: pulumi.Input<string>;
  /** Deletion protection on the user pool. */
  readonly deletionProtection: boolean;
  /** E-mail domains whose people may sign up by themselves; empty = invite-only. */
  readonly selfSignUpDomains: readonly string[];
  /** The bundled pre-sign-up trigger (used only with self sign-up domains). */
  readonly preSignUpCode: () => pulumi.Input<pulumi.asset.Archive>;
  readonly logRetentionDays: pulumi.Input<number>;
  /** Cognito threat protection; audit and enforced need (and select) the Plus feature plan. */
  readonly threatProtection: ThreatProtectionMode;
}

export class ChatAuth extends pulumi.ComponentResource {
  public readonly userPoolId: pulumi.Output<string>;
  public readonly userPoolArn: pulumi.Output<string>;
  public readonly clientId: pulumi.Output<string>;
  /** OIDC issuer / authority: `https://cognito-idp.<region>.amazonaws.com/<userPoolId>`. */
  public readonly authority: pulumi.Output<string>;
  /** `https://<prefix>.auth.<region>.amazoncognito.com`. */
  public readonly hostedDomainUrl: pulumi.Output<string>;
  /** The hosted sign-in page for the web client. */
  public readonly signInUrl: pulumi.Output<string>;

  constructor(name: string, args: ChatAuthArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chat:auth:ChatAuth", name, {}, opts);
    const region = aws.getRegionOutput({}, { parent: this }).region;

    const selfSignUp = args.selfSignUpDomains.length > 0;
    const trigger = selfSignUp
      ? new SignUpTrigger(`${name}-pre-sign-up`, { code: args.preSignUpCode(), domains: args.selfSignUpDomains, logRetentionDays: args.logRetentionDays }, { parent: this })
      : undefined;

    const pool = new aws.cognito.UserPool(
      `${name}-users`,
      {
        usernameAttributes: ["email"],
        autoVerifiedAttributes: ["email"],
        passwordPolicy: {
          minimumLength: 12,
          requireLowercase: true,
          requireUppercase: true,
          requireNumbers: true,
          requireSymbols: false,
          temporaryPasswordValidityDays: 3,
        },
        accountRecoverySetting: { recoveryMechanisms: [{ name: "verified_email", priority: 1 }] },
        mfaConfiguration: "OPTIONAL",
        softwareTokenMfaConfiguration: { enabled: true },
        deletionProtection: args.deletionProtection ? "ACTIVE" : "INACTIVE",
        // Invite-only unless the operator names domains: then the hosted page offers sign-up, and the pre-sign-up
        // trigger refuses every address outside them (Cognito developer guide, "Pre sign-up Lambda trigger").
        adminCreateUserConfig: { allowAdminCreateUserOnly: !selfSignUp },
        ...(trigger ? { lambdaConfig: { preSignUp: trigger.function.arn } } : {}),
        // Threat protection is a feature of the Plus plan only (Cognito developer guide, "Advanced security with
        // threat protection"; UserPoolAddOnsType: "your user pool must be on the Plus tier").
        userPoolTier: args.threatProtection === "off" ? "ESSENTIALS" : "PLUS",
        userPoolAddOns: { advancedSecurityMode: args.threatProtection.toUpperCase() },
      },
      { parent: this, protect: args.deletionProtection },
    );

    trigger?.allowInvokeFrom(pool.arn);

    const prefix =
      args.domainPrefix ??
      aws.getCallerIdentityOutput({}, { parent: this }).accountId.apply((account) => defaultDomainPrefix(account));
    const domain = new aws.cognito.UserPoolDomain(`${name}-domain`, { domain: prefix, userPoolId: pool.id }, { parent: this });

    const client = new aws.cognito.UserPoolClient(
      `${name}-web`,
      {
        userPoolId: pool.id,
        generateSecret: false,
        allowedOauthFlowsUserPoolClient: true,
        allowedOauthFlows: ["code"],
        allowedOauthScopes: ["openid", "email", "profile"],
        supportedIdentityProviders: ["COGNITO"],
        callbackUrls: args.callbackUrls,
        logoutUrls: args.logoutUrls,
        // Only the hosted UI signs users in; refresh keeps a session without SRP or passwords in the page.
        explicitAuthFlows: ["ALLOW_REFRESH_TOKEN_AUTH"],
        preventUserExistenceErrors: "ENABLED",
        enableTokenRevocation: true,
        accessTokenValidity: 60,
        idTokenValidity: 60,
        refreshTokenValidity: 30,
        tokenValidityUnits: { accessToken: "minutes", idToken: "minutes", refreshToken: "days" },
      },
      { parent: this },
    );

    this.userPoolId = pool.id;
    this.userPoolArn = pool.arn;
    this.clientId = client.id;
    this.authority = pulumi.interpolate`https://cognito-idp.${region}.amazonaws.com/${pool.id}`;
    this.hostedDomainUrl = pulumi.interpolate`https://${domain.domain}.auth.${region}.amazoncognito.com`;
    const redirect = pulumi.output(args.callbackUrls).apply((urls) => urls[0] ?? "");
    this.signInUrl = pulumi.interpolate`${this.hostedDomainUrl}/login?client_id=${client.id}&response_type=code&scope=openid+email+profile&redirect_uri=${redirect.apply(encodeURIComponent)}`;
    this.registerOutputs({
      userPoolId: this.userPoolId,
      clientId: this.clientId,
      authority: this.authority,
      hostedDomainUrl: this.hostedDomainUrl,
      signInUrl: this.signInUrl,
    });
  }
}

/**
 * A stable, account-unique hosted UI prefix. Cognito prefixes are lower-case letters, digits and hyphens and may not
 * contain `aws`, `amazon` or `cognito` (Cognito developer guide, "Using the Amazon Cognito prefix domain").
 */
export function defaultDomainPrefix(account: string, project = pulumi.getProject(), stack = pulumi.getStack()): string {
  const readable = `${project}-${stack}`
    .toLowerCase()
    .replace(/aws|amazon|cognito/g, "")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
  const suffix = createHash("sha256").update(`${account}/${project}/${stack}`).digest("hex").slice(0, 8);
  return `${readable || "chat"}-${suffix}`;
}
