import type { GraderConfig } from "../config.ts";
import { hostCapacity } from "../grading/capacity.ts";
import type { Toolchain } from "../toolchain/build.ts";
import { kindBinaryPath } from "../toolchain/kind-binaries.ts";
import { createKindProvider } from "./kind.ts";
import { prepareKind } from "./kind-setup.ts";
import { createKubeconfigProvider } from "./kubeconfig.ts";
import { createKwokProvider } from "./kwok.ts";
import type { ProviderName } from "../contracts.ts";
import type { ClusterProvider } from "./provider.ts";

export interface ProviderDeps {
  config: GraderConfig;
  toolchain: Toolchain;
  env: Record<string, string | undefined>;
  log: (line: string) => void;
}

export function createProvider(name: ProviderName, deps: ProviderDeps): ClusterProvider {
  switch (name) {
    case "kwok":
      return createKwokProvider({
        toolchain: deps.toolchain,
        cacheDir: deps.config.cacheDir,
        env: deps.env,
        log: deps.log,
        starts: hostCapacity(deps.config).starts,
      });
    case "kind":
      return kindProvider(kindBinaryPath(deps.config.cacheDir), deps);
    case "kubeconfig":
      if (!deps.config.kubeconfig) throw new Error("the kubeconfig provider needs LABGRADER_KUBECONFIG");
      return createKubeconfigProvider({ kubeconfigPath: deps.config.kubeconfig });
  }
}

export interface PreparedProvider {
  provider: ClusterProvider;
  /** kubectl, which renders config/default: for providers that run operators in the cluster, and on kwok for labs whose managers run as a Deployment. */
  kubectl?: string;
}

/**
 * A provider whose host prerequisites are in place: for kind, the node image (loaded from its
 * cached archive, or built when `build` is true), kind and kubectl. kwok's toolchain is already in deps.
 */
export async function prepareProvider(
  name: ProviderName,
  deps: ProviderDeps,
  build: boolean,
): Promise<PreparedProvider> {
  switch (name) {
    case "kind": {
      const tools = await prepareKind(
        { cacheDir: deps.config.cacheDir, env: deps.env, log: deps.log, nodeImage: deps.config.kindNodeImage },
        build,
      );
      return { provider: kindProvider(tools.kind, deps), kubectl: tools.kubectl };
    }
    case "kwok":
      // A lab whose managers run as the project's Deployment renders config/default on kwok too.
      return { provider: createProvider(name, deps), kubectl: deps.toolchain.binaries.kubectl };
    case "kubeconfig":
      return { provider: createProvider(name, deps) };
  }
}

function kindProvider(kind: string, deps: ProviderDeps): ClusterProvider {
  const { config, env, log } = deps;
  return createKindProvider({
    kind,
    nodeImage: config.kindNodeImage,
    cacheDir: config.cacheDir,
    env,
    log,
    maxParallelCreates: config.kindParallelCreates,
  });
}
