// CloudFront Function (runtime cloudfront-js-2.0), viewer request, on the web client's default behavior.
// The page routes on the client, so a path without a file extension (`/`, `/chat/abc`) is served `/index.html`;
// files (`/assets/app.js`, `/config.json`) pass through. Unlike distribution-wide custom error responses this
// never rewrites the WebSocket behaviors or turns a missing asset into a 200.
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- CloudFront calls the top-level handler.
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  var lastSegment = uri.substring(uri.lastIndexOf("/") + 1);
  if (lastSegment.indexOf(".") === -1) {
    request.uri = "/index.html";
  }
  return request;
}
