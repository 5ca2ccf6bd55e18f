/** The connection state in words (pure, so tests read it without a DOM). */
import type { ConnectionState } from "../net/connection-state";

export function describeState(state: ConnectionState): string {
  switch (state.kind) {
    case "connecting":
      return `Connecting to ${state.region}…`;
    case "open":
      return `Connected · ${state.region}`;
    case "reconnecting":
      return state.delayMs > 0 ? `Reconnecting in ${Math.max(1, Math.round(state.delayMs / 1000))} s…` : `Reconnecting to ${state.region}…`;
    case "offline":
      return "Offline — waiting for the network";
    case "error":
      return `Not connected. ${state.message} The page keeps trying, or press Retry now.`;
  }
}
