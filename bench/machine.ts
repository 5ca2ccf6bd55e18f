/** The machine a run measured on, from the os module. */
import * as os from "node:os";

export interface Machine {
  cpu: string;
  cores: number;
  ramGb: number;
  node: string;
  platform: string;
  /** 1-minute load average at the start and end of the run (other work on the machine shows here). */
  loadAverage: number[];
}

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    ramGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverage: [os.loadavg()[0]],
  };
}
