/**
 * The Pulumi program's entry point: validate `chat:*` once, build the stack, export what a user needs.
 * Everything else lives in `stack.ts` so the tests can build several configs in one process.
 */
import { readConfig } from "./config";
import { createStack } from "./stack";

const stack = createStack(readConfig());

/** The web client: open this in a browser. */
export const webUrl = stack.webUrl;
export const primaryRegion = stack.primaryRegion;
/** With chat:domainName: the WebSocket URL that Route 53 routes to the nearest healthy region. */
export const nearestWebsocketUrl = stack.nearestWebsocketUrl;
/** Per region: the WebSocket URL through CloudFront, the API's own URL, the guardrail id and version, and the model id it calls. */
export const regions = stack.regions;
/** Cognito: create users here (or enable self sign-up) and sign in through the hosted page. */
export const userPoolId = stack.userPoolId;
export const userPoolClientId = stack.userPoolClientId;
export const hostedSignInUrl = stack.hostedSignInUrl;
/** The global tables (replicated to every region). */
export const connectionsTableName = stack.connectionsTableName;
export const historyTableName = stack.historyTableName;
/** For re-uploading the web client or invalidating the cache by hand. */
export const webBucketName = stack.webBucketName;
export const distributionId = stack.distributionId;
