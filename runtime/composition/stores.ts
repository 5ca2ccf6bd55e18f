/** The DynamoDB stores and the @connections sender shared by the message handler and the worker. */
import { dynamo } from "../aws/dynamo-client";
import { homeDynamo } from "../aws/home-dynamo-client";
import { managementApi } from "../aws/management-api-client";
import type { RuntimeConfig } from "../config";
import { ApiGatewayConnectionSender } from "../connections/sender";
import { DynamoConnectionStore } from "../store/dynamo-connections";
import { DynamoHistoryStore } from "../store/dynamo-history";
import { DynamoUserLedger } from "../store/dynamo-ledger";

export function stores(cfg: RuntimeConfig) {
  return {
    connections: new DynamoConnectionStore(dynamo, cfg.connectionsTable),
    history: new DynamoHistoryStore(dynamo, cfg.historyTable, cfg.historyRetentionDays),
    ledger: new DynamoUserLedger(dynamo, cfg.historyTable, Date.now, () => homeDynamo(cfg.home.region, cfg.home.dynamoEndpoint)),
    sender: new ApiGatewayConnectionSender((route) => (route ? managementApi(route.endpoint, route.region) : managementApi(cfg.connectionsEndpoint))),
  };
}
