import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { withFileLock } from "../process/file-lock.ts";
import { ownIdentity, stillRunning } from "../process/liveness.ts";
import { ClusterRecordSchema, type ClusterRecord } from "./provider.ts";

export function currentOwner(): ClusterRecord["owner"] {
  return { ...ownIdentity(), host: hostname() };
}

export function ownerAlive(owner: ClusterRecord["owner"]): boolean {
  if (!owner.host) return false; // no record of an owner: nobody will clean it up
  if (owner.host !== hostname()) return true; // another host's process: not ours to judge
  return stillRunning(owner);
}

/** A cluster found on disk or in Docker without a record: nobody owns it, so the reaper may take it. */
export function orphanRecord(name: string, provider: ClusterRecord["provider"], kubeconfigPath: string): ClusterRecord {
  return {
    name,
    provider,
    kubeconfigPath,
    createdAt: new Date(0).toISOString(),
    owner: { pid: 0, host: "", startTicks: "" },
    labels: {},
  };
}

/** Cluster records live in one folder, one JSON file per cluster, written before the cluster exists. */
export function createRecordStore(dir: string) {
  const file = (name: string) => join(dir, `${name}.json`);
  return {
    async save(record: ClusterRecord): Promise<void> {
      await mkdir(dir, { recursive: true });
      await writeFile(file(record.name), JSON.stringify(record, null, 2));
    },
    async remove(name: string): Promise<void> {
      await rm(file(name), { force: true });
    },
    /**
     * Runs one deletion of the cluster at a time across processes: two reapers (a restarted
     * worker and `cluster reap`, say) may pick the same orphan, and the second then finds
     * nothing left to delete instead of racing the first through its files.
     */
    async deleting<T>(name: string, work: () => Promise<T>): Promise<T> {
      await mkdir(dir, { recursive: true });
      return withFileLock(join(dir, `${name}.delete.lock`), work, { timeoutMs: 10 * 60_000 });
    },
    async get(name: string): Promise<ClusterRecord | undefined> {
      try {
        return ClusterRecordSchema.parse(JSON.parse(await readFile(file(name), "utf8")));
      } catch {
        return undefined;
      }
    },
    async list(): Promise<ClusterRecord[]> {
      const names = await readdir(dir).catch(() => [] as string[]);
      const records = await Promise.all(names.filter((n) => n.endsWith(".json")).map((n) => this.get(n.slice(0, -5))));
      return records.filter((r): r is ClusterRecord => r !== undefined);
    },
  };
}
export type RecordStore = ReturnType<typeof createRecordStore>;
