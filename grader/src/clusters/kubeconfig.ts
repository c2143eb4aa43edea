import { existsSync } from "node:fs";
import { PROVIDERS } from "../contracts.ts";
import { MANAGED_BY_LABELS } from "../labels.ts";
import type { Cluster, ClusterProvider, ClusterRecord } from "./provider.ts";
import { currentOwner } from "./records.ts";

export interface KubeconfigProviderDeps {
  /** An existing cluster's kubeconfig, given by whoever runs the service. */
  kubeconfigPath: string;
  /** A name to show for it. */
  clusterName?: string;
}

/**
 * An existing cluster shared by every attempt. labgrader neither creates nor deletes it; attempts
 * stay apart by their own namespaces, and teardown is by label selector.
 */
export function createKubeconfigProvider(deps: KubeconfigProviderDeps): ClusterProvider {
  const name = deps.clusterName ?? "external";
  const record = (): ClusterRecord => ({
    name,
    provider: "kubeconfig",
    kubeconfigPath: deps.kubeconfigPath,
    createdAt: new Date().toISOString(),
    owner: currentOwner(),
    labels: { ...MANAGED_BY_LABELS },
  });
  return {
    name: "kubeconfig",
    operatorMode: PROVIDERS.kubeconfig.operatorMode,
    async create(): Promise<Cluster> {
      if (!existsSync(deps.kubeconfigPath)) throw new Error(`kubeconfig ${deps.kubeconfigPath} does not exist`);
      return { ...record(), dispose: async () => undefined };
    },
    async list() {
      return existsSync(deps.kubeconfigPath) ? [record()] : [];
    },
    async delete(clusterName: string) {
      if (clusterName !== name)
        throw new Error(`no cluster named ${clusterName}; the kubeconfig provider has only ${name}`);
      // The cluster is not ours to delete.
    },
  };
}
