/**
 * The parts of API Gateway WebSocket events the handlers read (shapes: /work/shared/fixtures/apigw-websocket and
 * the API Gateway developer guide). A MESSAGE event carries no authorizer context: the message handler looks the
 * caller up in the connections table.
 */
export interface WebSocketEvent {
  requestContext: {
    connectionId: string;
    routeKey?: string;
    eventType?: string;
    requestTimeEpoch?: number;
    connectedAt?: number;
    domainName?: string;
    stage?: string;
    /** $connect only: what the REQUEST authorizer returned as context (plus principalId). */
    authorizer?: Record<string, unknown> | null;
  };
  /** $connect only: the handshake's headers. */
  headers?: Record<string, string | undefined> | null;
  body?: string | null;
  isBase64Encoded?: boolean;
}

export interface WebSocketResult {
  statusCode: number;
  /** $connect only: headers of the handshake answer (the selected `Sec-WebSocket-Protocol`). */
  headers?: Record<string, string>;
  body?: string;
}

export function frameBody(event: WebSocketEvent): string | undefined {
  if (event.body === undefined || event.body === null) return undefined;
  return event.isBase64Encoded ? Buffer.from(event.body, "base64").toString("utf8") : event.body;
}
