/**
 * Where a lean client's calls go, found as the SDK finds it: the endpoint set on the SDK client in code; else the
 * environment's, `AWS_ENDPOINT_URL_<SERVICE>` then `AWS_ENDPOINT_URL`, unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is
 * true ("Service-specific endpoints", AWS SDKs and Tools reference guide; the runtime reads no shared config file);
 * else the regional endpoint from the SDK client's own endpoint rules (`<service>.{region}.{partition suffix}`).
 */
import type { Endpoint, Provider } from "@smithy/types";

/** The parts of an SDK client's resolved config that name its endpoint. */
export interface EndpointConfig {
  endpoint?: Provider<Endpoint>;
  region: Provider<string>;
  useFipsEndpoint: Provider<boolean>;
  useDualstackEndpoint: Provider<boolean>;
  endpointProvider: (params: never) => { url: URL };
}

/** The environment's endpoint for a service (`DYNAMODB`, `BEDROCK_RUNTIME`), or undefined. */
export function configuredEndpoint(serviceKey: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === "true") return undefined;
  return env[`AWS_ENDPOINT_URL_${serviceKey}`] || env.AWS_ENDPOINT_URL || undefined;
}

export async function clientEndpoint(config: EndpointConfig, serviceKey: string, extraRules: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = process.env): Promise<URL> {
  const explicit = await config.endpoint?.();
  if (explicit) return new URL(`${explicit.protocol}//${explicit.hostname}${explicit.port === undefined ? "" : `:${explicit.port}`}${explicit.path}`);
  const fromEnv = configuredEndpoint(serviceKey, env);
  if (fromEnv) return new URL(fromEnv);
  const rules = { Region: await config.region(), UseFIPS: await config.useFipsEndpoint(), UseDualStack: await config.useDualstackEndpoint(), ...extraRules };
  return new URL(config.endpointProvider(rules as never).url.href);
}
