/**
 * `$connect` (after the authorizer accepted the token) and `$disconnect`. A connection lives at most 2 hours
 * (API Gateway quota), so its record expires by TTL shortly after even if `$disconnect` never arrives.
 */
import type { Clock, Connection, ConnectionStore } from "./ports";

/** API Gateway WebSocket connection duration quota, plus a margin for clock skew and TTL lag. */
export const CONNECTION_TTL_SECONDS = 2 * 60 * 60 + 10 * 60;

export interface ConnectDeps {
  connections: ConnectionStore;
  clock: Clock;
}

export async function openConnection(
  input: {
    connectionId: string;
    userId: string;
    username: string;
    region: string;
    callbackEndpoint: string;
    tokenExpiresAt: number;
    connectedAtMs?: number;
  },
  deps: ConnectDeps,
): Promise<Connection> {
  const now = deps.clock.now();
  const connection: Connection = {
    connectionId: input.connectionId,
    userId: input.userId,
    username: input.username,
    region: input.region,
    callbackEndpoint: input.callbackEndpoint,
    connectedAt: new Date(input.connectedAtMs ?? now).toISOString(),
    tokenExpiresAt: input.tokenExpiresAt,
  };
  await deps.connections.put(connection, Math.floor(now / 1000) + CONNECTION_TTL_SECONDS);
  return connection;
}

export async function closeConnection(connectionId: string, deps: ConnectDeps): Promise<void> {
  await deps.connections.delete(connectionId);
}
