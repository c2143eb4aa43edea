import { join } from "node:path";
import type { GraderConfig } from "../config.ts";
import { createSlotPool, type SlotPool } from "../process/host-slots.ts";
import { createManagerCache, type ManagerCache } from "../runner/manager-cache.ts";

/**
 * The host's budget, shared by every worker and command on it through the cache folder: how many
 * grades, builds and control-plane starts run at once. Whatever would exceed it waits its turn.
 */
export interface HostCapacity {
  grades: SlotPool;
  builds: SlotPool;
  starts: SlotPool;
}

export function hostCapacity(config: Pick<GraderConfig, "cacheDir" | "gradeSlots" | "buildSlots">): HostCapacity {
  const pool = (name: string, folder: string, size: number) =>
    createSlotPool({ dir: join(config.cacheDir, "slots", folder), name, size });
  return {
    grades: pool("grades", "grades", config.gradeSlots),
    builds: pool("builds", "builds", config.buildSlots),
    starts: pool("cluster starts", "cluster-starts", config.buildSlots),
  };
}

/** The host's kept managers (see runner/manager-cache.ts), in the cache folder; none when the configuration keeps none. */
export function hostManagerCache(config: Pick<GraderConfig, "cacheDir" | "managerCacheMiB">): ManagerCache | undefined {
  return config.managerCacheMiB > 0
    ? createManagerCache(join(config.cacheDir, "managers"), config.managerCacheMiB * 1024 * 1024)
    : undefined;
}
