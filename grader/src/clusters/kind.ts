import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import { PROVIDERS } from "../contracts.ts";
import { messageChain } from "../errors.ts";
import { createKubeClient } from "../kube/client.ts";
import { MANAGED_BY_LABELS } from "../labels.ts";
import { runCommand } from "../process/command.ts";
import { createLimiter } from "../process/limiter.ts";
import { admissionConfiguration, admissionFileName, kindClusterConfig } from "./kind-config.ts";
import { hardenKindCluster } from "./kind-hardening.ts";
import { addKindNetworkRules, kindNetwork, kindNetworkCommands, removeKindNetworkRules } from "./kind-network.ts";
import { newClusterName } from "./kwok.ts";
import { type Cluster, type ClusterProvider, type ClusterRecord, type CreateClusterOptions } from "./provider.ts";
import { createRecordStore, currentOwner, orphanRecord } from "./records.ts";

export interface KindProviderDeps {
  /** The kind binary. */
  kind: string;
  /** Node image; a locally built one on hosts without a registry. */
  nodeImage: string;
  cacheDir: string;
  env: Record<string, string | undefined>;
  log: (line: string) => void;
  /** Clusters this process creates at once (default 1): each start keeps both cores busy for ~30 s (kubeadm, etcd, image unpacking). */
  maxParallelCreates?: number;
  /** Runs a command (with more environment) and returns its stdout; injectable so command construction can be tested without Docker. */
  run?: (cmd: string, args: string[], env?: Record<string, string>) => Promise<string>;
  /** Puts a cluster's host rules in place and takes them away (kind-network.ts); injectable for the same reason. */
  firewall?: { add(cluster: string): Promise<void>; remove(cluster: string): Promise<void> };
  /** Applies labgrader's admission policies to a new cluster; injectable for the same reason. */
  harden?: (kubeconfigPath: string) => Promise<void>;
}

/** The exact kind and docker invocations the provider makes: kept pure so they can be checked without Docker. */
export const kindCommands = {
  create: (name: string, image: string, kubeconfig: string, config: string) => [
    "create",
    "cluster",
    "--name",
    name,
    "--image",
    image,
    "--kubeconfig",
    kubeconfig,
    "--config",
    config,
    "--wait",
    "180s",
  ],
  delete: (name: string, kubeconfig: string) => ["delete", "cluster", "--name", name, "--kubeconfig", kubeconfig],
  list: () => ["get", "clusters"],
  load: (name: string, image: string) => ["load", "docker-image", "--name", name, image],
  /** Containers and volumes kind labels with the cluster's name; none may remain after delete. */
  leftovers: (name: string) => [
    "ps",
    "-a",
    "--filter",
    `label=io.x-k8s.kind.cluster=${name}`,
    "--format",
    "{{.Names}}",
  ],
  leftoverVolumes: (name: string) => [
    "volume",
    "ls",
    "--filter",
    `label=io.x-k8s.kind.cluster=${name}`,
    "--format",
    "{{.Name}}",
  ],
  /** The state of the cluster's one node container ("running" while it is whole). */
  nodeState: (name: string) => ["inspect", "--format", "{{.State.Status}}", `${name}-control-plane`],
};

/** `kind get clusters` prints one name per line, or "No kind clusters found." on stderr. */
export function parseKindClusters(stdout: string): string[] {
  return stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith("No kind clusters"));
}

/**
 * What `kind create` printed that says why it failed: its ERROR line and kubeadm's "error
 * execution phase", without the Go stack that follows them.
 */
export function kindFailure(output: string): string {
  const lines = output
    .split("\n")
    .filter(
      (l) =>
        l.trim() &&
        !/^\s/.test(l) &&
        !/\.go:\d+$/.test(l) &&
        !/^(runtime|main|github\.com|k8s\.io|sigs\.k8s\.io)[./]/.test(l),
    );
  return lines.slice(0, 12).join("\n");
}

/** A failed creation is tried once more, from scratch: on a busy host kubeadm can miss its own deadlines. */
const CREATE_ATTEMPTS = 2;

/** Clusters of real nodes in Docker, from our node image, each on a network of its own and hardened so the learner's pods stay inside. */
export function createKindProvider(deps: KindProviderDeps): ClusterProvider {
  const records = createRecordStore(join(deps.cacheDir, "clusters"));
  const workDir = join(deps.cacheDir, "kind", "clusters");
  const dirOf = (name: string) => join(workDir, name);
  const kubeconfigOf = (name: string) => join(dirOf(name), "kubeconfig");
  const run =
    deps.run ??
    (async (cmd: string, args: string[], env?: Record<string, string>) => {
      const result = await runCommand(cmd, args, { env: { ...deps.env, ...env }, timeoutMs: 420_000 });
      if (result.code !== 0)
        throw new Error(
          `${cmd} ${args.slice(0, 4).join(" ")} failed (${result.signal ?? `exit ${result.code}`}):\n${kindFailure(result.stderr || result.stdout)}`,
        );
      return result.stdout;
    });
  const harden = deps.harden ?? ((kubeconfig: string) => hardenKindCluster(createKubeClient(kubeconfig)));
  const firewall = deps.firewall ?? { add: addKindNetworkRules, remove: removeKindNetworkRules };
  const limit = createLimiter(deps.maxParallelCreates ?? 1);

  function remove(name: string): Promise<void> {
    return records.deleting(name, () => removeNow(name));
  }

  async function removeNow(name: string): Promise<void> {
    await run(deps.kind, kindCommands.delete(name, kubeconfigOf(name)));
    const containers = parseKindClusters(await run("docker", kindCommands.leftovers(name)));
    const volumes = parseKindClusters(await run("docker", kindCommands.leftoverVolumes(name)));
    if (containers.length + volumes.length > 0)
      throw new Error(
        `kind delete left containers [${containers.join(", ")}] and volumes [${volumes.join(", ")}] of ${name}`,
      );
    // The cluster's own network (kind leaves a network it did not make), then its host rules.
    if (parseKindClusters(await run("docker", kindNetworkCommands.exists(name))).length > 0)
      await run("docker", kindNetworkCommands.remove(name));
    await firewall.remove(name);
    await rm(dirOf(name), { recursive: true, force: true });
    await records.remove(name);
  }

  async function createOnce(name: string, options: CreateClusterOptions): Promise<Cluster> {
    const record: ClusterRecord = {
      name,
      provider: "kind",
      kubeconfigPath: kubeconfigOf(name),
      createdAt: new Date().toISOString(),
      owner: currentOwner(),
      labels: { ...MANAGED_BY_LABELS, ...options.labels },
    };
    // Written first, so a crash during creation still leaves a findable orphan.
    await records.save(record);
    const started = Date.now();
    try {
      const dir = dirOf(name);
      await mkdir(join(dir, "node"), { recursive: true });
      await writeFile(join(dir, "node", admissionFileName), stringify(admissionConfiguration()));
      await writeFile(join(dir, "kind.yaml"), kindClusterConfig({ hostConfigDir: join(dir, "node") }));
      // Its network and host rules come first: the node is never on a network that reaches out.
      await run("docker", kindNetworkCommands.create(name));
      await firewall.add(name);
      await limit(() =>
        run(deps.kind, kindCommands.create(name, deps.nodeImage, record.kubeconfigPath, join(dir, "kind.yaml")), {
          KIND_EXPERIMENTAL_DOCKER_NETWORK: kindNetwork(name).name,
        }),
      );
      await harden(record.kubeconfigPath);
    } catch (e) {
      await remove(name).catch((cleanup: unknown) =>
        deps.log(`cleanup of kind cluster ${name} failed: ${String(cleanup)}`),
      );
      throw new Error(`while creating kind cluster ${name}`, { cause: e });
    }
    deps.log(`kind cluster ${name} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    // A node container that stopped (killed, out of memory) takes the control plane with it: no check can be judged after that.
    const problems = async (): Promise<string[]> => {
      const state = await run("docker", kindCommands.nodeState(name)).then(
        (out) => out.trim(),
        (e: unknown) => (/No such (object|container)/i.test(String(e)) ? "gone" : "running"),
      );
      return state === "running" ? [] : [`its node container ${name}-control-plane is ${state}`];
    };
    return {
      ...record,
      problems,
      dispose: () => remove(name),
      loadImage: async (image: string) => void (await run(deps.kind, kindCommands.load(name, image))),
    };
  }

  return {
    name: "kind",
    operatorMode: PROVIDERS.kind.operatorMode,
    async create(options: CreateClusterOptions = {}) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await createOnce(options.name ?? newClusterName(), options);
        } catch (e) {
          if (attempt >= CREATE_ATTEMPTS) throw e;
          deps.log(`retrying kind cluster creation: ${e instanceof Error ? messageChain(e) : String(e)}`);
        }
      }
    },
    async list() {
      const names = parseKindClusters(await run(deps.kind, kindCommands.list()));
      const known = (await records.list()).filter((r) => r.provider === "kind");
      const unrecorded = names
        .filter((n) => n.startsWith("lg-") && !known.some((r) => r.name === n))
        .map((n) => orphanRecord(n, "kind", kubeconfigOf(n)));
      // A record whose cluster kind no longer knows is still listed: its folder may remain to be reaped.
      return [...known, ...unrecorded];
    },
    delete: remove,
  };
}
