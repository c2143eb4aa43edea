import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { runChecked } from "../process/command.ts";
import { newClusterName } from "./kwok.ts";
import { MANAGED_BY, type Cluster, type ClusterProvider, type ClusterRecord, type CreateClusterOptions } from "./provider.ts";
import { createRecordStore, currentOwner, orphanRecord } from "./records.ts";

export interface KindProviderDeps {
  /** The kind binary. */
  kind: string;
  /** Node image; a locally built one on hosts without a registry. */
  nodeImage: string;
  cacheDir: string;
  env: Record<string, string | undefined>;
  log: (line: string) => void;
  /** Runs a command and returns its stdout; injectable so command construction can be tested without Docker. */
  run?: (cmd: string, args: string[]) => Promise<string>;
}

/** The exact kind invocations the provider makes: kept pure so they can be checked without Docker. */
export const kindCommands = {
  create: (name: string, image: string, kubeconfig: string) => ["create", "cluster", "--name", name, "--image", image, "--kubeconfig", kubeconfig, "--wait", "120s"],
  delete: (name: string) => ["delete", "cluster", "--name", name],
  list: () => ["get", "clusters"],
};

/** `kind get clusters` prints one name per line, or "No kind clusters found." on stderr. */
export function parseKindClusters(stdout: string): string[] {
  return stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith("No kind clusters"));
}

export function createKindProvider(deps: KindProviderDeps): ClusterProvider {
  const records = createRecordStore(join(deps.cacheDir, "clusters"));
  const kubeconfigDir = join(deps.cacheDir, "kind");
  const run = deps.run ?? (async (cmd, args) => (await runChecked(cmd, args, { env: deps.env, timeoutMs: 300_000 })).stdout);

  async function remove(name: string): Promise<void> {
    await run(deps.kind, kindCommands.delete(name));
    await rm(join(kubeconfigDir, `${name}.kubeconfig`), { force: true });
    await records.remove(name);
  }

  return {
    name: "kind",
    async create(options: CreateClusterOptions = {}): Promise<Cluster> {
      const name = options.name ?? newClusterName();
      await mkdir(kubeconfigDir, { recursive: true });
      const record: ClusterRecord = {
        name,
        provider: "kind",
        kubeconfigPath: join(kubeconfigDir, `${name}.kubeconfig`),
        createdAt: new Date().toISOString(),
        owner: currentOwner(),
        labels: { "app.kubernetes.io/managed-by": MANAGED_BY, ...options.labels },
      };
      await records.save(record);
      try {
        await run(deps.kind, kindCommands.create(name, deps.nodeImage, record.kubeconfigPath));
      } catch (e) {
        await remove(name).catch(() => undefined);
        throw new Error(`while creating kind cluster ${name}`, { cause: e });
      }
      return { ...record, dispose: () => remove(name) };
    },
    async list() {
      const names = parseKindClusters(await run(deps.kind, kindCommands.list()));
      const known = (await records.list()).filter((r) => r.provider === "kind");
      const unrecorded = names
        .filter((n) => n.startsWith("lg-") && !known.some((r) => r.name === n))
        .map((n) => orphanRecord(n, "kind", join(kubeconfigDir, `${n}.kubeconfig`)));
      return [...known.filter((r) => names.includes(r.name)), ...unrecorded];
    },
    delete: remove,
  };
}
