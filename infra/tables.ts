/**
 * The two DynamoDB global tables (version 2019.11.21), declared from `runtime/store/schema.ts`: created in the
 * primary region through its provider, with one replica in every other configured region.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { tables, type KeyAttribute, type TableSchema } from "../runtime/store/schema";

export interface ChatTablesArgs {
  /** Regions that hold a replica besides the primary (the provider's region). */
  readonly replicaRegions: readonly string[];
  /** Deletion protection on the tables and every replica (off in dev stacks so they can be torn down). */
  readonly deletionProtection: pulumi.Input<boolean>;
  /** Pulumi's `protect` on the tables (a plain boolean: resource options are not inputs). */
  readonly protect: boolean;
}

export interface TableRef {
  name: pulumi.Output<string>;
  schema: TableSchema;
}

export class ChatTables extends pulumi.ComponentResource {
  public readonly connections: TableRef;
  public readonly history: TableRef;

  constructor(name: string, args: ChatTablesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chat:tables:ChatTables", name, {}, opts);
    const byName = Object.fromEntries(
      tables.map((schema) => [schema.logicalName, this.table(`${name}-${schema.logicalName}`, schema, args)]),
    ) as Record<TableSchema["logicalName"], TableRef>;
    this.connections = byName.connections;
    this.history = byName.history;
    this.registerOutputs({ connectionsTableName: this.connections.name, historyTableName: this.history.name });
  }

  private table(name: string, schema: TableSchema, args: ChatTablesArgs): TableRef {
    const table = new aws.dynamodb.Table(
      name,
      {
        billingMode: "PAY_PER_REQUEST",
        hashKey: schema.hashKey.name,
        ...(schema.rangeKey ? { rangeKey: schema.rangeKey.name } : {}),
        attributes: attributesOf(schema),
        globalSecondaryIndexes: schema.globalIndexes.map((index) => ({
          name: index.name,
          projectionType: "ALL",
          keySchemas: [
            { attributeName: index.hashKey.name, keyType: "HASH" },
            ...(index.rangeKey ? [{ attributeName: index.rangeKey.name, keyType: "RANGE" }] : []),
          ],
        })),
        ttl: { attributeName: schema.ttlAttribute, enabled: true },
        // Global tables need streams with both images (DynamoDB global tables, version 2019.11.21).
        streamEnabled: true,
        streamViewType: "NEW_AND_OLD_IMAGES",
        pointInTimeRecovery: { enabled: true },
        // Encrypted with the AWS managed key `alias/aws/dynamodb` (KMS), in every replica.
        serverSideEncryption: { enabled: true },
        deletionProtectionEnabled: args.deletionProtection,
        replicas: args.replicaRegions.map((regionName) => ({
          regionName,
          pointInTimeRecovery: true,
          propagateTags: true,
          deletionProtectionEnabled: args.deletionProtection,
        })),
      },
      // Outside dev, Pulumi refuses to delete the tables too (`pulumi state unprotect` first, on purpose).
      { parent: this, protect: args.protect },
    );
    return { name: table.name, schema };
  }
}

/** Only key attributes are declared (DynamoDB rejects attribute definitions that no key uses). */
function attributesOf(schema: TableSchema): { name: string; type: string }[] {
  const keys: KeyAttribute[] = [schema.hashKey, ...(schema.rangeKey ? [schema.rangeKey] : [])];
  for (const index of schema.globalIndexes) keys.push(index.hashKey, ...(index.rangeKey ? [index.rangeKey] : []));
  const unique = new Map(keys.map((key) => [key.name, key.type]));
  return [...unique].map(([name, type]) => ({ name, type }));
}
