import { parseArgs } from "node:util";
import type { CliContext } from "./context.ts";
import { ensureToolchain } from "../toolchain/build.ts";
import { ensureKindNodeImage, kindImageStatus } from "../toolchain/kind-image.ts";
import { readLastBuild, recordLastBuild } from "../toolchain/last-builds.ts";
import { createProgress, formatDuration, type Progress } from "../toolchain/progress.ts";
import { warmBuildCache } from "../runner/build.ts";

export const toolchainHelp = `labgrader toolchain [--check] [--quiet] [--json]
  Builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok, kwokctl and
  controller-gen from pinned Go modules into the cache, skipping what is already there.
  While a build runs it says how long it has run and, from the last build, about how long is
  left: in place on a terminal, otherwise a line every 30 s.
  A binary named by LABGRADER_<NAME> (e.g. LABGRADER_KUBE_APISERVER), found in
  KUBEBUILDER_ASSETS or on PATH at the pinned version is used instead.
  Then builds the reference operator once, as grades build managers (CGO_ENABLED=0), so Go's
  build cache holds the course's dependencies (controller-runtime, client-go) before the first
  grade: a cold cache would otherwise make the first learners' builds run into their time limit.
  --check  build nothing; fail and say what is missing
labgrader toolchain env
  Prints KUBEBUILDER_ASSETS=<folder> for envtest.
labgrader toolchain kind [--check] [--json]
  Makes the kind node image (LABGRADER_KIND_NODE_IMAGE, default local/kind-node:v1.36.3) and
  the kind CLI offline: Kubernetes, CoreDNS, local-path-provisioner and kind from the Go module
  proxy, root filesystems from the Debian mirror, every image the cluster runs built locally and
  preloaded. Nothing is pulled from a registry. Does nothing when Docker already has the image,
  loads the cached archive when it matches, and builds otherwise (15-20 min cold on 2 cores).
  Needs root and a Docker daemon: run scripts/kind-host.sh first.
  --check  build nothing; say what is missing`;

/** The reference operator's warm-up build keeps its last duration beside the toolchain's, for the estimate. */
const REFERENCE_BUILD = "reference-operator";

function mib(bytes: number | undefined): string {
  return bytes === undefined ? "-" : `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

/** Progress lines on stderr: in place on a terminal; none with --quiet. */
function progressFor(values: { quiet?: boolean }, ctx: CliContext): Progress {
  if (values.quiet) return createProgress({ log: () => undefined });
  return createProgress({ log: ctx.log, ...(ctx.live ? { live: ctx.live } : {}) });
}

async function kindCommand(
  values: { check?: boolean; quiet?: boolean; json?: boolean },
  ctx: CliContext,
): Promise<number> {
  const log = values.quiet ? () => undefined : ctx.log;
  const opts = {
    cacheDir: ctx.config.cacheDir,
    env: ctx.env,
    log,
    nodeImage: ctx.config.kindNodeImage,
    progress: progressFor(values, ctx),
  };
  if (values.check) {
    const status = await kindImageStatus(opts);
    if (values.json) ctx.out(JSON.stringify(status, null, 2));
    else {
      const state = {
        ready: `present in docker (${mib(status.sizeBytes)})`,
        archived: `not in docker; \`labgrader toolchain kind\` would load the cached archive (${mib(status.archiveBytes)})`,
        missing: "missing; `labgrader toolchain kind` would build it",
      }[status.state];
      log(`${status.nodeImage} (key ${status.key}): ${state}`);
      log(`archive: ${status.archive}${status.archiveBytes === undefined ? " (absent)" : ""}`);
      log(`kind CLI: ${status.kindBinary ?? "missing"}`);
      for (const m of status.missing) log(`missing: ${m}`);
    }
    return status.state === "ready" && status.missing.length === 0 ? 0 : 1;
  }
  const started = Date.now();
  const result = await ensureKindNodeImage(opts);
  if (values.json) {
    ctx.out(JSON.stringify(result, null, 2));
    return 0;
  }
  const what = { present: "already present in docker", loaded: "loaded from the cached archive", built: "built" }[
    result.action
  ];
  for (const step of result.steps) log(`  ${step.seconds.toFixed(1).padStart(7)} s  ${step.step}`);
  log(`${result.nodeImage} ${what} (key ${result.key}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  log(`image ${mib(result.sizeBytes)}, archive ${mib(result.archiveBytes)} at ${result.archive}`);
  log(`kind CLI ${result.kind}`);
  return 0;
}

export async function toolchainCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { check: { type: "boolean" }, quiet: { type: "boolean" }, json: { type: "boolean" } },
    allowPositionals: true,
  });
  if (positionals[0] === "kind") return kindCommand(values, ctx);
  const started = Date.now();
  const log = values.quiet ? () => undefined : ctx.log;
  const progress = progressFor(values, ctx);
  const result = await ensureToolchain({ cacheDir: ctx.config.cacheDir, env: ctx.env, log, progress }, !values.check);
  if (positionals[0] === "env") {
    ctx.out(`KUBEBUILDER_ASSETS=${result.toolchain.assetsDir}`);
    return 0;
  }
  if (values.json) {
    ctx.out(
      JSON.stringify(
        { binaries: result.toolchain.binaries, built: result.built, assetsDir: result.toolchain.assetsDir },
        null,
        2,
      ),
    );
    return 0;
  }
  if (!values.check) {
    const last = readLastBuild(ctx.config.cacheDir, REFERENCE_BUILD);
    log(
      `building the reference operator, to warm Go's build cache for grades${last ? ` (the last build took ${formatDuration(last.durationMs)})` : ""}`,
    );
    const task = progress.start("building the reference operator", last?.durationMs);
    const warm = await warmBuildCache(ctx.env).finally(() => task.end());
    if (!warm.ok) {
      ctx.log(`the reference operator did not build${warm.timedOut ? " (timed out)" : ""}:\n${warm.output}`);
      return 1;
    }
    recordLastBuild(ctx.config.cacheDir, REFERENCE_BUILD, {
      durationMs: warm.durationMs,
      finishedAt: new Date().toISOString(),
    });
    log(`reference operator built in ${(warm.durationMs / 1000).toFixed(1)} s (Go build cache warm for grades)`);
  }
  if (!values.quiet) {
    for (const r of result.resolved) log(`${r.name.padEnd(24)} ${r.source.padEnd(15)} ${r.path}`);
    log(`toolchain ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${result.built.length} built)`);
  }
  return 0;
}
