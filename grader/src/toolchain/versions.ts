import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";

/** Pinned versions of every binary labgrader builds; the single source is grader/toolchain/versions.json. */
export const VersionsSchema = z.object({
  /** Kubernetes release of the control plane (and of kubelet/kubeadm for kind node images). */
  kubernetes: z.string().regex(/^v\d+\.\d+\.\d+$/),
  /** etcd server release. */
  etcd: z.string().regex(/^v\d+\.\d+\.\d+$/),
  /** kwok and kwokctl release. */
  kwok: z.string().regex(/^v\d+\.\d+\.\d+$/),
  /** controller-tools release, for controller-gen. */
  controllerTools: z.string().regex(/^v\d+\.\d+\.\d+$/),
  /** kind release. */
  kind: z.string().regex(/^v\d+\.\d+\.\d+$/),
  /** kustomize release (in-cluster deploys). */
  kustomize: z.string().regex(/^v\d+\.\d+\.\d+$/),
  /** CoreDNS release for kind node images; must be the version kubeadm of `kubernetes` deploys. */
  coredns: z.string().regex(/^v\d+\.\d+\.\d+$/),
  /** local-path-provisioner release for kind node images (the newest the Go module proxy serves). */
  localPathProvisioner: z.string().regex(/^v\d+\.\d+\.\d+$/),
  /** Debian suite the kind node and image root filesystems are bootstrapped from. */
  debianSuite: z.string().regex(/^[a-z]+$/),
});
export type Versions = z.infer<typeof VersionsSchema>;

export const toolchainModuleDir = fileURLToPath(new URL("../../toolchain/", import.meta.url));

export function loadVersions(): Versions {
  const raw: unknown = JSON.parse(readFileSync(`${toolchainModuleDir}versions.json`, "utf8"));
  return VersionsSchema.parse(raw);
}
