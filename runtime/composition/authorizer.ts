/** The authorizer's dependencies: the token verifier (aws-jwt-verify, JWKS cached per container) and the origin secrets. */
import { createCognitoVerifier, type TokenVerifier } from "../auth/verifier";
import { loadAuthConfig, type AuthConfig } from "../config";

let config: AuthConfig | undefined;
let verifier: TokenVerifier | undefined;

function authConfig(): AuthConfig {
  config ??= loadAuthConfig(process.env);
  return config;
}

export function tokenVerifier(): TokenVerifier {
  verifier ??= createCognitoVerifier(authConfig());
  return verifier;
}

/** The `X-Origin-Verify` values accepted (empty: the header is not checked). */
export function originSecrets(): readonly string[] {
  return authConfig().originSecrets;
}

export function resetAuthorizer(): void {
  config = undefined;
  verifier = undefined;
}
