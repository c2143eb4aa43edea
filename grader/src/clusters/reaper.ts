import type { ClusterProvider, ClusterRecord } from "./provider.ts";
import { ownerAlive } from "./records.ts";

export interface ReapOptions {
  /** Only clusters older than this are candidates (a cluster being created right now has a live owner anyway). */
  olderThanMs: number;
  now?: Date;
  isOwnerAlive?: (owner: ClusterRecord["owner"]) => boolean;
  log?: (line: string) => void;
}

/**
 * Deletes clusters older than the limit whose creating process is gone; returns the names it
 * deleted. One cluster that cannot be deleted is logged and left for the next reap: it must not
 * keep a worker from starting or the other orphans from going.
 */
export async function reapOrphans(provider: ClusterProvider, options: ReapOptions): Promise<string[]> {
  const now = (options.now ?? new Date()).getTime();
  const alive = options.isOwnerAlive ?? ownerAlive;
  const orphans = (await provider.list()).filter(
    (r) => now - Date.parse(r.createdAt) > options.olderThanMs && !alive(r.owner),
  );
  const reaped: string[] = [];
  for (const orphan of orphans) {
    options.log?.(`reaping orphaned ${orphan.provider} cluster ${orphan.name} (owner pid ${orphan.owner.pid} is gone)`);
    try {
      await provider.delete(orphan.name);
      reaped.push(orphan.name);
    } catch (e) {
      options.log?.(
        `could not reap ${orphan.name}, left for the next reap: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
  return reaped;
}
