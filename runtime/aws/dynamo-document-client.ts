/**
 * A DynamoDB document client whose item calls skip the SDK's per-call machinery: GetItem, PutItem, UpdateItem,
 * DeleteItem, Query, BatchGetItem and BatchWriteItem go to DynamoDB's JSON API (./aws-json.ts), marshalled with
 * @aws-sdk/util-dynamodb exactly where lib-dynamodb's commands marshal (keys, items, expression values, start keys)
 * and with the same translate options. A call costs the caller about a quarter of the SDK's CPU (0.23 of it, the
 * median over GetItem, UpdateItem, PutItem, a 50-item Query and an SQS send and receive: `npm run bench -- --only
 * calls`). The stores send the same lib-dynamodb commands either way; any other command, or an input with a legacy
 * parameter this does not marshal (Expected, AttributeUpdates, KeyConditions, QueryFilter), goes through the SDK.
 *
 * Region and credentials (the SDK's provider chain) come from the DynamoDB client's config, the endpoint as the SDK
 * finds it (./endpoints.ts).
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type TranslateConfig,
} from "@aws-sdk/lib-dynamodb";
import { marshall, unmarshall, type NativeAttributeValue } from "@aws-sdk/util-dynamodb";
import { awsJsonCall } from "./aws-json";
import { clientEndpoint, type EndpointConfig } from "./endpoints";
import { SignedHttpClient, type CallLimits } from "./signed-http";
import { callLimitsOf } from "./timeout";

type Operation = "GetItem" | "PutItem" | "UpdateItem" | "DeleteItem" | "Query" | "BatchGetItem" | "BatchWriteItem";
type Input = Record<string, unknown>;
type NativeItem = Record<string, NativeAttributeValue>;

/** Parameters of the legacy API that lib-dynamodb marshals and this does not: such calls go through the SDK. */
const LEGACY_PARAMETERS = ["Expected", "AttributeUpdates", "KeyConditions", "QueryFilter", "ScanFilter"];
const TARGET_PREFIX = "DynamoDB_20120810.";
/**
 * The SDK's Node.js handler keeps at most 50 sockets per host and queues the rest (@smithy/node-http-handler). Kept:
 * with a cap of 256, 200 concurrent chats in one process (the local stack's Lambda mode) pushed dynalite's tail past
 * the calls' 3 s deadline and a fifth of the answers failed; with 50, none did.
 */
const SDK_MAX_SOCKETS = 50;

export function operationOf(command: unknown): Operation | undefined {
  if (command instanceof GetCommand) return "GetItem";
  if (command instanceof PutCommand) return "PutItem";
  if (command instanceof UpdateCommand) return "UpdateItem";
  if (command instanceof DeleteCommand) return "DeleteItem";
  if (command instanceof QueryCommand) return "Query";
  if (command instanceof BatchGetCommand) return "BatchGetItem";
  if (command instanceof BatchWriteCommand) return "BatchWriteItem";
  return undefined;
}

/** Where the client's calls go (./endpoints.ts), with the account-id endpoints of DynamoDB's rules left out. */
export function dynamoEndpoint(client: DynamoDBClient, env: NodeJS.ProcessEnv = process.env): Promise<URL> {
  return clientEndpoint(client.config as unknown as EndpointConfig, "DYNAMODB", { AccountIdEndpointMode: "disabled" }, env);
}

export class LeanDocumentClient extends DynamoDBDocumentClient {
  private http: Promise<SignedHttpClient> | undefined;
  private readonly marshallOptions: TranslateConfig["marshallOptions"];
  private readonly unmarshallOptions: TranslateConfig["unmarshallOptions"];

  constructor(
    private readonly client: DynamoDBClient,
    translateConfig: TranslateConfig = {},
  ) {
    super(client, translateConfig);
    // Whole records are (un)marshalled here, where lib-dynamodb converts value by value: its commands set
    // convertTopLevelContainer and convertWithoutMapWrapper on the shared translate options, so this keeps its own copy.
    this.marshallOptions = { ...translateConfig.marshallOptions, convertTopLevelContainer: false };
    this.unmarshallOptions = { ...translateConfig.unmarshallOptions, convertWithoutMapWrapper: false };
  }

  // The base class's overloads, answered here for the item commands; callbacks and other commands go to the SDK.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override send(command: any, options?: any, callback?: any): any {
    const operation = operationOf(command);
    const input = (command as { input?: Input }).input;
    if (!operation || !input || typeof options === "function" || callback !== undefined || LEGACY_PARAMETERS.some((p) => input[p] !== undefined)) {
      return super.send(command, options, callback);
    }
    return this.call(operation, input, callLimitsOf(options));
  }

  override destroy(): void {
    const http = this.http;
    this.http = undefined;
    void http?.then((h) => h.destroy(), () => undefined);
    this.client.destroy();
  }

  private async call(operation: Operation, input: Input, limits: CallLimits): Promise<Record<string, unknown>> {
    const { output, $metadata } = await awsJsonCall(await this.connection(), `${TARGET_PREFIX}${operation}`, this.marshalInput(operation, input), limits);
    return { ...this.unmarshalOutput(operation, output), $metadata };
  }

  private connection(): Promise<SignedHttpClient> {
    if (!this.http) {
      this.http = this.resolveTarget();
      this.http.catch(() => (this.http = undefined));
    }
    return this.http;
  }

  private async resolveTarget(): Promise<SignedHttpClient> {
    const config = this.client.config;
    return new SignedHttpClient(
      { endpoint: await dynamoEndpoint(this.client), region: await config.region(), service: "dynamodb", credentials: () => config.credentials() },
      { maxSockets: SDK_MAX_SOCKETS },
    );
  }

  private m(value: unknown): Input | undefined {
    return value === undefined ? undefined : (marshall(value as NativeItem, this.marshallOptions) as Input);
  }

  private u(value: unknown): NativeItem | undefined {
    return value === undefined ? undefined : unmarshall(value as Parameters<typeof unmarshall>[0], this.unmarshallOptions);
  }

  /** lib-dynamodb's input key nodes for these commands: keys, items, expression values, start keys, batch members. */
  marshalInput(operation: Operation, input: Input): Input {
    const out: Input = { ...input };
    const set = (name: string, value: unknown) => {
      if (value === undefined) delete out[name];
      else out[name] = value;
    };
    switch (operation) {
      case "GetItem":
        set("Key", this.m(input.Key));
        break;
      case "PutItem":
        set("Item", this.m(input.Item));
        set("ExpressionAttributeValues", this.m(input.ExpressionAttributeValues));
        break;
      case "UpdateItem":
      case "DeleteItem":
        set("Key", this.m(input.Key));
        set("ExpressionAttributeValues", this.m(input.ExpressionAttributeValues));
        break;
      case "Query":
        set("ExpressionAttributeValues", this.m(input.ExpressionAttributeValues));
        set("ExclusiveStartKey", this.m(input.ExclusiveStartKey));
        break;
      case "BatchGetItem":
        set("RequestItems", mapValues(input.RequestItems as Record<string, Input>, (spec) => ({ ...spec, Keys: (spec.Keys as unknown[]).map((k) => this.m(k)) })));
        break;
      case "BatchWriteItem":
        set("RequestItems", mapValues(input.RequestItems as Record<string, unknown[]>, (requests) => requests.map((r) => this.writeRequest(r as Input, (v) => this.m(v)))));
        break;
    }
    return out;
  }

  /** lib-dynamodb's output key nodes: items, attributes, last evaluated keys, batch responses and what was left over. */
  unmarshalOutput(operation: Operation, output: Input): Input {
    const out: Input = { ...output };
    const set = (name: string, value: unknown) => {
      if (value !== undefined) out[name] = value;
    };
    switch (operation) {
      case "GetItem":
        set("Item", this.u(output.Item));
        break;
      case "PutItem":
      case "UpdateItem":
      case "DeleteItem":
        set("Attributes", this.u(output.Attributes));
        break;
      case "Query":
        set("Items", (output.Items as unknown[] | undefined)?.map((item) => this.u(item)));
        set("LastEvaluatedKey", this.u(output.LastEvaluatedKey));
        break;
      case "BatchGetItem":
        set("Responses", output.Responses && mapValues(output.Responses as Record<string, unknown[]>, (items) => items.map((item) => this.u(item))));
        set(
          "UnprocessedKeys",
          output.UnprocessedKeys && mapValues(output.UnprocessedKeys as Record<string, Input>, (spec) => ({ ...spec, Keys: (spec.Keys as unknown[]).map((k) => this.u(k)) })),
        );
        break;
      case "BatchWriteItem":
        set("UnprocessedItems", output.UnprocessedItems && mapValues(output.UnprocessedItems as Record<string, unknown[]>, (requests) => requests.map((r) => this.writeRequest(r as Input, (v) => this.u(v)))));
        break;
    }
    return out;
  }

  private writeRequest(request: Input, convert: (value: unknown) => unknown): Input {
    const put = request.PutRequest as Input | undefined;
    const del = request.DeleteRequest as Input | undefined;
    return {
      ...request,
      ...(put ? { PutRequest: { ...put, Item: convert(put.Item) } } : {}),
      ...(del ? { DeleteRequest: { ...del, Key: convert(del.Key) } } : {}),
    };
  }
}

/** The lean client, typed as the document client it stands in for (its `send` keeps lib-dynamodb's typed overloads). */
export function leanDocumentClient(client: DynamoDBClient, translateConfig: TranslateConfig = {}): DynamoDBDocumentClient {
  return new LeanDocumentClient(client, translateConfig);
}

function mapValues<T, U>(record: Record<string, T>, f: (value: T) => U): Record<string, U> {
  const out: Record<string, U> = {};
  for (const [key, value] of Object.entries(record)) out[key] = f(value);
  return out;
}
