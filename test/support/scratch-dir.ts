import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Vitest's global setup: every scratch file of this run (tests' temp folders, the CLIs' grade
 * folders, uploads, builds) goes under one folder of its own, removed when the run ends, so a
 * run leaves nothing in the system's temp folder. Test workers and the processes they start
 * inherit TMPDIR.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), "labgrader-tests-"));
  process.env.TMPDIR = dir;
  return async () => {
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  };
}
