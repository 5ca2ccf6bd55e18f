/** The authorizer's dependencies: the token verifier (aws-jwt-verify, JWKS cached per container). */
import { createCognitoVerifier, type TokenVerifier } from "../auth/verifier";
import { loadAuthConfig } from "../config";

let verifier: TokenVerifier | undefined;

export function tokenVerifier(): TokenVerifier {
  verifier ??= createCognitoVerifier(loadAuthConfig(process.env));
  return verifier;
}

export function resetAuthorizer(): void {
  verifier = undefined;
}
