/**
 * Lambda events exactly as API Gateway WebSocket APIs build them. Shapes follow the AWS developer guide pages
 * "Working with routes for WebSocket APIs" and "Control access to WebSocket APIs with AWS Lambda REQUEST
 * authorizers", and the captured events in ../shared/fixtures/apigw-websocket/ (test/local checks key for key).
 */
import { randomBytes } from "node:crypto";

export type StringMap = Record<string, string>;
export type MultiValueMap = Record<string, string[]>;

/** What API Gateway knows about a client connection; the source of every event's requestContext. */
export interface ConnectionInfo {
  connectionId: string;
  connectedAt: number;
  sourceIp: string;
  userAgent: string;
  /** The Host the client used: API Gateway's `domainName` (here `127.0.0.1:<port>`). */
  domainName: string;
  /** principalId + context + integrationLatency, as returned by the REQUEST authorizer. */
  authorizer?: Record<string, string | number | boolean>;
}

export interface ApiInfo {
  apiId: string;
  stage: string;
  region: string;
  accountId: string;
}

/** API Gateway ids look like `R1kmxc2VNjMCFIA=`: 11 random bytes, base64. */
export function gatewayId(): string {
  return randomBytes(11).toString("base64");
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `20/Jan/2024:11:55:00 +0000`, the CLF-style `requestTime` of API Gateway events. */
export function requestTime(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, "0");
  return (
    `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`
  );
}

interface RequestContextBase {
  routeKey: string;
  eventType: "CONNECT" | "MESSAGE" | "DISCONNECT";
  extendedRequestId: string;
  requestTime: string;
  messageDirection: "IN";
  stage: string;
  connectedAt: number;
  requestTimeEpoch: number;
  identity: { userAgent: string; sourceIp: string };
  requestId: string;
  domainName: string;
  connectionId: string;
  apiId: string;
  authorizer?: Record<string, string | number | boolean>;
}

function requestContext(
  api: ApiInfo,
  conn: ConnectionInfo,
  routeKey: string,
  eventType: RequestContextBase["eventType"],
): RequestContextBase {
  const now = Date.now();
  const requestId = gatewayId();
  const context: RequestContextBase = {
    routeKey,
    eventType,
    extendedRequestId: requestId,
    requestTime: requestTime(now),
    messageDirection: "IN",
    stage: api.stage,
    connectedAt: conn.connectedAt,
    requestTimeEpoch: now,
    identity: { userAgent: conn.userAgent, sourceIp: conn.sourceIp },
    requestId,
    domainName: conn.domainName,
    connectionId: conn.connectionId,
    apiId: api.apiId,
  };
  // The authorizer's result is cached for the connection and appears on every route's event, not only $connect.
  if (conn.authorizer) context.authorizer = conn.authorizer;
  return context;
}

export interface HandshakeRequest {
  headers: StringMap;
  multiValueHeaders: MultiValueMap;
  queryStringParameters?: StringMap;
  multiValueQueryStringParameters?: MultiValueMap;
}

/** Input to the `$connect` REQUEST authorizer: `type: "REQUEST"` and a `methodArn` ending in `$connect`. */
export function authorizerEvent(api: ApiInfo, conn: ConnectionInfo, handshake: HandshakeRequest) {
  const { authorizer: _none, ...context } = requestContext(api, { ...conn, authorizer: undefined }, "$connect", "CONNECT");
  return {
    type: "REQUEST" as const,
    methodArn: `arn:aws:execute-api:${api.region}:${api.accountId}:${api.apiId}/${api.stage}/$connect`,
    ...handshake,
    stageVariables: {},
    requestContext: context,
  };
}

export function connectEvent(api: ApiInfo, conn: ConnectionInfo, handshake: HandshakeRequest) {
  return {
    ...handshake,
    requestContext: requestContext(api, conn, "$connect", "CONNECT"),
    isBase64Encoded: false,
  };
}

export function messageEvent(api: ApiInfo, conn: ConnectionInfo, routeKey: string, body: string, isBinary: boolean) {
  return {
    requestContext: { ...requestContext(api, conn, routeKey, "MESSAGE"), messageId: gatewayId() },
    body,
    isBase64Encoded: isBinary,
  };
}

/** `$disconnect` carries a fixed set of headers (see fixtures/apigw-websocket/disconnect.json). */
export function disconnectEvent(api: ApiInfo, conn: ConnectionInfo, statusCode: number, reason: string) {
  const headers: StringMap = { Host: conn.domainName, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": "" };
  const multiValueHeaders: MultiValueMap = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]]));
  return {
    headers,
    multiValueHeaders,
    requestContext: {
      ...requestContext(api, conn, "$disconnect", "DISCONNECT"),
      disconnectStatusCode: statusCode,
      disconnectReason: reason,
    },
    isBase64Encoded: false,
  };
}

/** Handshake headers with their original casing, plus the X-Forwarded-* and trace headers API Gateway adds. */
export function handshakeRequest(rawHeaders: string[], url: URL, sourceIp: string): HandshakeRequest {
  const multiValueHeaders: MultiValueMap = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    (multiValueHeaders[rawHeaders[i]] ??= []).push(rawHeaders[i + 1]);
  }
  const traceRoot = `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString("hex")}`;
  multiValueHeaders["X-Amzn-Trace-Id"] = [traceRoot];
  multiValueHeaders["X-Forwarded-For"] = [sourceIp];
  multiValueHeaders["X-Forwarded-Port"] = [url.port || "80"];
  multiValueHeaders["X-Forwarded-Proto"] = [url.protocol === "wss:" || url.protocol === "https:" ? "https" : "http"];
  const headers: StringMap = Object.fromEntries(Object.entries(multiValueHeaders).map(([k, v]) => [k, v.join(",")]));
  const request: HandshakeRequest = { headers, multiValueHeaders };
  if ([...url.searchParams.keys()].length > 0) {
    const multi: MultiValueMap = {};
    for (const [k, v] of url.searchParams) (multi[k] ??= []).push(v);
    request.queryStringParameters = Object.fromEntries(Object.entries(multi).map(([k, v]) => [k, v[v.length - 1]]));
    request.multiValueQueryStringParameters = multi;
  }
  return request;
}
