// CloudFront Function (runtime cloudfront-js-2.0), viewer request, on the `/ws/<region>` cache behaviors and, with
// a custom domain, the `/ws` one. API Gateway serves a WebSocket API only at its stage path and answers 403 to
// anything after it, so the viewer's path is replaced by the stage path before the request goes to the regional
// API origin (`<apiId>.execute-api…/live`); `/ws` goes to the regional custom domains, whose API mapping serves
// the stage at the root (`/`). The Cognito token is the
// second offered subprotocol (`Sec-WebSocket-Protocol: chat.v1, <jwt>`), forwarded untouched with the other
// handshake headers (origin request policy AllViewerExceptHostHeader); a handshake that offers no token is refused
// at the edge. The query string never carries the token: a stale `token` parameter is dropped here, so it cannot
// reach the origin or its logs.
var STAGE_PATH = "/live";
var NEAREST_PATH = "/ws";
var SUBPROTOCOL = "chat.v1";

/** The token offered after chat.v1 in the Sec-WebSocket-Protocol list, or "" when there is none. */
function offeredToken(header) {
  if (!header || !header.value) return "";
  var offered = header.value.split(",").map(function (entry) {
    return entry.trim();
  });
  var at = offered.indexOf(SUBPROTOCOL);
  if (at < 0 || at + 1 >= offered.length) return "";
  var token = offered[at + 1];
  return token === SUBPROTOCOL ? "" : token;
}

// eslint-disable-next-line @typescript-eslint/no-unused-vars -- CloudFront calls the top-level handler.
function handler(event) {
  var request = event.request;
  if (!offeredToken(request.headers["sec-websocket-protocol"])) {
    return {
      statusCode: 401,
      statusDescription: "Unauthorized",
      headers: { "cache-control": { value: "no-store" } },
    };
  }
  delete request.querystring.token;
  request.uri = request.uri === NEAREST_PATH || request.uri === NEAREST_PATH + "/" ? "/" : STAGE_PATH;
  return request;
}
