import { existsSync, readFileSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { delimiter, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { PROVIDERS } from "../contracts.ts";
import { MANAGED_BY_LABELS } from "../labels.ts";
import type { Toolchain } from "../toolchain/build.ts";
import { createKubeClient, type KubeClient } from "../kube/client.ts";
import { waitForObject } from "../kube/watch.ts";
import { runChecked, runCommand } from "../process/command.ts";
import type { SlotPool } from "../process/host-slots.ts";
import { identify, stillRunning, terminate, type ProcessIdentity } from "../process/liveness.ts";
import { reservePorts, type PortReservation } from "../process/ports.ts";
import { bootstrapKwokCluster } from "./bootstrap.ts";
import { RESTARTABLE_COMPONENTS, restartComponent } from "./kwok-restart.ts";
import { type Cluster, type ClusterProvider, type ClusterRecord, type CreateClusterOptions } from "./provider.ts";
import { createRecordStore, currentOwner, orphanRecord } from "./records.ts";

export interface KwokProviderDeps {
  toolchain: Toolchain;
  /** labgrader's cache folder: kwokctl's work dir and the cluster records live under it. */
  cacheDir: string;
  log: (line: string) => void;
  /** The environment for kwokctl (PATH and friends); KWOK_WORKDIR is set here. */
  env: Record<string, string | undefined>;
  /** How long kwokctl may take to report the control plane ready. */
  createTimeoutMs?: number;
  /**
   * Control planes that may be starting at once on this host, across processes: a start keeps
   * the cores busy for seconds, and many at once only make each slower.
   */
  starts: SlotPool;
}

/** A failed creation is retried once: a control plane that did not come up in time on a busy host may the next time. */
const CREATE_ATTEMPTS = 2;

/**
 * The ports of one control plane, reserved host-wide before kwokctl starts it: kwokctl would
 * probe for free ports itself, and two clusters created at the same moment could pick the same.
 */
const PORT_OPTIONS = [
  "etcdPeerPort",
  "etcdPort",
  "kubeApiserverPort",
  "kwokControllerPort",
  "kubeControllerManagerPort",
  "kubeSchedulerPort",
] as const;

/**
 * Components that would elect a leader by default. With one replica there is nothing to elect,
 * and on a starved host a lease not renewed within its deadline makes the component exit for
 * good (kwokctl's binary runtime restarts nothing): a cluster without its controller-manager
 * never makes a StatefulSet's pods, and every Database in it stays unready.
 */
const SINGLE_REPLICA_COMPONENTS = ["kube-controller-manager", "kube-scheduler"] as const;

/**
 * A grade's cluster lives for one grade and is thrown away whatever happens, so its etcd need not
 * wait for the disk to confirm each write: on a host whose disk is busy (other grades, a build, an
 * image import) every fsync would delay every write the operator and the grader make.
 */
const ETCD_WITHOUT_FSYNC = { name: "etcd", extraArgs: [{ key: "unsafe-no-fsync", value: "true" }] };

/**
 * kwokctl's options for one cluster: every component listens on loopback only (kwokctl's
 * default is every address, etcd without authentication) on the ports reserved for it.
 */
export function kwokctlConfiguration(ports: number[]): string {
  const options = Object.fromEntries(PORT_OPTIONS.map((option, i) => [option, ports[i]]));
  return JSON.stringify({
    apiVersion: "config.kwok.x-k8s.io/v1alpha1",
    kind: "KwokctlConfiguration",
    options: { bindAddress: "127.0.0.1", ...options },
    componentsPatches: [
      ...SINGLE_REPLICA_COMPONENTS.map((name) => ({
        name,
        extraArgs: [{ key: "leader-elect", value: "false" }],
      })),
      ETCD_WITHOUT_FSYNC,
    ],
  });
}

export interface ComponentProcess extends ProcessIdentity {
  component: string;
}

/** What is wrong with a running control plane: each component whose process is gone, with its last error if its log has one. */
export function exitedComponents(
  started: ComponentProcess[],
  running: (p: ComponentProcess) => boolean,
  lastError: (component: string) => string | undefined = () => undefined,
): string[] {
  return started
    .filter((p) => !running(p))
    .map((p) => {
      const error = lastError(p.component);
      return `its ${p.component} exited${error ? ` (its log: ${error})` : ""}`;
    });
}

/**
 * Why a component exited, when its log says: its last line, if an error or fatal one, without
 * klog's header (severity, date, time, pid, file:line). A process killed from outside ends on
 * whatever it was doing, which is no reason.
 */
export function lastKlogError(log: string): string | undefined {
  const line = log.trimEnd().split("\n").at(-1) ?? "";
  if (!/^[EF]\d{4} /.test(line)) return undefined;
  return line.replace(/^[EF]\d{4} [\d:.]+\s+\d+ [^\]]+\] /, "").slice(0, 300);
}

/** How long a new control plane may take to run its controllers (a busy host starts them slowly). */
const SETTLE_TIMEOUT_MS = 90_000;

export function newClusterName(): string {
  return `lg-${randomBytes(4).toString("hex")}`;
}

/** Clusters from kwokctl's binary runtime: etcd, kube-apiserver, controller-manager, scheduler and kwok as host processes. */
export function createKwokProvider(deps: KwokProviderDeps): ClusterProvider {
  const workDir = join(deps.cacheDir, "kwok");
  const records = createRecordStore(join(deps.cacheDir, "clusters"));
  const clusterDir = (name: string) => join(workDir, "clusters", name);
  const configFile = (name: string) => join(workDir, "configs", `${name}.yaml`);
  const portsDir = join(workDir, "ports");
  const bin = deps.toolchain.binaries;
  // kwokctl runs `kubectl` from its PATH (to wait for the cluster) and downloads one when there is none:
  // the toolchain's, pinned to the control plane's version, comes first.
  const env = {
    ...deps.env,
    KWOK_WORKDIR: workDir,
    PATH: [dirname(bin.kubectl), deps.env.PATH].filter(Boolean).join(delimiter),
  };

  /** Each component's process, from kwokctl's pid files (named after the component's binary). */
  async function componentPids(name: string): Promise<ComponentProcess[]> {
    const dir = join(clusterDir(name), "pids");
    const files = await readdir(dir).catch(() => [] as string[]);
    // A process's pid file can vanish between readdir and readFile (kwokctl removing it).
    const pids = await Promise.all(
      files.map(async (f) => ({
        component: f.replace(/\.pid$/, ""),
        pid: Number((await readFile(join(dir, f), "utf8").catch(() => "")).trim()),
      })),
    );
    return pids
      .filter((p) => Number.isInteger(p.pid) && p.pid > 0)
      .map((p) => ({ component: p.component, ...identify(p.pid) }));
  }

  function lastErrorOf(name: string, component: string): string | undefined {
    try {
      return lastKlogError(readFileSync(join(clusterDir(name), "logs", `${component}.log`), "utf8").slice(-64 * 1024));
    } catch {
      return undefined;
    }
  }

  /**
   * kwokctl reports a cluster ready once its API server answers, while the controller-manager may
   * still be starting, and it exits for good if its start fails (an API server not healthy within
   * its 10 s, discovery failing): a creation counts once the controllers run (the serviceaccount
   * controller has made the default namespace's ServiceAccount) and every component still runs.
   * A controller-manager or scheduler that gave up while the API server was still starting is
   * started again, once; `started` is updated in place to the process that runs.
   */
  async function settled(name: string, admin: KubeClient, started: ComponentProcess[]): Promise<void> {
    const throwIfExited = () => {
      const problems = exitedOf(name, started);
      if (problems.length > 0) throw new Error(`the control plane broke while starting: ${problems.join(", ")}`);
    };
    const restarted = new Set<string>();
    const restartOrThrow = async () => {
      for (const [i, p] of started.entries()) {
        if (stillRunning(p) || !RESTARTABLE_COMPONENTS.has(p.component) || restarted.has(p.component)) continue;
        restarted.add(p.component);
        deps.log(
          `${name}: ${p.component} exited while the control plane started (${lastErrorOf(name, p.component) ?? "no error in its log"}); starting it again`,
        );
        started[i] = { component: p.component, ...(await restartComponent(clusterDir(name), p.component, env)) };
      }
      throwIfExited();
    };
    let look: NodeJS.Timeout | undefined;
    let looking = false;
    const broken = new Promise<never>((_, reject) => {
      look = setInterval(() => {
        if (looking) return;
        looking = true;
        restartOrThrow()
          .catch(reject)
          .finally(() => (looking = false));
      }, 500);
    });
    try {
      const serviceAccount = { apiVersion: "v1", kind: "ServiceAccount", namespace: "default", name: "default" };
      await Promise.race([
        waitForObject(
          admin,
          serviceAccount,
          () => true,
          SETTLE_TIMEOUT_MS,
          "the controller-manager to make the default ServiceAccount",
        ),
        broken,
      ]);
    } finally {
      clearInterval(look);
    }
    throwIfExited();
  }

  /** The components of a cluster that exited since they started, each with its log's last error. */
  function exitedOf(name: string, started: ComponentProcess[]): string[] {
    return exitedComponents(started, stillRunning, (component) => lastErrorOf(name, component));
  }

  async function clusterPids(name: string): Promise<number[]> {
    return (await componentPids(name)).map((p) => p.pid);
  }

  function remove(name: string): Promise<void> {
    return records.deleting(name, () => removeNow(name));
  }

  async function removeNow(name: string): Promise<void> {
    const pids = await clusterPids(name);
    if (existsSync(clusterDir(name))) {
      const result = await runCommand(bin.kwokctl, ["delete", "cluster", "--name", name], { env, timeoutMs: 60_000 });
      if (result.code !== 0)
        deps.log(`kwokctl delete cluster ${name} failed; killing its processes: ${result.stderr.trim()}`);
    }
    // kwokctl returns before its processes have exited.
    const left = await terminate(pids, 10_000);
    if (left.length > 0) throw new Error(`processes ${left.join(", ")} of cluster ${name} survived SIGKILL`);
    await rm(clusterDir(name), { recursive: true, force: true });
    await rm(configFile(name), { force: true });
    await records.remove(name);
  }

  return {
    name: "kwok",
    operatorMode: PROVIDERS.kwok.operatorMode,
    async create(options: CreateClusterOptions = {}): Promise<Cluster> {
      for (let attempt = 1; ; attempt++) {
        try {
          const start = await deps.starts.acquire(
            `kwok cluster for ${options.labels?.["labgrader.dev/attempt"] ?? "a grade"}`,
          );
          try {
            return await createOnce(options);
          } finally {
            await start.release();
          }
        } catch (e) {
          if (attempt >= CREATE_ATTEMPTS || options.name) throw e;
          deps.log(`retrying cluster creation: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    },
    list: listClusters,
    delete: remove,
  };

  async function createOnce(options: CreateClusterOptions): Promise<Cluster> {
    const name = options.name ?? newClusterName();
    const record: ClusterRecord = {
      name,
      provider: "kwok",
      kubeconfigPath: join(clusterDir(name), "kubeconfig.yaml"),
      createdAt: new Date().toISOString(),
      owner: currentOwner(),
      labels: { ...MANAGED_BY_LABELS, ...options.labels },
    };
    // Written first, so a crash during creation still leaves a findable orphan.
    await records.save(record);
    let ports: PortReservation | undefined;
    let started: ComponentProcess[] | undefined;
    try {
      ports = await reservePorts(portsDir, PORT_OPTIONS.length, `kwok cluster ${name}`);
      await mkdir(join(workDir, "configs"), { recursive: true });
      await writeFile(configFile(name), kwokctlConfiguration(ports.ports));
      await runChecked(
        bin.kwokctl,
        [
          "create",
          "cluster",
          "--name",
          name,
          "--runtime",
          "binary",
          "--kube-apiserver-binary",
          bin["kube-apiserver"],
          "--kube-controller-manager-binary",
          bin["kube-controller-manager"],
          "--kube-scheduler-binary",
          bin["kube-scheduler"],
          "--etcd-binary",
          bin.etcd,
          "--kwok-controller-binary",
          bin.kwok,
          "--secure-port=true",
          "--kube-authorization=true",
          "--kubeconfig",
          "",
          "--config",
          configFile(name),
          "--wait",
          `${Math.round((deps.createTimeoutMs ?? 60_000) / 1000)}s`,
        ],
        { env, timeoutMs: (deps.createTimeoutMs ?? 60_000) + 30_000 },
      );
      // Known as soon as kwokctl is done: a component whose process is gone later has exited.
      started = await componentPids(name);
      const admin = createKubeClient(record.kubeconfigPath);
      await bootstrapKwokCluster(admin);
      await settled(name, admin, started);
    } catch (e) {
      await remove(name).catch((cleanup: unknown) => deps.log(`cleanup of ${name} failed: ${String(cleanup)}`));
      await ports?.release();
      throw new Error(`while creating kwok cluster ${name}`, { cause: e });
    }
    const reserved = ports;
    const components = started ?? [];
    return {
      ...record,
      problems: async () => exitedOf(name, components),
      dispose: async () => {
        await remove(name);
        await reserved.release();
      },
    };
  }

  async function listClusters(): Promise<ClusterRecord[]> {
    const known = await records.list();
    // A cluster directory without a record was not made through us, or its record was lost: list it as an orphan.
    const dirs = await readdir(join(workDir, "clusters")).catch(() => [] as string[]);
    const unrecorded = dirs
      .filter((d) => !known.some((r) => r.name === d))
      .map((d) => orphanRecord(d, "kwok", join(clusterDir(d), "kubeconfig.yaml")));
    return [...known.filter((r) => r.provider === "kwok"), ...unrecorded];
  }
}
