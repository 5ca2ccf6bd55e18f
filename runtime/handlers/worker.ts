/**
 * The generation worker, invoked asynchronously (InvocationType Event) by the message handler with a
 * GenerationJob. After the turn is claimed, generateTurn closes it on every path; a failure to claim it (after
 * bounded retries) is thrown, so any async retry Lambda is configured with tries again (the claim makes a second
 * delivery harmless).
 */
import type { Context } from "aws-lambda";
import { generateTurn, type GenerateDeps, type GenerationOutcome } from "../chat/generate";
import { parseJob } from "../chat/job";
import { generateDependencies } from "../composition/worker";

export { parseJob };

export function createWorkerHandler(deps: () => GenerateDeps) {
  return async (event: unknown, context: Pick<Context, "getRemainingTimeInMillis">): Promise<GenerationOutcome | { status: "rejected" }> => {
    const d = deps();
    const job = parseJob(event);
    if (!job) {
      d.log.error("worker received an invalid job");
      return { status: "rejected" };
    }
    return generateTurn(job, () => context.getRemainingTimeInMillis(), d);
  };
}

export const handler = createWorkerHandler(generateDependencies);
