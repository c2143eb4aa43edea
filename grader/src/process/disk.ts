import { statfs } from "node:fs/promises";

/** Below this, a grade on this host is likely to fail for want of disk, whatever the project. */
export const MIN_FREE_DISK_BYTES = 1024 ** 3;

const DISK_FULL = /no space left on device|disk quota exceeded/i;

/** Whether a tool's output says it could not write for want of disk. */
export function saysDiskFull(output: string): boolean {
  return DISK_FULL.test(output);
}

/** Bytes an unprivileged writer may still use on the filesystem holding path; undefined when it cannot be read. */
export async function freeDiskBytes(path: string): Promise<number | undefined> {
  try {
    const s = await statfs(path);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

/** The first of these folders whose filesystem has less than minFree bytes left, with what it has. */
export async function shortOfDisk(
  paths: string[],
  minFree = MIN_FREE_DISK_BYTES,
): Promise<{ path: string; freeBytes: number } | undefined> {
  for (const path of paths) {
    const free = await freeDiskBytes(path);
    if (free !== undefined && free < minFree) return { path, freeBytes: free };
  }
  return undefined;
}

export function describeShortage({ path, freeBytes }: { path: string; freeBytes: number }): string {
  return `this host has ${(freeBytes / 1024 ** 2).toFixed(0)} MiB of disk left where it grades (${path}), less than the ${MIN_FREE_DISK_BYTES / 1024 ** 3} GiB a grade needs`;
}
