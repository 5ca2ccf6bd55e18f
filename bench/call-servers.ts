/**
 * The emulators that bench/client-calls.ts calls, in a process of their own so that the benchmark's process CPU is the
 * clients' alone: dynalite with the project's tables and fauxqs with a job queue. Tells its parent where they are.
 */
import { startDynamo } from "../runtime/local/emulators/dynamodb";
import { SqsEmulator } from "../runtime/local/emulators/sqs";

export interface CallServers {
  dynamoEndpoint: string;
  historyTable: string;
  sqsEndpoint: string;
  queueUrl: string;
}

async function main(): Promise<void> {
  const dynamo = await startDynamo({ kind: "dynalite", region: "us-east-1", tablePrefix: "calls" });
  const sqs = await new SqsEmulator().start();
  const { queueUrl } = sqs.queues("us-east-1", 5);
  const servers: CallServers = { dynamoEndpoint: dynamo.endpoint, historyTable: dynamo.tables.history, sqsEndpoint: sqs.endpoint, queueUrl };
  process.send?.(servers);
  process.on("disconnect", () => process.exit(0));
}

void main();
