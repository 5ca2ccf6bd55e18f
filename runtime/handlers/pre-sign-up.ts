/**
 * Cognito pre-sign-up trigger: a user signing up by themselves must use an e-mail address in an allowed domain
 * (SIGN_UP_EMAIL_DOMAINS); users the operator creates (AdminCreateUser) pass. Throwing refuses the sign-up, and
 * Cognito answers the client with the message (Cognito developer guide, "Pre sign-up Lambda trigger").
 */
import { emailDomainAllowed, parseDomains } from "../auth/sign-up-domains";
import { ENV } from "../env";

/** The fields of the trigger's event this reads (the rest is returned unchanged). */
export interface PreSignUpEvent {
  triggerSource: string;
  request: { userAttributes: Record<string, string | undefined> };
}

export function createPreSignUpHandler(domains: readonly string[]) {
  return async <E extends PreSignUpEvent>(event: E): Promise<E> => {
    if (event.triggerSource === "PreSignUp_AdminCreateUser") return event;
    if (!emailDomainAllowed(event.request.userAttributes.email, domains)) {
      throw new Error("Sign-up is open only to addresses of the organisation's e-mail domains; ask for an invitation.");
    }
    return event;
  };
}

export const handler = createPreSignUpHandler(parseDomains(process.env[ENV.signUpEmailDomains]));
