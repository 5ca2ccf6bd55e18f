/** `usage`: the caller's tokens counted today (UTC), the daily budget and when the count starts again. */
import type { UsageFrame } from "../protocol";
import type { Clock, Connection, UserLedger } from "./ports";
import { dayKey, nextUtcMidnight } from "./windows";

export interface UsageDeps {
  ledger: UserLedger;
  clock: Clock;
  settings: { dailyTokenBudget: number };
}

export async function readUsage(connection: Connection, deps: UsageDeps): Promise<UsageFrame> {
  const now = deps.clock.now();
  const used = await deps.ledger.tokensUsed(connection.userId, dayKey(now));
  const budget = deps.settings.dailyTokenBudget;
  return { type: "usage", used, limit: budget > 0 ? budget : null, resetAt: new Date(nextUtcMidnight(now)).toISOString() };
}
