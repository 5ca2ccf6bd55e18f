/** `$connect` / `$disconnect` dependencies: the connections table only. */
import { dynamo } from "../aws/dynamo-client";
import { systemClock } from "../chat/clock";
import type { ConnectDeps } from "../chat/connect";
import { DynamoConnectionStore } from "../store/dynamo-connections";
import { runtimeConfig } from "./base";

let connectDeps: ConnectDeps | undefined;

export function connectDependencies(): ConnectDeps {
  connectDeps ??= { connections: new DynamoConnectionStore(dynamo, runtimeConfig().connectionsTable), clock: systemClock };
  return connectDeps;
}

export function resetConnect(): void {
  connectDeps = undefined;
}
