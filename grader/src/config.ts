import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { ProviderNameSchema } from "./clusters/provider.ts";

/** The grader's configuration, read once from the environment by a main.ts. */
export const GraderConfigSchema = z.object({
  /** Folder for built binaries, cluster work dirs and cluster records (LABGRADER_CACHE_DIR). */
  cacheDir: z.string().min(1),
  /** Cluster provider used when a command does not name one (LABGRADER_PROVIDER). */
  provider: ProviderNameSchema,
  /** Kubeconfig of an existing cluster, for the kubeconfig provider (LABGRADER_KUBECONFIG). */
  kubeconfig: z.string().optional(),
  /** Node image for the kind provider (LABGRADER_KIND_NODE_IMAGE). */
  kindNodeImage: z.string().min(1),
});
export type GraderConfig = z.infer<typeof GraderConfigSchema>;

export function graderConfigFromEnv(env: Readonly<Record<string, string | undefined>>): GraderConfig {
  const cache = env.LABGRADER_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "labgrader");
  return GraderConfigSchema.parse({
    cacheDir: cache,
    provider: env.LABGRADER_PROVIDER ?? "kwok",
    kubeconfig: env.LABGRADER_KUBECONFIG,
    kindNodeImage: env.LABGRADER_KIND_NODE_IMAGE ?? "local/kind-node:v1.36.3",
  });
}
