import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";

/** How long the last build of one group of binaries took, for the next build's estimate. */
export const LastBuildSchema = z.object({
  /** Wall time of the build, in ms. */
  durationMs: z.number().nonnegative(),
  /** The version it built, when it has one (a later version's build takes about as long). */
  version: z.string().optional(),
  /** When it finished (ISO 8601). */
  finishedAt: z.string(),
});
export type LastBuild = z.infer<typeof LastBuildSchema>;

/** Beside the binaries' stamps: <cacheDir>/toolchain/stamps/<group>.last-build.json. */
export function lastBuildPath(cacheDir: string, group: string): string {
  return join(cacheDir, "toolchain", "stamps", `${group}.last-build.json`);
}

/** The last build of a group, if one was recorded and its record reads. */
export function readLastBuild(cacheDir: string, group: string): LastBuild | undefined {
  try {
    return LastBuildSchema.parse(JSON.parse(readFileSync(lastBuildPath(cacheDir, group), "utf8")));
  } catch {
    return undefined;
  }
}

/** Records a finished build; written whole under a temporary name, so a reader never sees half a record. */
export function recordLastBuild(cacheDir: string, group: string, build: LastBuild): void {
  const path = lastBuildPath(cacheDir, group);
  mkdirSync(join(cacheDir, "toolchain", "stamps"), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(build));
  renameSync(temporary, path);
}
