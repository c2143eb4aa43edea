import { z } from "zod";

export const ProviderNameSchema = z.enum(["kwok", "kind", "kubeconfig"]);
export type ProviderName = z.infer<typeof ProviderNameSchema>;

/** Labels every cluster carries, so orphans can be found by who made them and for what. */
export const MANAGED_BY = "labgrader";

export const ClusterRecordSchema = z.object({
  name: z.string(),
  provider: ProviderNameSchema,
  kubeconfigPath: z.string(),
  createdAt: z.string(),
  /** The process that created the cluster; a cluster whose owner is gone is an orphan. */
  owner: z.object({ pid: z.number(), host: z.string(), startTicks: z.string() }),
  labels: z.record(z.string(), z.string()),
});
export type ClusterRecord = z.infer<typeof ClusterRecordSchema>;

export interface Cluster extends ClusterRecord {
  /** Deletes the cluster and returns once none of its processes, ports or files remain. */
  dispose(): Promise<void>;
}

export interface CreateClusterOptions {
  /** Defaults to lg-<random>. */
  name?: string;
  labels?: Record<string, string>;
}

export interface ClusterProvider {
  readonly name: ProviderName;
  create(options?: CreateClusterOptions): Promise<Cluster>;
  list(): Promise<ClusterRecord[]>;
  delete(name: string): Promise<void>;
}
