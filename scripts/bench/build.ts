// Builds the reference operator as labgrader builds our own code (go build as root, the shared
// cache) and as it builds a learner's project (sandboxed: its own uid, cgroup, namespaces, network,
// the shared cache as the read-only lower layer of an overlay), N times each, and prints each time
// and the medians. With --cold, every build starts from an empty Go build cache: a plain build from
// one of its own, the sandboxed ones from an empty shared cache, which the process's first
// sandboxed build warms (as a worker does) before it builds.
// Usage: npm run bench:build -- [runs] [--cold]
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { buildManager } from "../../grader/src/runner/build.ts";
import { REFERENCE_OPERATOR_DIR } from "../../grader/src/runner/reference.ts";
import { sandboxSettings } from "../../grader/src/runner/sandbox.ts";
import { config, fmt, median, toolchain } from "./support.ts";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { cold: { type: "boolean" } } });
const runs = Number(positionals[0] ?? "3");
const tools = await toolchain();
const sandbox = sandboxSettings(config, { seccomp: tools.binaries["labgrader-seccomp"] });

// A learner's copy of the reference, without its built binaries.
const project = join(mkdtempSync(join(tmpdir(), "labgrader-bench-build-")), "project");
cpSync(REFERENCE_OPERATOR_DIR, project, { recursive: true, filter: (src) => !src.endsWith("/bin") });

/**
 * An empty build cache for one cold build. It lives in labgrader's cache folder: a sandboxed build
 * sees /tmp as a private tmpfs, so a lower layer there would not exist inside it.
 */
const emptyCache = () => mkdtempSync(join(config.cacheDir, "bench-gocache-"));

async function once(sandboxed: boolean): Promise<number> {
  // A sandboxed build never writes its lower layer: the one empty cache set below stays empty.
  const cache = values.cold && !sandboxed ? emptyCache() : undefined;
  const outDir = mkdtempSync(join(tmpdir(), "labgrader-bench-out-"));
  try {
    const env = { ...process.env, ...(cache ? { GOCACHE: cache } : {}) };
    const started = Date.now();
    const result = await buildManager({
      projectDir: project,
      outDir,
      env,
      ...(sandboxed ? { sandbox } : {}),
      timeoutMs: 1_800_000,
    });
    if (!result.ok) throw new Error(`the ${sandboxed ? "sandboxed" : "plain"} build failed:\n${result.output}`);
    // Wall-clock time: a process's first sandboxed build includes warming the shared cache.
    return Date.now() - started;
  } finally {
    rmSync(outDir, { recursive: true, force: true });
    if (cache) rmSync(cache, { recursive: true, force: true });
  }
}

// A sandboxed build asks `go env` once per process: a cold run needs its empty cache from the start.
if (values.cold) process.env.GOCACHE = emptyCache();
const times: Record<"plain" | "sandboxed", number[]> = { plain: [], sandboxed: [] };
for (let i = 0; i < runs; i++) {
  for (const kind of ["plain", "sandboxed"] as const) {
    const ms = await once(kind === "sandboxed");
    times[kind].push(ms);
    const note =
      values.cold && kind === "sandboxed" && i === 0
        ? " (warming the empty shared cache first, as a worker's first sandboxed build does)"
        : "";
    console.log(`${values.cold ? "cold" : "warm"} ${kind} build ${i + 1}: ${fmt(ms)}${note}`);
  }
}
if (values.cold) rmSync(process.env.GOCACHE!, { recursive: true, force: true });
rmSync(dirname(project), { recursive: true, force: true });
for (const kind of ["plain", "sandboxed"] as const)
  console.log(`median ${values.cold ? "cold" : "warm"} ${kind}: ${fmt(median(times[kind]))} over ${runs}`);
