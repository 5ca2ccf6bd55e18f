/** What the connection is doing, as the page shows it (no DOM here, so node tests can word it). */
export type ConnectionState =
  | { kind: "connecting"; region: string }
  | { kind: "open"; region: string }
  | { kind: "reconnecting"; region: string; attempt: number; delayMs: number }
  | { kind: "offline" }
  | { kind: "error"; message: string; delayMs: number };
