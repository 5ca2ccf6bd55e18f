/** Loads /config.json (WebConfig), written per stack by the Pulumi program or served by the local stack. */
import type { WebConfig } from "../../runtime/protocol";
import { validateConfig } from "./config-validate";

export async function loadConfig(url = "/config.json"): Promise<WebConfig> {
  // no-store: a redeploy that changes endpoints must reach a page that is already cached.
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(`The page's settings (config.json) could not be loaded (HTTP ${response.status}). Reload the page in a minute.`);
  return validateConfig((await response.json()) as unknown);
}
