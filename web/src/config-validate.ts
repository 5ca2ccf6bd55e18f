/** Checks config.json's shape. Pure (no DOM, no fetch), so it is unit-tested in Node. */
import type { WebConfig } from "../../runtime/protocol";

/** Fails with a message naming the field, so a broken deployment says what is wrong instead of a blank page. */
export function validateConfig(value: unknown): WebConfig {
  if (typeof value !== "object" || value === null) throw new Error("config.json: expected an object");
  const config = value as Partial<WebConfig>;
  if (!Array.isArray(config.regions) || config.regions.length === 0) {
    throw new Error("config.json: `regions` must list at least one {region, url}");
  }
  for (const entry of config.regions) {
    if (typeof entry?.region !== "string" || typeof entry.url !== "string" || !/^wss?:\/\//.test(entry.url)) {
      throw new Error("config.json: each region needs `region` and a ws:// or wss:// `url`");
    }
  }
  const auth = config.auth;
  if (auth?.mode === "local") {
    if (typeof auth.tokenUrl !== "string") throw new Error("config.json: `auth.tokenUrl` is required in local mode");
  } else if (auth?.mode === "cognito") {
    for (const key of ["authority", "clientId", "domain", "redirectUri", "logoutUri"] as const) {
      if (typeof auth[key] !== "string") throw new Error(`config.json: \`auth.${key}\` is required in cognito mode`);
    }
  } else {
    throw new Error("config.json: `auth.mode` must be \"cognito\" or \"local\"");
  }
  return {
    regions: config.regions,
    auth,
    modelLabel: typeof config.modelLabel === "string" ? config.modelLabel : "",
    emulator: config.emulator === true,
  };
}
