import type { KubeObject } from "../engine/trace.ts";
import type { KubeClient } from "../kube/client.ts";
import { MANAGED_BY_LABELS } from "../labels.ts";

/** How many claims a kwok cluster can bind: each Database replica takes one. */
export const VOLUME_POOL_SIZE = 48;
export const STORAGE_CLASS = "standard";

const labels = MANAGED_BY_LABELS;

/**
 * A kwok cluster has no kubelet and no volume provisioner. To let a StatefulSet's pods become
 * Ready as on a real cluster we add what a real one has: a Node that kwok manages (it marks the
 * node Ready and scheduled pods Running), a default StorageClass named like kind's, and a pool
 * of PersistentVolumes that the PV controller binds claims to.
 */
export function kwokBootstrapObjects(): KubeObject[] {
  const node: KubeObject = {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: "kwok-node-0",
      labels: { ...labels, "kubernetes.io/hostname": "kwok-node-0", "kubernetes.io/os": "linux", type: "kwok" },
      annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
    },
    status: {
      allocatable: { cpu: "64", memory: "256Gi", pods: "256" },
      capacity: { cpu: "64", memory: "256Gi", pods: "256" },
    },
  };
  const storageClass: KubeObject = {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: STORAGE_CLASS, labels, annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
    provisioner: "kubernetes.io/no-provisioner",
    volumeBindingMode: "Immediate",
    reclaimPolicy: "Delete",
  };
  const volumes = Array.from({ length: VOLUME_POOL_SIZE }, (_, i): KubeObject => ({
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: `kwok-pv-${i}`, labels },
    spec: {
      capacity: { storage: "100Gi" },
      accessModes: ["ReadWriteOnce"],
      persistentVolumeReclaimPolicy: "Retain",
      storageClassName: STORAGE_CLASS,
      hostPath: { path: `/var/lib/kwok-pv-${i}` },
    },
  }));
  return [node, storageClass, ...volumes];
}

export async function bootstrapKwokCluster(client: KubeClient): Promise<void> {
  const objects = kwokBootstrapObjects();
  // The Node's status is not part of an apply of the main resource: set it through /status too.
  for (const object of objects) await client.apply(object);
  const node = objects[0]!;
  await client.apply(
    { apiVersion: "v1", kind: "Node", metadata: { name: node.metadata.name }, status: node.status },
    { subresource: "status" },
  );
}
