import {
  access,
  chmod,
  chown,
  constants,
  copyFile,
  lstat,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
} from "node:fs/promises";
import { execFile } from "node:child_process";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { z } from "zod";
import type { GraderConfig } from "../config.ts";
import type { ManagerSandbox } from "./manager.ts";
import {
  cgroupProblems,
  createCgroups,
  killCgroupTasks,
  killUidProcesses,
  parentDirs,
  readEvents,
  removeCgroups,
  type CgroupEvents,
  type CgroupLimits,
} from "./sandbox-cgroup.ts";
import { INSTALL_DIR } from "./reference.ts";
import { launchCommand, UNSHARE_NAMESPACES } from "./sandbox-launch.ts";
import { startRelays } from "./sandbox-relay.ts";
import {
  addFirewallRules,
  apiServerEndpoints,
  firewallProblems,
  removeFirewallRules,
  type Endpoint,
} from "./sandbox-firewall.ts";
import {
  allocateUid,
  claimUidRange,
  lockUid,
  prepareLockDir,
  releaseUid,
  reapUid,
  removeAbandonedReaping,
  staleUids,
} from "./sandbox-uids.ts";

/** How each learner's manager is confined (GradeOptions.sandbox); built from GraderConfig by sandboxSettings(). */
export const SandboxSettingsSchema = z.object({
  /** Root-owned folder for uid locks and the sandboxes' homes; it and its parents must be traversable by others. */
  root: z.string().min(1),
  /** Uids (and gids of the same number) handed out one per running manager; none may belong to a real account. */
  uids: z.object({ first: z.number().int().min(1000), last: z.number().int() }),
  /** Memory (and memory+swap) limit of the whole sandbox. */
  memoryBytes: z.number().int().positive(),
  /** cgroup v1 pids.max; counts threads, and a Go manager runs about twenty. */
  pids: z.number().int().positive(),
  /** CPU quota in cores. */
  cpuCores: z.number().positive(),
  /** The manager is killed after this long, whatever it is doing. */
  wallClockMs: z.number().int().positive(),
  /** Where the cgroup v1 controllers are mounted. */
  cgroupMount: z.string().min(1).default("/sys/fs/cgroup"),
  /** Folders of ours (cache, workspaces) the probe checks a sandbox cannot read. */
  protectedPaths: z.array(z.string()).default([]),
  /** Folders that look empty inside a sandbox: labgrader's install (reference operator, labs, mutants), caches, workspaces. */
  hiddenPaths: z.array(z.string()).default([]),
  /**
   * labgrader-seccomp as the toolchain built it (in the cache, which sandboxes cannot read): each
   * host installs a root-owned copy under root/bin, which every sandboxed command runs under.
   */
  seccomp: z.string().min(1),
  /** What a learner's build may use (it runs sandboxed too). */
  build: z
    .object({
      memoryBytes: z.number().int().positive(),
      pids: z.number().int().positive(),
      cpuCores: z.number().positive(),
      scratchBytes: z.number().int().positive(),
      maxFileBytes: z.number().int().positive(),
    })
    .default({
      memoryBytes: 3 * 1024 ** 3,
      pids: 1024,
      cpuCores: availableParallelism(),
      scratchBytes: 2 * 1024 ** 3,
      maxFileBytes: 512 * 1024 ** 2,
    }),
});
export type SandboxSettings = z.infer<typeof SandboxSettingsSchema>;

/**
 * The settings a grader's configuration asks for; the cache (toolchain, clusters' admin kubeconfigs)
 * must stay closed to sandboxes. `seccomp` is the toolchain's labgrader-seccomp (by default where
 * `labgrader toolchain` builds it), `protectedPaths` more folders to keep closed (workspaces).
 */
export function sandboxSettings(
  config: GraderConfig,
  more: { protectedPaths?: string[]; seccomp?: string } = {},
): SandboxSettings {
  const protectedPaths = more.protectedPaths ?? [];
  const [first, last] = config.sandboxUids.split("-").map(Number) as [number, number];
  return SandboxSettingsSchema.parse({
    root: config.sandboxDir,
    uids: { first, last },
    memoryBytes: Math.round(config.sandboxMemoryMiB * 1024 * 1024),
    pids: config.sandboxPids,
    cpuCores: config.sandboxCpus,
    wallClockMs: Math.round(config.sandboxWallClockMinutes * 60_000),
    seccomp: more.seccomp ?? join(config.cacheDir, "toolchain", "bin", "labgrader-seccomp"),
    protectedPaths: [config.cacheDir, ...protectedPaths],
    hiddenPaths: [INSTALL_DIR, config.cacheDir, ...protectedPaths],
  });
}

const TOOL_CANDIDATES = {
  setpriv: ["/usr/bin/setpriv", "/bin/setpriv"],
  unshare: ["/usr/bin/unshare", "/bin/unshare"],
  socat: ["/usr/bin/socat", "/bin/socat"],
  ip: ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"],
  ss: ["/usr/bin/ss", "/bin/ss", "/usr/sbin/ss", "/sbin/ss"],
  setsid: ["/usr/bin/setsid", "/bin/setsid"],
};
export type Tools = Record<keyof typeof TOOL_CANDIDATES, string>;
const sandboxName = (uid: number) => `lg-${uid}`;
const homeOf = (settings: SandboxSettings, uid: number) => join(settings.root, "home", sandboxName(uid));
const duration = (ms: number) => (ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`);
const mib = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MiB`;

/** setpriv and unshare (util-linux), where installed. */
async function findTools(): Promise<Partial<Tools>> {
  const found: Partial<Tools> = {};
  for (const [name, candidates] of Object.entries(TOOL_CANDIDATES) as [keyof Tools, string[]][]) {
    for (const candidate of candidates) {
      if (
        await access(candidate, constants.X_OK).then(
          () => true,
          () => false,
        )
      ) {
        found[name] = candidate;
        break;
      }
    }
  }
  return found;
}

/** Runs a probe command for at most 10 s: whether it succeeded, and what it said (or why it failed). */
const run = (file: string, args: string[]) =>
  new Promise<{ ok: boolean; output: string }>((resolve) => {
    execFile(file, args, { timeout: 10_000 }, (error, stdout, stderr) =>
      resolve({ ok: !error, output: `${stderr}${stdout}`.trim() || (error?.message ?? "") }),
    );
  });

async function namespaceProblem(unshare: string): Promise<string | undefined> {
  const args = [
    ...UNSHARE_NAMESPACES,
    "--net",
    "--",
    "/bin/sh",
    "-c",
    "mount -t tmpfs labgrader-probe /tmp && test $$ = 1 && ip link set lo up",
  ];
  const probe = await run(unshare, args);
  return probe.ok
    ? undefined
    : `private mount, PID, IPC and network namespaces cannot be made (${probe.output}), so the operator would see the host's processes, unix sockets, shared memory and network`;
}

/** Where prepareSandboxing installs its root-owned copy of labgrader-seccomp, which sandboxed commands run under. */
export const installedSeccomp = (settings: SandboxSettings) => join(settings.root, "bin", "labgrader-seccomp");

/** Whether labgrader-seccomp exists and does its job: a command under it runs, and cannot make a user namespace. */
async function seccompProblem(helper: string, unshare: string): Promise<string | undefined> {
  if (
    !(await access(helper, constants.X_OK).then(
      () => true,
      () => false,
    ))
  ) {
    return `labgrader-seccomp is not built at ${helper} (run \`labgrader toolchain\`), so a sandboxed command could make user namespaces`;
  }
  const plain = await run(helper, ["/bin/true"]);
  if (!plain.ok) return `labgrader-seccomp cannot run a command (${plain.output})`;
  const userns = await run(helper, [unshare, "--user", "/bin/true"]);
  if (userns.ok || !/not permitted/i.test(userns.output))
    return `labgrader-seccomp let a command make a user namespace (${userns.output || "it succeeded"})`;
  return undefined;
}

/** The first folder on the way to path (path itself included) that denies others (the sandbox uids) search, if any. */
async function firstClosedToOthers(path: string): Promise<string | undefined> {
  for (let p = path; ; p = dirname(p)) {
    const info = await stat(p).catch(() => undefined);
    if (info && (info.mode & 0o001) === 0) return p;
    if (p === dirname(p)) return undefined;
  }
}

/** Whether others (the sandbox uids) are kept out of path: some folder on the way denies them search. */
export async function closedToOthers(path: string): Promise<boolean> {
  return (await firstClosedToOthers(path)) !== undefined;
}

/** What keeps this host from sandboxing, each as a sentence; empty when it can. */
export async function sandboxProblems(settings: SandboxSettings): Promise<string[]> {
  const problems = [...(await cgroupProblems(settings.cgroupMount)), ...(await firewallProblems())];
  if (process.getuid?.() !== 0) problems.push("the grader is not running as root, so it cannot switch to sandbox uids");
  const tools = await findTools();
  for (const name of ["setpriv", "unshare", "socat", "ip", "ss", "setsid"] as const)
    if (!tools[name]) problems.push(`${name} is not installed at ${TOOL_CANDIDATES[name].join(" or ")}`);
  const mountProblem = tools.unshare && process.getuid?.() === 0 ? await namespaceProblem(tools.unshare) : undefined;
  if (mountProblem) problems.push(mountProblem);
  const seccomp = tools.unshare ? await seccompProblem(settings.seccomp, tools.unshare) : undefined;
  if (seccomp) problems.push(seccomp);
  if (settings.uids.last < settings.uids.first)
    problems.push(`the sandbox uid range ${settings.uids.first}-${settings.uids.last} is empty`);
  const accounts = (await readFile("/etc/passwd", "utf8").catch(() => ""))
    .split("\n")
    .map((line) => line.split(":"))
    .filter((f) => Number(f[2]) >= settings.uids.first && Number(f[2]) <= settings.uids.last);
  for (const f of accounts)
    problems.push(`uid ${f[2]} (${f[0]}) is in the sandbox range: a sandbox would own that account's files`);
  for (const path of settings.protectedPaths)
    if (!(await closedToOthers(path)))
      problems.push(`${path} is readable by other users, so a sandboxed operator could read it`);
  const closed = await firstClosedToOthers(dirname(settings.root));
  if (closed)
    problems.push(
      `${closed} (above the sandbox root ${settings.root}) denies other users search, so a sandbox uid could not run its own manager; allow it (chmod o+x ${closed}) or set LABGRADER_SANDBOX_DIR elsewhere`,
    );
  return problems;
}

const prepared = new Map<string, Promise<void>>();

/**
 * Checks once per process that this host can sandbox, creates the root, and reaps what dead
 * workers left; a grade with the sandbox on calls it first, so a worker never grades unconfined.
 */
export function prepareSandboxing(settings: SandboxSettings): Promise<void> {
  const key = JSON.stringify(settings);
  const existing = prepared.get(key);
  if (existing) return existing;
  const preparing = (async () => {
    const problems = await sandboxProblems(settings);
    if (problems.length > 0) throw new Error(`this host cannot sandbox operators: ${problems.join("; ")}`);
    await mkdir(join(settings.root, "home"), { recursive: true });
    await chmod(settings.root, 0o711);
    await chmod(join(settings.root, "home"), 0o711);
    const owner = await lstat(settings.root);
    if (owner.uid !== 0 || !owner.isDirectory())
      throw new Error(`the sandbox root ${settings.root} must be a folder owned by root`);
    // The toolchain's copy sits in the cache, which sandboxes cannot read: theirs is root's, beside their homes.
    // Copied then renamed, so a worker starting beside a running one never replaces a file being executed.
    await mkdir(join(settings.root, "bin"), { recursive: true, mode: 0o755 });
    const copy = `${installedSeccomp(settings)}.${process.pid}`;
    await copyFile(settings.seccomp, copy);
    await chmod(copy, 0o755);
    await rename(copy, installedSeccomp(settings));
    await reapSandboxes(settings);
  })();
  prepared.set(key, preparing);
  // A host that could not sandbox may be fixed while the worker runs: the next grade probes again.
  preparing.catch(() => prepared.delete(key));
  return preparing;
}

/** Everything one uid may have left: processes, cgroups, firewall rules, home. */
async function cleanUpUid(settings: SandboxSettings, uid: number): Promise<void> {
  const name = sandboxName(uid);
  await killCgroupTasks(settings.cgroupMount, name);
  await killUidProcesses(uid);
  await removeCgroups(settings.cgroupMount, name);
  await removeFirewallRules(uid);
  await rm(homeOf(settings, uid), { recursive: true, force: true });
  // Temporary files need no cleaning: the manager had private tmpfs copies of /tmp, /var/tmp, /dev/shm (sandbox-launch.ts).
}

/** For a worker at start: frees every uid whose owner died, and whatever is left of it. Returns the uids freed. */
export async function reapSandboxes(settings: SandboxSettings): Promise<number[]> {
  await prepareLockDir(settings.root);
  // Leftovers are found by uid, host-wide: first make sure no other installation uses these uids.
  await claimUidRange(settings.root, settings.uids);
  await removeAbandonedReaping(settings.root);
  const reaped: number[] = [];
  for (const uid of await staleUids(settings.root))
    if (await reapUid(settings.root, uid, (u) => cleanUpUid(settings, u))) reaped.push(uid);
  // Leftovers without any lock (a lock deleted by hand): lock the uid ourselves so no allocation races the cleanup.
  const names = new Set<string>();
  for (const dir of [...parentDirs(settings.cgroupMount), join(settings.root, "home")])
    for (const n of await readdir(dir).catch(() => [] as string[])) names.add(n);
  for (const n of names) {
    const uid = Number(/^lg-(\d+)$/.exec(n)?.[1]);
    const ours = uid >= settings.uids.first && uid <= settings.uids.last;
    if (!ours || !(await lockUid(settings.root, uid))) continue;
    try {
      await cleanUpUid(settings, uid);
      reaped.push(uid);
    } finally {
      await releaseUid(settings.root, uid);
    }
  }
  return reaped;
}

export interface CreateSandboxOptions {
  settings: SandboxSettings;
  binary: string;
  kubeconfigPath: string;
  /** The cluster's API server URL: the only address the sandbox may connect to. */
  apiServer: string;
  /** The pod the manager plays, if it plays one (see LaunchOptions.pod). */
  pod?: { name: string; namespace: string };
}

export interface Sandbox {
  uid: number;
  name: string;
  home: string;
  /** The manager binary and kubeconfig, copied into home and readable by the sandbox uid only. */
  binary: string;
  kubeconfigPath: string;
  /** Hands to startManager. */
  manager: ManagerSandbox;
  events(): Promise<CgroupEvents>;
  /** Which limit ended the operator, as findings a learner can read. */
  diagnose(): Promise<string[]>;
  /** Kills whatever is left and removes cgroups, rules, home and the uid lock. Idempotent. */
  dispose(): Promise<void>;
  /** Milliseconds the setup took. */
  setupMs: number;
}

async function installFile(from: string, to: string, uid: number, mode: number): Promise<void> {
  await copyFile(from, to);
  await chown(to, uid, uid);
  await chmod(to, mode);
}

/** What one confinement is for: its limits, where it may connect, and what it finds in its home. */
export interface Confinement {
  settings: SandboxSettings;
  limits: CgroupLimits & { wallClockMs: number };
  endpoints: Endpoint[];
  /** Fills the home (owned by the uid, 0700) before anything runs. */
  furnish(home: string, uid: number): Promise<void>;
}

export interface Confined {
  uid: number;
  name: string;
  home: string;
  /** The cgroup.procs files a process joins to be confined. */
  procs: string[];
  tools: Tools;
  /** Kills what runs, removes cgroups, rules and home. */
  cleanUp(): Promise<void>;
  /** Hands the uid back; after cleanUp. */
  release(): Promise<void>;
}

/** Memory and pids events of a confinement, e.g. to tell a build killed at its memory limit. */
export function readBuildEvents(settings: SandboxSettings, name: string): Promise<CgroupEvents> {
  return readEvents(settings.cgroupMount, name);
}

/** A uid of its own, a home, cgroups with the given limits and firewall rules that let it reach only `endpoints`. */
export async function confine(c: Confinement): Promise<Confined> {
  const { settings } = c;
  await prepareSandboxing(settings);
  const tools = (await findTools()) as Tools;
  const uid = await allocateUid(settings.root, settings.uids, (u) => cleanUpUid(settings, u));
  const name = sandboxName(uid);
  const home = homeOf(settings, uid);
  const cleanUp = () => cleanUpUid(settings, uid);
  try {
    await cleanUp();
    await mkdir(home, { mode: 0o700 });
    await chown(home, uid, uid);
    await c.furnish(home, uid);
    const procs = await createCgroups(settings.cgroupMount, name, c.limits);
    await addFirewallRules(uid, c.endpoints);
    return { uid, name, home, procs, tools, cleanUp, release: () => releaseUid(settings.root, uid) };
  } catch (e) {
    await cleanUp().catch(() => undefined);
    await releaseUid(settings.root, uid);
    throw new Error(`while setting up sandbox ${name}`, { cause: e });
  }
}

/** Confines one manager: its own uid, home, cgroups and firewall rules, all released by dispose(). */
export async function createSandbox(options: CreateSandboxOptions): Promise<Sandbox> {
  const started = Date.now();
  const { settings } = options;
  const api = new URL(options.apiServer);
  const apiHost = api.hostname.replace(/^\[|\]$/g, "");
  const apiPort = Number(api.port || 443);
  const { uid, name, home, procs, tools, cleanUp } = await confine({
    settings,
    limits: settings,
    endpoints: await apiServerEndpoints(options.apiServer),
    furnish: async (dir, owner) => {
      await installFile(options.binary, join(dir, "manager"), owner, 0o500);
      await installFile(options.kubeconfigPath, join(dir, "kubeconfig"), owner, 0o400);
    },
  });
  // Its own network namespace: the API server's address, relayed, is all there is.
  const socket = join(home, "api.sock");
  const relays = [{ host: apiHost, port: apiPort, socket }];
  const relay = await startRelays(relays, uid).catch(async (e: unknown) => {
    await cleanUp().catch(() => undefined);
    await releaseUid(settings.root, uid);
    throw new Error(`while relaying sandbox ${name}'s API server`, { cause: e });
  });
  let wallClock: NodeJS.Timeout | undefined;
  let killedAtWallClock = false;
  const killAll = () => killCgroupTasks(settings.cgroupMount, name);
  let disposed: Promise<void> | undefined;

  const manager: ManagerSandbox = {
    wrap(command, args, env) {
      const network = { relays, socat: tools.socat, ip: tools.ip, ss: tools.ss, setsid: tools.setsid };
      const launch = launchCommand({
        cgroupProcs: procs,
        uid,
        readOnly: [home],
        hidden: settings.hiddenPaths,
        network,
        ...(options.pod ? { pod: options.pod } : {}),
        seccomp: installedSeccomp(settings),
        setpriv: tools.setpriv,
        unshare: tools.unshare,
        command,
        args,
      });
      return { ...launch, cwd: home, env: { ...env, HOME: home } };
    },
    started() {
      wallClock = setTimeout(() => {
        killedAtWallClock = true;
        killAll().catch(() => undefined);
      }, settings.wallClockMs);
      wallClock.unref();
    },
    killAll,
  };

  const events = () => readEvents(settings.cgroupMount, name);
  return {
    uid,
    name,
    home,
    binary: join(home, "manager"),
    kubeconfigPath: join(home, "kubeconfig"),
    manager,
    events,
    async diagnose() {
      const seen = await events();
      const findings: string[] = [];
      if (seen.oomKills > 0)
        findings.push(`The operator was killed at its memory limit (${mib(settings.memoryBytes)}).`);
      if (seen.pidsRefused > 0)
        findings.push(
          `The operator hit its limit of ${settings.pids} processes and threads; the kernel refused ${seen.pidsRefused} of its forks.`,
        );
      if (killedAtWallClock)
        findings.push(
          `The operator was still running at its time limit (${duration(settings.wallClockMs)}) and was killed.`,
        );
      return findings;
    },
    dispose() {
      disposed ??= (async () => {
        clearTimeout(wallClock);
        await relay.close();
        // Should cleaning up fail, the lock stays: the uid is reaped once this process is gone.
        await cleanUp();
        await releaseUid(settings.root, uid);
      })();
      return disposed;
    },
    setupMs: Date.now() - started,
  };
}
