// CloudFront Function (runtime cloudfront-js-2.0), viewer request, on the `/ws/<region>` cache behaviors.
// API Gateway serves a WebSocket API only at its stage path and answers 403 to anything after it, so the viewer's
// path is replaced by the stage path before the request goes to the regional API origin. The query string (which
// carries the Cognito token) is left untouched; a request without a token is refused at the edge.
var STAGE_PATH = "/live";

// eslint-disable-next-line @typescript-eslint/no-unused-vars -- CloudFront calls the top-level handler.
function handler(event) {
  var request = event.request;
  var token = request.querystring.token;
  if (!token || !token.value) {
    return {
      statusCode: 401,
      statusDescription: "Unauthorized",
      headers: { "cache-control": { value: "no-store" } },
    };
  }
  request.uri = STAGE_PATH;
  return request;
}
