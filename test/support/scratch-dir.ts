import { chmod, mkdtemp, rm } from "node:fs/promises";
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
  // As /tmp is: other users may pass through and keep files of their own (the tests' embedded
  // PostgreSQL runs as the postgres user in a folder of a test's, when the tests run as root).
  await chmod(dir, 0o1777);
  process.env.TMPDIR = dir;
  return async () => {
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  };
}
