/**
 * The composition root for processes that run every handler (the local stack, tests): it re-exports each
 * handler's composition (runtime/composition/, built once per container, lazily) and forgets them all at once.
 * The handlers import only their own composition module, so each Lambda bundle holds only what it calls.
 */
import { resetClients } from "./aws/clients";
import { resetAuthorizer } from "./composition/authorizer";
import { resetBase } from "./composition/base";
import { resetConnect } from "./composition/connect";
import { resetMessage } from "./composition/message";
import { resetWorker } from "./composition/worker";

export { tokenVerifier } from "./composition/authorizer";
export { runtimeConfig, runtimeLog } from "./composition/base";
export { connectDependencies } from "./composition/connect";
export { messageDependencies } from "./composition/message";
export { generateDependencies } from "./composition/worker";

/**
 * Forgets config, clients and dependencies so the next invocation reads the environment again. Lambda never
 * needs it; a process that starts several local stacks with different endpoints (tests) does.
 */
export function resetRuntime(): void {
  resetBase();
  resetAuthorizer();
  resetConnect();
  resetMessage();
  resetWorker();
  resetClients();
}
