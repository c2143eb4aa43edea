import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { delimiter, join } from "node:path";
import { execFileSync } from "node:child_process";
import { binarySpecs, type BinaryName, type BinarySpec } from "./binaries.ts";
import { readLastBuild, recordLastBuild } from "./last-builds.ts";
import { createProgress, formatDuration, type Progress } from "./progress.ts";
import { loadVersions, toolchainModuleDir } from "./versions.ts";

export interface ToolchainOptions {
  /** labgrader's cache folder; binaries go to <cacheDir>/toolchain/bin. */
  cacheDir: string;
  /** The environment to consult for overrides (LABGRADER_<BINARY>, KUBEBUILDER_ASSETS, PATH). */
  env: Readonly<Record<string, string | undefined>>;
  log: (line: string) => void;
  /** Tells how long a build has run and how long is left; unset, a plain line on `log` every 30 s. */
  progress?: Progress;
}

export type BinarySource = "override" | "envtest-assets" | "cache" | "path";

export interface ResolvedBinary {
  name: BinaryName;
  path: string;
  source: BinarySource;
}

export interface Toolchain {
  binaries: Record<BinaryName, string>;
  /** A folder holding etcd and kube-apiserver, for envtest's KUBEBUILDER_ASSETS. */
  assetsDir: string;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function binDir(opts: ToolchainOptions): string {
  return join(opts.cacheDir, "toolchain", "bin");
}

function stampPath(opts: ToolchainOptions, name: BinaryName): string {
  return join(opts.cacheDir, "toolchain", "stamps", name);
}

/** The cache key: a binary is rebuilt when its version or its build recipe changes. */
function buildKey(spec: BinarySpec): string {
  return JSON.stringify({ version: spec.version, build: spec.build });
}

function reportsVersion(path: string, version: string): boolean {
  try {
    const out = execFileSync(path, ["--version"], {
      encoding: "utf8",
      timeout: 10_000,
      stdio: ["ignore", "pipe", "pipe"],
    });
    return out.includes(version.replace(/^v/, ""));
  } catch {
    return false;
  }
}

export function resolveBinary(spec: BinarySpec, opts: ToolchainOptions): ResolvedBinary | undefined {
  const override = opts.env[spec.envOverride];
  if (override) {
    if (!isExecutable(override)) throw new Error(`${spec.envOverride}=${override} is not an executable file`);
    return { name: spec.name, path: override, source: "override" };
  }
  const assets = opts.env.KUBEBUILDER_ASSETS;
  if (
    spec.envtestAsset &&
    assets &&
    isExecutable(join(assets, spec.name)) &&
    reportsVersion(join(assets, spec.name), spec.version)
  ) {
    return { name: spec.name, path: join(assets, spec.name), source: "envtest-assets" };
  }
  const cached = join(binDir(opts), spec.name);
  if (
    isExecutable(cached) &&
    existsSync(stampPath(opts, spec.name)) &&
    readFileSync(stampPath(opts, spec.name), "utf8") === buildKey(spec)
  ) {
    return { name: spec.name, path: cached, source: "cache" };
  }
  for (const dir of (opts.env.PATH ?? "").split(delimiter).filter(Boolean)) {
    const candidate = join(dir, spec.name);
    if (isExecutable(candidate) && reportsVersion(candidate, spec.version))
      return { name: spec.name, path: candidate, source: "path" };
  }
  return undefined;
}

/** Lines of a failed command's output its error repeats: the log may be silent (--quiet). */
const FAILURE_TAIL_LINES = 40;

/** Runs a command, its output passed line by line to `log` (so it never lands in the middle of a live progress line). */
function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: Record<string, string | undefined>,
  log: (line: string) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    const tail: string[] = [];
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => {
        log(line);
        tail.push(line);
        if (tail.length > FAILURE_TAIL_LINES) tail.shift();
      });
    }
    child.on("error", reject);
    // "close", not "exit": the output's last lines are read by then.
    child.on("close", (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error([`${cmd} ${args.join(" ")} exited with ${signal ?? code}`, ...tail].join("\n"))),
    );
  });
}

async function buildGroup(specs: BinarySpec[], opts: ToolchainOptions, progress: Progress): Promise<void> {
  const first = specs[0];
  if (!first) return;
  const out = binDir(opts);
  const env = { ...opts.env, CGO_ENABLED: "0", GOBIN: out };
  const ldflags = ["-s", "-w", ...first.build.ldflags].join(" ");
  const what = `building ${specs.map((s) => s.name).join(", ")} ${first.version}`;
  const last = readLastBuild(opts.cacheDir, first.group);
  opts.log(
    `${what} (Go, from pinned modules; ${last ? `the last build took ${formatDuration(last.durationMs)}` : "a cold build takes minutes"})`,
  );
  const task = progress.start(what, last?.durationMs);
  let durationMs: number;
  try {
    if (first.build.kind === "module") {
      const pkgs = specs.map((s) => s.build.pkg);
      const target = pkgs.length === 1 && pkgs[0] === "." ? join(out, first.name) : `${out}/`;
      await run(
        "go",
        ["build", "-trimpath", `-ldflags=${ldflags}`, "-o", target, ...pkgs],
        join(toolchainModuleDir, first.build.module),
        env,
        opts.log,
      );
    } else {
      const version = first.build.version;
      const pkgs = specs.map((s) => `${s.build.pkg}@${version}`);
      await run("go", ["install", "-trimpath", `-ldflags=${ldflags}`, ...pkgs], toolchainModuleDir, env, opts.log);
    }
  } finally {
    durationMs = task.end();
  }
  for (const spec of specs) writeFileSync(stampPath(opts, spec.name), buildKey(spec));
  recordLastBuild(opts.cacheDir, first.group, {
    durationMs,
    version: first.version,
    finishedAt: new Date().toISOString(),
  });
  opts.log(`built ${specs.map((s) => s.name).join(", ")} in ${formatDuration(durationMs)}`);
}

/**
 * envtest's asset folder: links to our etcd and kube-apiserver. Several processes (workers
 * starting together, a test run) call this at once, so a link is only ever replaced by an atomic
 * rename and the folder is never emptied under a reader.
 */
export function linkAssets(opts: ToolchainOptions, binaries: Record<BinaryName, string>): string {
  const dir = join(opts.cacheDir, "toolchain", "envtest");
  mkdirSync(dir, { recursive: true });
  for (const name of ["etcd", "kube-apiserver"] as const) {
    const link = join(dir, name);
    const current = (() => {
      try {
        return readlinkSync(link);
      } catch {
        return undefined;
      }
    })();
    if (current === binaries[name]) continue;
    const temporary = `${link}.${process.pid}.tmp`;
    rmSync(temporary, { force: true });
    symlinkSync(binaries[name], temporary);
    renameSync(temporary, link);
  }
  return dir;
}

export interface EnsureResult {
  toolchain: Toolchain;
  resolved: ResolvedBinary[];
  built: BinaryName[];
}

/** Finds every binary, building from the pinned Go modules only what is missing (unless build is false). */
export async function ensureToolchain(opts: ToolchainOptions, build = true): Promise<EnsureResult> {
  const specs = binarySpecs(loadVersions());
  mkdirSync(binDir(opts), { recursive: true });
  mkdirSync(join(opts.cacheDir, "toolchain", "stamps"), { recursive: true });
  const missing = specs.filter((s) => !resolveBinary(s, opts));
  if (missing.length > 0 && !build) {
    throw new Error(
      `missing toolchain binaries: ${missing.map((s) => `${s.name} ${s.version}`).join(", ")}; run \`labgrader toolchain\` to build them, or point ${missing.map((s) => s.envOverride).join(", ")} at existing ones`,
    );
  }
  const groups = Map.groupBy(missing, (s) => s.group);
  const progress = opts.progress ?? createProgress({ log: opts.log });
  for (const group of groups.values()) await buildGroup(group, opts, progress);
  const resolved = specs.map((s) => {
    const found = resolveBinary(s, opts);
    if (!found) throw new Error(`${s.name} is still missing after building it`);
    return found;
  });
  const binaries = Object.fromEntries(resolved.map((r) => [r.name, r.path])) as Record<BinaryName, string>;
  return {
    toolchain: { binaries, assetsDir: linkAssets(opts, binaries) },
    resolved,
    built: missing.map((s) => s.name),
  };
}
