/**
 * The SQS emulator of the local stack: fauxqs (npm), which speaks the AWS JSON protocol of @aws-sdk/client-sqs,
 * long-polls, counts receives and redrives to a dead-letter queue. One server for every region; each region gets
 * its job queue and dead-letter queue, as the program declares them per region (WORKER_MODE=ecs).
 */
import { mkdirSync } from "node:fs";
// fauxqs is an ES module only: its types resolve in import mode.
import type { FauxqsServer } from "fauxqs" with { "resolution-mode": "import" };

export interface RegionQueues {
  queueUrl: string;
  queueName: string;
  dlqUrl: string;
  dlqName: string;
}

export interface SqsEmulatorOptions {
  port?: number;
  /** Where queues and their messages survive restarts (SQLite); undefined: in memory. */
  dataDir?: string;
  /** The region `inspect` looks in (the primary). */
  region?: string;
}

/**
 * The queue's visibility timeout. A job is deleted once claimed, so this only bounds how long a job stays hidden
 * when its receiver is gone: a process killed before the claim, or a long poll cut off mid-wait (fauxqs still hands
 * the next job to the dead poll, which then returns after this long). Short, so a killed worker delays a job briefly.
 */
export const LOCAL_VISIBILITY_SECONDS = 5;

export class SqsEmulator {
  private server: FauxqsServer | undefined;

  constructor(private readonly options: SqsEmulatorOptions = {}) {}

  async start(): Promise<this> {
    const { startFauxqs } = await import("fauxqs");
    if (this.options.dataDir) mkdirSync(this.options.dataDir, { recursive: true });
    this.server = await startFauxqs({ port: this.options.port ?? 0, logger: false, host: "localhost", defaultRegion: this.options.region ?? "us-east-1", ...(this.options.dataDir ? { dataDir: this.options.dataDir } : {}) });
    return this;
  }

  /** `http://127.0.0.1:<port>`: AWS_ENDPOINT_URL_SQS for the handlers and the worker service. */
  get endpoint(): string {
    return this.started.address;
  }

  /** Creates (or finds) a region's job queue and its dead-letter queue, redriven after `maxReceives` receives. */
  queues(region: string, maxReceives: number): RegionQueues {
    const dlq = this.started.createQueue(`chat-jobs-${region}-dlq`, { region, attributes: { MessageRetentionPeriod: "1209600" } });
    const queue = this.started.createQueue(`chat-jobs-${region}`, {
      region,
      attributes: {
        VisibilityTimeout: String(LOCAL_VISIBILITY_SECONDS),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.queueArn, maxReceiveCount: maxReceives }),
      },
    });
    return { queueUrl: this.local(queue.queueUrl), queueName: queue.queueName, dlqUrl: this.local(dlq.queueUrl), dlqName: dlq.queueName };
  }

  /**
   * fauxqs names queues `http://sqs.<region>.localhost:<port>/…`; the SDK sends to a queue URL's host when it differs
   * from the endpoint, and `*.localhost` does not resolve everywhere. The same path on the endpoint reaches the same
   * queue (fauxqs takes the region from the request's signature).
   */
  private local(queueUrl: string): string {
    return `${this.endpoint}${new URL(queueUrl).pathname}`;
  }

  /** Messages waiting, delayed and in flight in a queue of the primary region (tests). */
  inspect(name: string) {
    return this.started.inspectQueue(name);
  }

  /** Messages in a queue of the primary region, in any state (0 when the queue does not exist). */
  depth(name: string): number {
    const q = this.inspect(name);
    return q ? q.messages.ready.length + q.messages.delayed.length + q.messages.inflight.length : 0;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
  }

  private get started(): FauxqsServer {
    if (!this.server) throw new Error("the SQS emulator is not started");
    return this.server;
  }
}
