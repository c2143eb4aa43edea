import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runCommand } from "../process/command.ts";
import { buildSandboxed, hostGoSetup } from "./build-sandbox.ts";
import { buildKey, type ManagerCache } from "./manager-cache.ts";
import { REFERENCE_OPERATOR_DIR } from "./reference.ts";
import type { SandboxSettings } from "./sandbox.ts";

export interface BuildOptions {
  projectDir: string;
  outDir: string;
  /** Files to substitute at build time (`go build -overlay`): project-relative path -> replacement file. */
  overlay?: Record<string, string>;
  timeoutMs?: number;
  /** The environment for `go` (GOPATH, GOCACHE, GOPROXY, HOME, PATH). */
  env: Record<string, string | undefined>;
  /** Build as a sandbox uid (a learner's project): see build-sandbox.ts. Unset builds as ourselves (our own code). */
  sandbox?: SandboxSettings;
  /** Where managers built from our own code are kept by their inputs; never used for a sandboxed build. */
  managerCache?: ManagerCache;
}

export type BuildResult =
  | { ok: true; binary: string; durationMs: number }
  | { ok: false; output: string; durationMs: number; timedOut: boolean };

/**
 * Builds the reference operator as ourselves, into the shared Go build cache: what a learner's
 * sandboxed build reads (and never writes) then holds an operator's dependencies.
 */
export async function warmBuildCache(env: Record<string, string | undefined>): Promise<BuildResult> {
  const outDir = await mkdtemp(join(tmpdir(), "labgrader-warm-"));
  try {
    return await buildManager({ projectDir: REFERENCE_OPERATOR_DIR, outDir, env, timeoutMs: 30 * 60_000 });
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

let warming: Promise<void> | undefined;

/**
 * A sandboxed build reads the shared Go build cache and writes only its own scratch space (2 GiB by
 * default), far less than a cold build of an operator's dependencies takes. So before its first
 * sandboxed build, each process warms the cache once, as `labgrader toolchain` does: a couple of
 * seconds when the cache is warm, and a learner's build then never fails for a cache that someone
 * emptied. A worker calls it before taking jobs, so no grade waits for it.
 */
export function warmSharedCache(env: Record<string, string | undefined>): Promise<void> {
  warming ??= (async () => {
    const warm = await warmBuildCache(env);
    if (!warm.ok)
      throw new Error(`the reference operator, built to warm Go's build cache, did not build:\n${warm.output}`);
  })();
  warming.catch(() => (warming = undefined));
  return warming;
}

/**
 * Builds the manager like `make build` does (`go build -o bin/manager cmd/main.go`), without running
 * make. How many builds run at once is the caller's budget (see grading/capacity.ts); the time
 * limit counts from here, never while a build waits for its turn.
 */
export async function buildManager(options: BuildOptions): Promise<BuildResult> {
  await mkdir(options.outDir, { recursive: true });
  const binary = join(options.outDir, "manager");
  const timeoutMs = options.timeoutMs ?? 600_000;
  if (options.sandbox) {
    if (options.overlay) throw new Error("a sandboxed build takes a project as it is, without an overlay");
    const go = await hostGoSetup(options.env);
    await warmSharedCache(options.env);
    return buildSandboxed({
      settings: options.sandbox,
      limits: options.sandbox.build,
      go,
      projectDir: options.projectDir,
      binary,
      timeoutMs,
    });
  }
  // Every build of ours uses the flags a sandboxed build uses, so that they share one build cache.
  const args = ["build", "-trimpath", "-ldflags=-s -w", "-o", binary];
  if (options.overlay && Object.keys(options.overlay).length > 0) {
    const replace = Object.fromEntries(
      Object.entries(options.overlay).map(([target, file]) => [resolve(options.projectDir, target), resolve(file)]),
    );
    const overlayFile = join(options.outDir, "overlay.json");
    await writeFile(overlayFile, JSON.stringify({ Replace: replace }));
    args.push(`-overlay=${overlayFile}`);
  }
  args.push("./cmd");
  const started = Date.now();
  const env = { ...options.env, CGO_ENABLED: "0" };
  const key = options.managerCache
    ? await buildKey({
        projectDir: options.projectDir,
        ...(options.overlay ? { overlay: options.overlay } : {}),
        goVersion: (await hostGoSetup(options.env)).goVersion,
        args: args.filter((a) => !a.startsWith("-overlay=") && a !== binary),
        env,
      })
    : undefined;
  if (key && (await options.managerCache?.restore(key, binary)))
    return { ok: true, binary, durationMs: Date.now() - started };
  const result = await runCommand("go", args, {
    cwd: options.projectDir,
    env,
    timeoutMs,
  });
  const durationMs = Date.now() - started;
  if (result.code === 0) {
    if (key) await options.managerCache?.store(key, binary).catch(() => undefined);
    return { ok: true, binary, durationMs };
  }
  return {
    ok: false,
    output: (result.stderr + result.stdout).trim(),
    durationMs,
    timedOut: result.signal === "SIGKILL" && durationMs >= timeoutMs,
  };
}
