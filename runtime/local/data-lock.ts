/**
 * One local stack per data directory: LevelDB (under dynalite) cannot be opened twice, and fails with an
 * unreadable error deep inside its iterator when it is. A pid file says who holds the directory.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export class DataDirInUseError extends Error {
  override name = "DataDirInUseError";
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  return !exited(pid);
}

/**
 * A process that was killed but not yet reaped by its parent (a zombie, state Z in /proc/<pid>/stat: proc(5))
 * still answers signal 0, yet holds nothing. Where there is no /proc, signal 0 is all there is to ask.
 */
function exited(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state === "Z" || state === "X";
  } catch {
    return false;
  }
}

/** Claims `dataDir` for this process; returns the release function. */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, "stack.pid");
  let holder: number | undefined;
  try {
    holder = Number(readFileSync(file, "utf8").trim());
  } catch {
    holder = undefined;
  }
  if (holder && holder !== process.pid && alive(holder)) {
    throw new DataDirInUseError(
      `Another local stack (pid ${holder}) is using ${dataDir}: stop it first, or give this one its own folder with LOCAL_DATA_DIR=…`,
    );
  }
  writeFileSync(file, String(process.pid));
  return () => rmSync(file, { force: true });
}
