import { expect } from "chai";
import { emailDomainAllowed, parseDomains } from "../../runtime/auth/sign-up-domains";
import { createPreSignUpHandler, type PreSignUpEvent } from "../../runtime/handlers/pre-sign-up";

const event = (triggerSource: string, email?: string): PreSignUpEvent & { response: Record<string, boolean> } => ({
  triggerSource,
  request: { userAttributes: email === undefined ? {} : { email } },
  response: { autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false },
});

describe("sign-up domains", () => {
  it("reads a comma-separated list, trimmed and lower-cased, empty parts dropped", () => {
    expect(parseDomains(" Example.com, example.org ,,")).to.deep.equal(["example.com", "example.org"]);
    expect(parseDomains("")).to.deep.equal([]);
    expect(parseDomains(undefined)).to.deep.equal([]);
  });

  it("allows exactly the listed domains: no subdomain, no look-alike, no address without a domain", () => {
    const domains = ["example.com"];
    expect(emailDomainAllowed("ana@example.com", domains)).to.equal(true);
    expect(emailDomainAllowed("Ana@EXAMPLE.COM", domains)).to.equal(true);
    expect(emailDomainAllowed("ana@mail.example.com", domains)).to.equal(false);
    expect(emailDomainAllowed("ana@example.com.evil.net", domains)).to.equal(false);
    expect(emailDomainAllowed("ana@notexample.com", domains)).to.equal(false);
    expect(emailDomainAllowed("example.com@evil.net", domains)).to.equal(false);
    expect(emailDomainAllowed("ana@", domains)).to.equal(false);
    expect(emailDomainAllowed("@example.com", domains)).to.equal(false);
    expect(emailDomainAllowed(undefined, domains)).to.equal(false);
    expect(emailDomainAllowed("ana@example.com", [])).to.equal(false);
  });
});

describe("pre-sign-up trigger", () => {
  const handler = createPreSignUpHandler(["example.com"]);

  it("lets a self sign-up from an allowed domain through, returning the event unchanged (no auto-confirmation)", async () => {
    const input = event("PreSignUp_SignUp", "ana@example.com");
    expect(await handler(input)).to.deep.equal(event("PreSignUp_SignUp", "ana@example.com"));
  });

  it("refuses a self sign-up from any other domain, or without an address, with a message for the person", async () => {
    for (const input of [event("PreSignUp_SignUp", "eve@evil.net"), event("PreSignUp_SignUp"), event("PreSignUp_ExternalProvider", "eve@evil.net")]) {
      let refused: unknown;
      await handler(input).catch((error: unknown) => (refused = error));
      expect(refused, JSON.stringify(input)).to.be.instanceOf(Error);
      expect((refused as Error).message).to.match(/invitation/);
    }
  });

  it("always lets the operator's own invitations through (AdminCreateUser)", async () => {
    const input = event("PreSignUp_AdminCreateUser", "guest@elsewhere.org");
    expect(await handler(input)).to.equal(input);
  });

  it("refuses every self sign-up when no domain is allowed", async () => {
    let refused: unknown;
    await createPreSignUpHandler([])(event("PreSignUp_SignUp", "ana@example.com")).catch((error: unknown) => (refused = error));
    expect(refused).to.be.instanceOf(Error);
  });
});
