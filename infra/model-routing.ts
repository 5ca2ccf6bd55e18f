/**
 * Which Bedrock model ids a region can call. A cross-Region inference profile is called from its source Regions
 * only: a geographic profile (`us.`, `eu.`, `apac.`, `jp.`, `au.`, `ca.`, `us-gov.`) from the Regions of its
 * geography, a `global.` profile from the commercial Regions; an inference profile's ARN names its source Region.
 * (Bedrock user guide, "Supported Regions and models for inference profiles",
 * https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html, and "Geographic
 * cross-Region inference".) A region outside a profile's geography deploys fine and then fails every answer, so the
 * config refuses it and names the ids that would work there.
 */

interface Geography {
  /** The profile id's prefix, without the dot. */
  prefix: string;
  /** How the user guide names it. */
  label: string;
  /** Whether `region` is one of its source Regions. */
  contains(region: string): boolean;
}

const isCommercial = (region: string) => !/^(cn-|us-gov-|us-iso)/.test(region);

/** Most specific first: a Tokyo stack is offered `jp.` before `apac.`. */
const GEOGRAPHIES: readonly Geography[] = [
  { prefix: "us-gov", label: "AWS GovCloud (US)", contains: (r) => r.startsWith("us-gov-") },
  { prefix: "us", label: "US", contains: (r) => /^us-(east|west)-\d+$/.test(r) },
  { prefix: "ca", label: "Canada", contains: (r) => r.startsWith("ca-") },
  { prefix: "eu", label: "EU", contains: (r) => r.startsWith("eu-") },
  { prefix: "jp", label: "Japan", contains: (r) => r === "ap-northeast-1" || r === "ap-northeast-3" },
  { prefix: "au", label: "Australia", contains: (r) => r === "ap-southeast-2" || r === "ap-southeast-4" },
  { prefix: "apac", label: "APAC", contains: (r) => r.startsWith("ap-") },
];
const GLOBAL: Geography = { prefix: "global", label: "global", contains: isCommercial };

const PROFILE_PREFIX = new RegExp(`^(${[...GEOGRAPHIES, GLOBAL].map((g) => g.prefix).join("|")})\\.`);

/** How a model id reaches the model, read from the id itself. */
export type ModelRoute =
  | { kind: "foundation-model"; model: string; arnRegion?: string }
  | { kind: "profile"; geography: Geography; model: string; arnRegion?: string };

export function routeOf(modelId: string): ModelRoute {
  const arn = /^arn:[^:]+:bedrock:([^:]*):[^:]*:(inference-profile|foundation-model)\/(.+)$/.exec(modelId);
  const id = arn ? arn[3]! : modelId;
  const arnRegion = arn?.[1] ? { arnRegion: arn[1] } : {};
  const prefix = PROFILE_PREFIX.exec(id)?.[1];
  const geography = [...GEOGRAPHIES, GLOBAL].find((g) => g.prefix === prefix);
  if (geography === undefined || arn?.[2] === "foundation-model") return { kind: "foundation-model", model: id, ...arnRegion };
  return { kind: "profile", geography, model: id.slice(geography.prefix.length + 1), ...arnRegion };
}

/** The profile ids of `model` that `region` may call: its geographies' (most specific first), then `global.`. */
export function profilesFor(model: string, region: string): string[] {
  return [...GEOGRAPHIES, GLOBAL].filter((g) => g.contains(region)).map((g) => `${g.prefix}.${model}`);
}

/**
 * Why `region` cannot call `modelId` (undefined: it can, as far as the id tells). The answer names the ids that would
 * work there, for the error message.
 */
export function regionMismatch(modelId: string, region: string): string | undefined {
  const route = routeOf(modelId);
  const alternatives = () => {
    const ids = route.kind === "profile" ? profilesFor(route.model, region) : [];
    return ids.length > 0 ? `; from ${region} use ${ids.join(" or ")} (where Bedrock offers it for the model)` : "";
  };
  if (route.arnRegion !== undefined && route.arnRegion !== region) {
    return `${modelId} is an ARN in ${route.arnRegion}, which ${region} cannot call (an ARN names its own Region)${alternatives()}`;
  }
  if (route.kind === "profile" && !route.geography.contains(region)) {
    const kind = route.geography === GLOBAL ? "a global inference profile" : `an inference profile of the ${route.geography.label} geography`;
    const scope = route.geography === GLOBAL ? "commercial Regions" : `${route.geography.label} Regions`;
    return `${modelId} is ${kind}, called only from ${scope}, not ${region}${alternatives()}`;
  }
  return undefined;
}
