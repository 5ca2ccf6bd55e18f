/**
 * The CloudFront Functions in infra/edge/, run as CloudFront runs them: the file's top-level `handler(event)` in a
 * context without Node globals, given events shaped like the cloudfront-js-2.0 viewer-request event
 * (CloudFront developer guide, "CloudFront Functions event structure":
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-event-structure.html).
 */
import * as vm from "node:vm";
import { expect } from "chai";
import { edgeFunctionCode, NEAREST_WEBSOCKET_PATH } from "../../infra/web-edge";
import { STAGE_NAME } from "../../infra/websocket-routes";

interface Value {
  value: string;
  multiValue?: { value: string }[];
}
interface CloudFrontRequest {
  method: string;
  uri: string;
  querystring: Record<string, Value>;
  headers: Record<string, Value>;
  cookies: Record<string, Value>;
}
interface CloudFrontEvent {
  version: "1.0";
  context: { distributionDomainName: string; distributionId: string; eventType: "viewer-request"; requestId: string };
  viewer: { ip: string };
  request: CloudFrontRequest;
}
type Handler = (event: CloudFrontEvent) => CloudFrontRequest | { statusCode: number; statusDescription: string; headers?: Record<string, Value> };

function load(file: "ws-path-rewrite.js" | "spa-rewrite.js"): Handler {
  // No require, module, process or timers: CloudFront Functions have none of them.
  const sandbox = vm.createContext({});
  vm.runInContext(edgeFunctionCode(file), sandbox, { filename: file });
  const handler = (sandbox as { handler?: unknown }).handler;
  expect(handler, `${file} defines a top-level handler`).to.be.a("function");
  return handler as Handler;
}

/** A viewer request as CloudFront hands it to a viewer-request function. */
function viewerRequest(uri: string, querystring: Record<string, Value> = {}, headers: Record<string, Value> = {}): CloudFrontEvent {
  return {
    version: "1.0",
    context: {
      distributionDomainName: "d111111abcdef8.cloudfront.net",
      distributionId: "EDFDVBD6EXAMPLE",
      eventType: "viewer-request",
      requestId: "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==",
    },
    viewer: { ip: "198.51.100.11" },
    request: {
      method: "GET",
      uri,
      querystring,
      headers: { host: { value: "d111111abcdef8.cloudfront.net" }, "user-agent": { value: "Mozilla/5.0" }, ...headers },
      cookies: {},
    },
  };
}

/** The headers of a browser's WebSocket opening handshake (RFC 6455 section 4.1), lower-cased as CloudFront passes them. */
const upgradeHeaders: Record<string, Value> = {
  upgrade: { value: "websocket" },
  connection: { value: "Upgrade" },
  "sec-websocket-key": { value: "dGhlIHNhbXBsZSBub25jZQ==" },
  "sec-websocket-version": { value: "13" },
  "sec-websocket-extensions": { value: "permessage-deflate; client_max_window_bits" },
  origin: { value: "https://d111111abcdef8.cloudfront.net" },
};

describe("infra edge: WebSocket path rewrite (CloudFront Function)", () => {
  const handler = load("ws-path-rewrite.js");

  /** A browser's `new WebSocket(url, ["chat.v1", token])` sends `Sec-WebSocket-Protocol: chat.v1, <token>`. */
  const offering = (header: string): Record<string, Value> => ({ ...upgradeHeaders, "sec-websocket-protocol": { value: header } });
  const TOKEN = "eyJraWQiOiJhYmMifQ.payload.sig";

  it("rewrites /ws/<region> to the API's stage path and forwards the handshake headers, the token's header included", () => {
    const event = viewerRequest("/ws/us-west-2", {}, offering(`chat.v1, ${TOKEN}`));
    const result = handler(event) as CloudFrontRequest;
    expect(result.uri).to.equal(`/${STAGE_NAME}`);
    expect(result.headers).to.deep.equal(event.request.headers);
    expect(result.headers["sec-websocket-protocol"]).to.deep.equal({ value: `chat.v1, ${TOKEN}` });
    expect(result.method).to.equal("GET");
  });

  it("keeps other query parameters, including multi-valued ones, and drops a stale token parameter", () => {
    const other = { v: { value: "1", multiValue: [{ value: "1" }, { value: "2" }] } };
    const result = handler(viewerRequest("/ws/eu-west-1", { ...other, token: { value: TOKEN } }, offering(`chat.v1,${TOKEN}`))) as CloudFrontRequest;
    expect(result.querystring).to.deep.equal(other);
    expect(result.uri).to.equal(`/${STAGE_NAME}`);
  });

  it("answers 401 at the edge when no token is offered after chat.v1, whatever the query string holds", () => {
    const refused: [Record<string, Value>, Record<string, Value>][] = [
      [{}, upgradeHeaders],
      [{ token: { value: TOKEN } }, upgradeHeaders],
      [{}, offering("chat.v1")],
      [{}, offering("chat.v1, ")],
      [{}, offering(TOKEN)],
      [{}, offering(`chat.v2, ${TOKEN}`)],
      [{}, offering("")],
    ];
    for (const [querystring, headers] of refused) {
      const result = handler(viewerRequest("/ws/us-east-1", querystring, headers));
      expect(result, JSON.stringify(headers["sec-websocket-protocol"] ?? null)).to.deep.include({ statusCode: 401, statusDescription: "Unauthorized" });
    }
  });

  it("rewrites /ws (the nearest region, with a custom domain) to / : the regional custom domains map the stage at the root", () => {
    for (const path of ["/ws", "/ws/"]) {
      const result = handler(viewerRequest(path, { token: { value: TOKEN } }, offering(`chat.v1, ${TOKEN}`))) as CloudFrontRequest;
      expect(result.uri, path).to.equal("/");
      expect(result.querystring).to.deep.equal({});
    }
    expect(handler(viewerRequest("/ws", {}, upgradeHeaders))).to.deep.include({ statusCode: 401 });
  });

  it("uses the stage and the nearest path the program deploys", () => {
    expect(edgeFunctionCode("ws-path-rewrite.js")).to.contain(`var STAGE_PATH = "/${STAGE_NAME}";`);
    expect(edgeFunctionCode("ws-path-rewrite.js")).to.contain(`var NEAREST_PATH = "${NEAREST_WEBSOCKET_PATH}";`);
  });
});

describe("infra edge: SPA rewrite (CloudFront Function)", () => {
  const handler = load("spa-rewrite.js");
  const uriAfter = (uri: string) => (handler(viewerRequest(uri)) as CloudFrontRequest).uri;

  it("serves /index.html for client-side routes (paths without a file extension)", () => {
    expect(uriAfter("/")).to.equal("/index.html");
    expect(uriAfter("/chat")).to.equal("/index.html");
    expect(uriAfter("/sessions/01HZX3/")).to.equal("/index.html");
  });

  it("passes files through unchanged, so a missing asset stays a 404", () => {
    expect(uriAfter("/index.html")).to.equal("/index.html");
    expect(uriAfter("/config.json")).to.equal("/config.json");
    expect(uriAfter("/assets/index-4f2a.js")).to.equal("/assets/index-4f2a.js");
    expect(uriAfter("/assets/missing.css")).to.equal("/assets/missing.css");
  });

  it("keeps the query string (the Cognito redirect carries ?code=…&state=…)", () => {
    const querystring = { code: { value: "abc" }, state: { value: "xyz" } };
    const result = handler(viewerRequest("/", querystring)) as CloudFrontRequest;
    expect(result.querystring).to.deep.equal(querystring);
    expect(result.uri).to.equal("/index.html");
  });
});
