/** The daily token budget in words (no DOM: the unit tests read it too). */
import type { UsageFrame } from "../../../runtime/protocol";

/** "12,300 of 100,000 tokens left today" (or when the budget is back). */
export function describeUsage(frame: UsageFrame): string {
  if (frame.limit === null) return `${frame.used.toLocaleString()} tokens used today`;
  const left = Math.max(0, frame.limit - frame.used);
  if (left === 0) {
    const at = new Date(frame.resetAt).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    return `Today's token budget is used up; it renews at ${at}`;
  }
  return `${left.toLocaleString()} of ${frame.limit.toLocaleString()} tokens left today`;
}
