import { stringify } from "yaml";

/** Where the node finds labgrader's API server configuration (mounted from the host, read-only). */
export const NODE_CONFIG_DIR = "/etc/kubernetes/labgrader";
const ADMISSION_FILE = "admission.yaml";

/**
 * Namespaces whose pods are Kubernetes' own and must stay privileged: kind's kube-proxy and CNI
 * run hostNetwork and privileged, and the local-path provisioner's helper pods mount host paths.
 * Grading code never lets an operator write there (kind-hardening.ts).
 */
export const SYSTEM_NAMESPACES = ["kube-system", "local-path-storage"] as const;

/**
 * Pod Security admission for the whole cluster: every namespace that does not say otherwise
 * enforces `baseline`, so no pod an operator makes — in a fixture's namespace, in `default`, or in
 * a namespace it creates — can be privileged, share the host's namespaces or mount a host path.
 */
export function admissionConfiguration(): object {
  return {
    apiVersion: "apiserver.config.k8s.io/v1",
    kind: "AdmissionConfiguration",
    plugins: [
      {
        name: "PodSecurity",
        configuration: {
          apiVersion: "pod-security.admission.config.k8s.io/v1",
          kind: "PodSecurityConfiguration",
          defaults: {
            enforce: "baseline",
            "enforce-version": "latest",
            warn: "baseline",
            "warn-version": "latest",
            audit: "baseline",
            "audit-version": "latest",
          },
          exemptions: { usernames: [], runtimeClasses: [], namespaces: [...SYSTEM_NAMESPACES] },
        },
      },
    ],
  };
}

export interface KindClusterConfigOptions {
  /** Host folder holding admission.yaml; mounted into the control-plane node. */
  hostConfigDir: string;
}

/**
 * The kind cluster configuration: one control-plane node whose API server reads our admission
 * configuration. kubeadm v1beta4 (Kubernetes ≥ 1.31) takes extraArgs as a list of name/value pairs.
 */
export function kindClusterConfig(options: KindClusterConfigOptions): string {
  const clusterConfiguration = {
    kind: "ClusterConfiguration",
    apiServer: {
      extraArgs: [{ name: "admission-control-config-file", value: `${NODE_CONFIG_DIR}/${ADMISSION_FILE}` }],
      extraVolumes: [
        {
          name: "labgrader",
          hostPath: NODE_CONFIG_DIR,
          mountPath: NODE_CONFIG_DIR,
          readOnly: true,
          pathType: "Directory",
        },
      ],
    },
  };
  return stringify({
    kind: "Cluster",
    apiVersion: "kind.x-k8s.io/v1alpha4",
    nodes: [
      {
        role: "control-plane",
        extraMounts: [{ hostPath: options.hostConfigDir, containerPath: NODE_CONFIG_DIR, readOnly: true }],
      },
    ],
    kubeadmConfigPatches: [stringify(clusterConfiguration)],
  });
}

export const admissionFileName = ADMISSION_FILE;
