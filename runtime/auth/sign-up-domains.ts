/**
 * Who may sign up by themselves: only addresses in the operator's allowed e-mail domains (chat:selfSignUpDomains).
 * Pure, so the pre-sign-up trigger stays a few lines and this is unit-tested.
 */

/** `"example.com, Example.org"` → `["example.com", "example.org"]`. */
export function parseDomains(text: string | undefined): string[] {
  return (text ?? "")
    .split(",")
    .map((d) => d.trim().toLowerCase())
    .filter((d) => d !== "");
}

/**
 * True when the address's domain is one of `domains`, exactly (a subdomain is another domain: `a@x.example.com`
 * is not `example.com`). The domain is what follows the last `@`.
 */
export function emailDomainAllowed(email: string | undefined, domains: readonly string[]): boolean {
  if (email === undefined) return false;
  const at = email.lastIndexOf("@");
  if (at <= 0 || at === email.length - 1) return false;
  const domain = email.slice(at + 1).trim().toLowerCase();
  return domains.includes(domain);
}
