import { availableParallelism, homedir, totalmem } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { ProviderNameSchema } from "./contracts.ts";

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
  /** kind clusters one process creates at once (LABGRADER_KIND_PARALLEL_CREATES); the rest wait their turn. */
  kindParallelCreates: z.coerce.number().int().positive(),
  /**
   * Run learners' managers in the sandbox (LABGRADER_SANDBOX=1) or not (=0). Unset, the grading
   * commands run them as themselves (`grade --sandbox` turns it on for one grade) and the worker sandboxes them.
   */
  sandbox: z.boolean().optional(),
  /** Root-owned folder outside /root for sandbox uid locks and homes (LABGRADER_SANDBOX_DIR). */
  sandboxDir: z.string().min(1),
  /**
   * Uids handed to sandboxed managers, "first-last", unused by any account (LABGRADER_SANDBOX_UIDS).
   * Their cgroups are host-wide: two installations on one host need disjoint ranges, or each reaps
   * the other's live sandboxes as leftovers.
   */
  sandboxUids: z.string().regex(/^\d+-\d+$/),
  /** Memory limit of one sandbox in MiB (LABGRADER_SANDBOX_MEMORY_MIB). */
  sandboxMemoryMiB: z.coerce.number().int().positive(),
  /** Processes plus threads one sandbox may run (LABGRADER_SANDBOX_PIDS). */
  sandboxPids: z.coerce.number().int().positive(),
  /** CPU quota of one sandbox in cores (LABGRADER_SANDBOX_CPUS). */
  sandboxCpus: z.coerce.number().positive(),
  /** A sandboxed manager is killed after this many minutes (LABGRADER_SANDBOX_WALL_CLOCK_MINUTES). */
  sandboxWallClockMinutes: z.coerce.number().positive(),
  /** Grades (each with a cluster) running at once on this host, across all its workers and commands (LABGRADER_GRADE_SLOTS). */
  gradeSlots: z.coerce.number().int().positive(),
  /** Operator builds, and control planes starting, at once on this host (LABGRADER_BUILD_SLOTS). */
  buildSlots: z.coerce.number().int().positive(),
  /** MiB of managers built from our own code (reference, mutants, controls) kept for the next grade of the same code; 0 keeps none (LABGRADER_MANAGER_CACHE_MIB). */
  managerCacheMiB: z.coerce.number().int().nonnegative(),
});
export type GraderConfig = z.infer<typeof GraderConfigSchema>;

/**
 * What this host can carry when nothing says otherwise. A kwok grade holds a control plane of
 * about 0.55 GB and mostly waits on the lab's timings, so three per core fit; a build or a
 * control plane's start keeps a core busy for seconds, so one each per core.
 */
export function hostDefaults(
  cores = availableParallelism(),
  memoryBytes = totalmem(),
): { gradeSlots: number; buildSlots: number } {
  const spareGiB = memoryBytes / 1024 ** 3 - 2;
  return { gradeSlots: Math.max(1, Math.min(cores * 3, Math.floor(spareGiB / 0.75))), buildSlots: Math.max(1, cores) };
}

/** An on/off setting: 1, true, yes, on or 0, false, no, off (any case); anything else, or unset, leaves it to the default. */
export function onOff(value: string | undefined): boolean | undefined {
  const word = (value ?? "").toLowerCase();
  if (["1", "true", "yes", "on"].includes(word)) return true;
  if (["0", "false", "no", "off"].includes(word)) return false;
  return undefined;
}

export function graderConfigFromEnv(env: Readonly<Record<string, string | undefined>>): GraderConfig {
  const cache = env.LABGRADER_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "labgrader");
  return GraderConfigSchema.parse({
    cacheDir: cache,
    provider: env.LABGRADER_PROVIDER ?? "kwok",
    kubeconfig: env.LABGRADER_KUBECONFIG,
    kindNodeImage: env.LABGRADER_KIND_NODE_IMAGE ?? "local/kind-node:v1.36.3",
    kindParallelCreates: env.LABGRADER_KIND_PARALLEL_CREATES ?? 1,
    sandbox: onOff(env.LABGRADER_SANDBOX),
    sandboxDir: env.LABGRADER_SANDBOX_DIR ?? "/var/lib/labgrader/sandbox",
    sandboxUids: env.LABGRADER_SANDBOX_UIDS ?? "62000-62999",
    sandboxMemoryMiB: env.LABGRADER_SANDBOX_MEMORY_MIB ?? 512,
    sandboxPids: env.LABGRADER_SANDBOX_PIDS ?? 256,
    sandboxCpus: env.LABGRADER_SANDBOX_CPUS ?? 1,
    sandboxWallClockMinutes: env.LABGRADER_SANDBOX_WALL_CLOCK_MINUTES ?? 15,
    gradeSlots: env.LABGRADER_GRADE_SLOTS ?? hostDefaults().gradeSlots,
    buildSlots: env.LABGRADER_BUILD_SLOTS ?? hostDefaults().buildSlots,
    // Every operator one validate grades (~100 managers of ~48 MB): a cache smaller than one round,
    // read in the same order each round, would drop each manager just before it is wanted again.
    managerCacheMiB: env.LABGRADER_MANAGER_CACHE_MIB ?? 8192,
  });
}
