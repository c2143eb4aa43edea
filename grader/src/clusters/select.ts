import type { GraderConfig } from "../config.ts";
import type { Toolchain } from "../toolchain/build.ts";
import { createKindProvider } from "./kind.ts";
import { createKubeconfigProvider } from "./kubeconfig.ts";
import { createKwokProvider } from "./kwok.ts";
import type { ClusterProvider, ProviderName } from "./provider.ts";

export interface ProviderDeps {
  config: GraderConfig;
  toolchain: Toolchain;
  env: Record<string, string | undefined>;
  log: (line: string) => void;
}

export function createProvider(name: ProviderName, deps: ProviderDeps): ClusterProvider {
  switch (name) {
    case "kwok":
      return createKwokProvider({ toolchain: deps.toolchain, cacheDir: deps.config.cacheDir, env: deps.env, log: deps.log });
    case "kind":
      return createKindProvider({ kind: "kind", nodeImage: deps.config.kindNodeImage, cacheDir: deps.config.cacheDir, env: deps.env, log: deps.log });
    case "kubeconfig":
      if (!deps.config.kubeconfig) throw new Error("the kubeconfig provider needs LABGRADER_KUBECONFIG");
      return createKubeconfigProvider({ kubeconfigPath: deps.config.kubeconfig });
  }
}
