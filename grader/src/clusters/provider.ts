import { z } from "zod";
import { ProviderNameSchema, type OperatorMode, type ProviderName } from "../contracts.ts";
import { ProcessIdentitySchema } from "../process/liveness.ts";

export const ClusterRecordSchema = z.object({
  name: z.string(),
  provider: ProviderNameSchema,
  kubeconfigPath: z.string(),
  createdAt: z.string(),
  /** The process that created the cluster; a cluster whose owner is gone is an orphan. */
  owner: ProcessIdentitySchema.extend({ host: z.string() }),
  labels: z.record(z.string(), z.string()),
});
export type ClusterRecord = z.infer<typeof ClusterRecordSchema>;

export interface Cluster extends ClusterRecord {
  /** Deletes the cluster and returns once none of its processes, ports or files remain. */
  dispose(): Promise<void>;
  /**
   * What has gone wrong with the cluster itself since it was made (a control-plane component
   * that exited), as phrases a reader can follow "the cluster: …" with; empty while it is whole.
   * Checks judged on a broken cluster say nothing about the operator.
   */
  problems?(): Promise<string[]>;
  /** Puts a locally built image into every node (clusters whose operatorMode is "in-cluster"). */
  loadImage?(image: string): Promise<void>;
}

export interface CreateClusterOptions {
  /** Defaults to lg-<random>. */
  name?: string;
  labels?: Record<string, string>;
}

export interface ClusterProvider {
  readonly name: ProviderName;
  /** Declared once per provider, in contracts.ts's PROVIDERS. */
  readonly operatorMode: OperatorMode;
  create(options?: CreateClusterOptions): Promise<Cluster>;
  list(): Promise<ClusterRecord[]>;
  delete(name: string): Promise<void>;
}
