import { open, readFile, rm } from "node:fs/promises";
import { isAlive } from "./liveness.ts";

export interface FileLockOptions {
  /** Give up waiting after this long. */
  timeoutMs: number;
  /** How often to look again while another live process holds the lock. */
  pollMs?: number;
}

/**
 * Runs `work` while holding a lock file that names our pid, so several processes on one host
 * take turns. A lock whose owner is gone (crashed, killed) is taken over.
 */
export async function withFileLock<T>(path: string, work: () => Promise<T>, options: FileLockOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    try {
      const handle = await open(path, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST")
        throw new Error(`while taking the lock ${path}`, { cause: e });
    }
    const owner = Number((await readFile(path, "utf8").catch(() => "")).trim());
    if (Number.isInteger(owner) && owner > 0 && !isAlive(owner)) {
      await rm(path, { force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(`waited ${options.timeoutMs} ms for the lock ${path} (held by pid ${owner || "?"})`);
    // A file has no change notification we can rely on across processes here; the wait is short and bounded.
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 200));
  }
  try {
    return await work();
  } finally {
    await rm(path, { force: true });
  }
}
