import { cp, chown, chmod, copyFile, mkdir, readdir, writeFile } from "node:fs/promises";
import { lookup } from "node:dns/promises";
import { join } from "node:path";
import { runCommand } from "../process/command.ts";
import type { BuildResult } from "./build.ts";
import type { Endpoint } from "./sandbox-firewall.ts";
import { confine, installedSeccomp, readBuildEvents, type SandboxSettings } from "./sandbox.ts";
import { startRelays } from "./sandbox-relay.ts";
import { launchCommand, SANDBOX_SETUP_FAILED } from "./sandbox-launch.ts";

/** What a learner's build may use: more memory than a manager (the linker wants ~1 GiB), no more disk than this. */
export interface BuildLimits {
  memoryBytes: number;
  pids: number;
  cpuCores: number;
  /** Scratch space (a tmpfs counted in the memory limit): the module copies, the cache's new entries, the linker's temporary files. */
  scratchBytes: number;
  /** Largest file the build may write, the binary included. */
  maxFileBytes: number;
}

/** The host's Go, and the shared caches a learner's build reads but never writes. */
export interface GoSetup {
  /** The go command. */
  go: string;
  /** Its version, as `go env GOVERSION` prints it (go1.26.8). */
  goVersion: string;
  /** GOROOT, on the sandbox's PATH. */
  goroot: string;
  /** The shared build cache (GOCACHE of labgrader's own builds), seen read-only with a private layer on top. */
  cache: string;
  /** The shared module cache (GOMODCACHE), seen read-only by the build. */
  modules: string;
  /** Its download cache (GOMODCACHE/cache/download), served to a build that needs a module the shared cache lacks, as a read-only local proxy. */
  downloads: string;
  /** Module proxies on the network (GOPROXY without "direct" or "off"), for modules not in the shared cache. */
  proxies: string[];
  /** The checksum database (GOSUMDB), or "off". */
  sumdb: string;
}

export interface SandboxedBuildOptions {
  settings: SandboxSettings;
  limits: BuildLimits;
  go: GoSetup;
  projectDir: string;
  /** Where the built manager is put (outside the sandbox, readable by the grader only). */
  binary: string;
  timeoutMs: number;
}

/** The 256 two-hex-digit folders of a Go build cache. */
const CACHE_DIRS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Host names (and ports) of the proxies and the checksum database: the only places the build may connect to. */
export function networkTargets(go: Pick<GoSetup, "proxies" | "sumdb">): { host: string; port: number }[] {
  const urls = [...go.proxies];
  if (go.sumdb !== "off") {
    // GOSUMDB is "name", "name+key" or "name+key url"; the server is the url, else https://name.
    const [name, , url] = go.sumdb.split(/[+ ]/);
    urls.push(url ?? `https://${name}`);
  }
  return urls
    .map((u) => new URL(u))
    .map((u) => ({ host: u.hostname, port: Number(u.port || (u.protocol === "http:" ? 80 : 443)) }));
}

async function resolveTargets(
  targets: { host: string; port: number }[],
): Promise<{ endpoints: Endpoint[]; hosts: string }> {
  const endpoints: Endpoint[] = [];
  const lines: string[] = ["127.0.0.1 localhost"];
  for (const t of targets) {
    // A checksum database with no address of its own is reached through the proxy (its /sumdb/ endpoint).
    const addresses = await lookup(t.host, { all: true }).catch(() => []);
    for (const a of addresses) {
      // The proxy and the checksum database may share an address: one relay listens on it.
      if (!endpoints.some((e) => e.address === a.address && e.port === t.port))
        endpoints.push({ address: a.address, port: t.port });
      lines.push(`${a.address} ${t.host}`);
    }
  }
  return { endpoints, hosts: `${lines.join("\n")}\n` };
}

async function chownTree(dir: string, uid: number): Promise<void> {
  await chown(dir, uid, uid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(path, uid);
    else await chown(path, uid, uid);
  }
}

/**
 * Builds a learner's manager as a sandbox uid: in its own cgroup (memory, pids, CPU), namespaces
 * and mounts (labgrader's install, caches and other attempts hidden), with an environment of its
 * own, and in a network namespace whose only ways out are the module proxies and the checksum
 * database. The shared build cache is the lower layer of an overlay whose upper layer is scratch
 * space of this build alone, so warm builds stay fast and no entry a learner's build writes can
 * reach another build; modules come from the shared download cache as a read-only local proxy,
 * the network proxies after it.
 */
export async function buildSandboxed(options: SandboxedBuildOptions): Promise<BuildResult> {
  const network = await resolveTargets(networkTargets(options.go));
  // Most projects need only the modules the shared cache already has: it is then used as it is,
  // read-only. A project that needs another module gets a private module cache, filled from the
  // shared downloads (a local proxy) and the network proxies.
  const shared = await buildOnce(options, network, "shared");
  if (shared.ok || !/read-only file system/.test(shared.output)) return shared;
  const own = await buildOnce(options, network, "private");
  return { ...own, durationMs: shared.durationMs + own.durationMs };
}

type Network = Awaited<ReturnType<typeof resolveTargets>>;

async function buildOnce(
  options: SandboxedBuildOptions,
  network: Network,
  modules: "shared" | "private",
): Promise<BuildResult> {
  const { settings, limits } = options;
  const started = Date.now();
  const args = ["build", "-ldflags=-s -w", "-o", "../out/manager", "./cmd"];
  return inBuildSandbox(
    options,
    network,
    modules,
    options.go.go,
    args,
    async ({ code, signal, output, home, name }) => {
      const durationMs = Date.now() - started;
      if (code === 0) {
        await copyFile(join(home, "out", "manager"), options.binary);
        await chmod(options.binary, 0o755);
        return { ok: true, binary: options.binary, durationMs };
      }
      const seen = await readBuildEvents(settings, name);
      const timedOut = signal === "SIGKILL" && durationMs >= options.timeoutMs;
      const limit =
        seen.oomKills > 0
          ? `the build was killed at its memory limit (${Math.round(limits.memoryBytes / 1024 / 1024)} MiB)`
          : /file size limit exceeded|file too large/i.test(output) || signal === "SIGXFSZ"
            ? `the build wrote a file over its size limit (${Math.round(limits.maxFileBytes / 1024 / 1024)} MiB)`
            : /no space left on device/i.test(output)
              ? `the build filled its scratch space (${Math.round(limits.scratchBytes / 1024 / 1024)} MiB: the compiled packages labgrader's shared cache does not already hold, the binary and the linker's files)`
              : undefined;
      return { ok: false, output: limit ? `${limit}\n${output}` : output, durationMs, timedOut };
    },
  );
}

/** How a command in a build's sandbox ended, for the caller to read before the sandbox is gone. */
export interface SandboxedRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  /** The sandbox's home (the project is in src/) and name, both gone once the callback returns. */
  home: string;
  name: string;
}

/**
 * Runs any command where a learner's build runs: the same uid, cgroup, namespaces, mounts, network
 * and environment, the project in the working folder. The hostile tests' probes use it to see what
 * a build could reach.
 */
export async function runInBuildSandbox(
  options: SandboxedBuildOptions,
  command: string,
  args: string[],
): Promise<Omit<SandboxedRun, "home" | "name">> {
  const network = await resolveTargets(networkTargets(options.go));
  return inBuildSandbox(options, network, "shared", command, args, async ({ code, signal, output }) => ({
    code,
    signal,
    output,
  }));
}

async function inBuildSandbox<T>(
  options: SandboxedBuildOptions,
  network: Network,
  modules: "shared" | "private",
  command: string,
  args: string[],
  read: (run: SandboxedRun) => Promise<T>,
): Promise<T> {
  const { settings, limits, go } = options;
  const { endpoints, hosts } = network;
  const confined = await confine({
    settings,
    limits: { ...limits, wallClockMs: options.timeoutMs },
    endpoints,
    furnish: async (home, uid) => {
      await cp(options.projectDir, join(home, "src"), { recursive: true, verbatimSymlinks: true });
      for (const dir of ["src", "out", "cache", "modules", "downloads"])
        await mkdir(join(home, dir), { recursive: true });
      await chownTree(join(home, "src"), uid);
      for (const dir of ["out", "cache"]) await chown(join(home, dir), uid, uid);
      await writeFile(join(home, "hosts"), hosts, { mode: 0o444 });
    },
  });
  const { uid, home, procs, tools, cleanUp } = confined;
  const scratch = join(home, "scratch");
  const scratchFolders = ["layer", "work", "modcache", "tmp", "gopath"].map((d) => join(scratch, d));
  const upper = join(scratch, "layer");
  // The scratch tmpfs and the overlay's upper layer are made inside the sandbox's mount namespace,
  // as root, before it drops to the uid: the upper layer's cache folders belong to the uid, so the
  // merged cache takes their ownership and the build may add entries, never change shared ones.
  const prepare = [
    `mkdir -p ${scratch} && mount -t tmpfs -o size=${limits.scratchBytes},mode=0711,nosuid,nodev labgrader-scratch ${scratch}`,
    `mkdir -p ${scratchFolders.join(" ")} && ( cd ${upper} && mkdir ${CACHE_DIRS.join(" ")} && chown ${uid}:${uid} . ${CACHE_DIRS.join(" ")} )`,
    `chown ${uid}:${uid} ${["modcache", "tmp", "gopath"].map((d) => join(scratch, d)).join(" ")}`,
    `mount --bind -o ro ${join(home, "hosts")} /etc/hosts`,
  ];
  const env = {
    PATH: `${join(go.goroot, "bin")}:/usr/bin:/bin`,
    HOME: home,
    GOROOT: go.goroot,
    GOCACHE: join(home, "cache"),
    GOMODCACHE: modules === "shared" ? join(home, "modules") : join(scratch, "modcache"),
    GOTMPDIR: join(scratch, "tmp"),
    GOPATH: join(scratch, "gopath"),
    GOPROXY: [`file://${join(home, "downloads")}`, ...go.proxies].join(","),
    GOSUMDB: go.sumdb,
    GOFLAGS: "-mod=readonly -buildvcs=false -trimpath",
    GOWORK: "off",
    GOTOOLCHAIN: "local",
    GOENV: "off",
    GOTELEMETRY: "off",
    CGO_ENABLED: "0",
  };
  // The proxies' addresses, each relayed from inside the build's network namespace through a socket in its home.
  const relays = endpoints.map((e, i) => ({ host: e.address, port: e.port, socket: join(home, `net-${i}.sock`) }));
  try {
    const relay = await startRelays(relays, uid);
    try {
      const launch = launchCommand({
        cgroupProcs: procs,
        uid,
        readOnly: [],
        hidden: settings.hiddenPaths,
        prepare,
        overlays: [{ lower: go.cache, upper, work: join(scratch, "work"), target: join(home, "cache") }],
        binds: [
          { source: go.modules, target: join(home, "modules") },
          { source: go.downloads, target: join(home, "downloads") },
        ],
        network: { relays, socat: tools.socat, ip: tools.ip, ss: tools.ss },
        seccomp: installedSeccomp(settings),
        maxFileKiB: Math.floor(limits.maxFileBytes / 1024),
        setpriv: tools.setpriv,
        unshare: tools.unshare,
        command,
        args,
      });
      const result = await runCommand(launch.command, launch.args, {
        cwd: join(home, "src"),
        env,
        timeoutMs: options.timeoutMs,
      });
      const output = (result.stderr + result.stdout).trim();
      // The sandbox itself could not be entered (a cgroup, a mount, a relay): a platform fault, so the grade is not gradable, never the learner's zero.
      if (result.code === SANDBOX_SETUP_FAILED)
        throw new Error(
          `the build's sandbox ${confined.name} could not be set up: ${output.split("\n").slice(0, 5).join("\n")}`,
        );
      return await read({ code: result.code, signal: result.signal, output, home, name: confined.name });
    } finally {
      await relay.close();
    }
  } finally {
    await cleanUp();
    await confined.release();
  }
}

let setup: Promise<GoSetup> | undefined;

/** The host's Go and its caches, asked of `go env` once per process. */
export function hostGoSetup(env: Record<string, string | undefined>): Promise<GoSetup> {
  setup ??= (async () => {
    const result = await runCommand(
      "go",
      ["env", "-json", "GOROOT", "GOCACHE", "GOMODCACHE", "GOPROXY", "GOSUMDB", "GOVERSION"],
      { env, timeoutMs: 60_000 },
    );
    if (result.code !== 0) throw new Error(`go env failed: ${result.stderr.trim()}`);
    const e = JSON.parse(result.stdout) as Record<string, string>;
    // "direct" would let the build fetch from any host a go.mod names; "off" adds nothing.
    const proxies = (e.GOPROXY ?? "").split(/[,|]/).filter((p) => p !== "" && p !== "direct" && p !== "off");
    return {
      go: join(e.GOROOT!, "bin", "go"),
      goVersion: e.GOVERSION!,
      goroot: e.GOROOT!,
      cache: e.GOCACHE!,
      modules: e.GOMODCACHE!,
      downloads: join(e.GOMODCACHE!, "cache", "download"),
      proxies,
      sumdb: e.GOSUMDB || "off",
    };
  })();
  setup.catch(() => (setup = undefined));
  return setup;
}
