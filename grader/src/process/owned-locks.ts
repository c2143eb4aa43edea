import { randomBytes } from "node:crypto";
import { link, mkdir, readdir, readFile, rmdir, stat, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { stillRunning, type ProcessIdentity } from "./liveness.ts";

// Lock files that name their owner as a ProcessIdentity (pid and start time), so that a recycled
// pid is not mistaken for the owner. Several processes on one host share them (sandbox uids,
// grading slots); a lock whose owner died is taken back.

/** The owner on the first line; an optional note (what the lock is held for) on the second. */
export function formatOwner(owner: ProcessIdentity, note?: string): string {
  return `${owner.pid} ${owner.startTicks}\n${note ? `${note.replaceAll("\n", " ")}\n` : ""}`;
}

export function parseOwner(text: string): ProcessIdentity | undefined {
  const match = /^(\d+) (\d+)(?:\n|$)/.exec(text);
  return match ? { pid: Number(match[1]), startTicks: match[2]! } : undefined;
}

export function parseNote(text: string): string {
  return text.split("\n")[1] ?? "";
}

/** A lock whose text does not parse was cut short by a crash while it was written: its owner is gone. */
export function ownerAlive(owner: ProcessIdentity | undefined): boolean {
  return owner !== undefined && stillRunning(owner);
}

export async function readLock(path: string): Promise<string> {
  return readFile(path, "utf8").catch(() => "");
}

/**
 * Creates the lock with its text already written: a hard link either appears whole or fails with
 * EEXIST, so no reader ever sees an empty lock and takes it for a crashed owner's.
 */
export async function createLock(path: string, text: string): Promise<boolean> {
  const draft = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}`);
  await writeFile(draft, text, { mode: 0o600 });
  try {
    await link(draft, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw new Error(`while creating the lock ${path}`, { cause: e });
  } finally {
    await unlink(draft).catch(() => undefined);
  }
}

export async function removeLock(path: string): Promise<void> {
  await unlink(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== "ENOENT") throw new Error(`while removing the lock ${path}`, { cause: e });
  });
}

/**
 * Removes a lock whose owner is dead, after `cleanUp` has removed what that owner left behind.
 * Only the process that creates the `.reaping` directory may do so, and it reads the owner again
 * once it holds that directory, so two reapers never both free (and then both take) one lock, and a
 * lock taken meanwhile by a live process is never removed.
 */
export async function reapLock(path: string, cleanUp: () => Promise<void> = async () => undefined): Promise<boolean> {
  const guard = `${path}.reaping`;
  try {
    await mkdir(guard);
  } catch {
    return false;
  }
  try {
    const text = await readFile(path, "utf8").catch(() => undefined);
    if (text === undefined || ownerAlive(parseOwner(text))) return false;
    await cleanUp();
    await unlink(path).catch(() => undefined);
    return true;
  } finally {
    await rmdir(guard).catch(() => undefined);
  }
}

/** `.reaping` directories older than this were left by a reaper that died; they would block their lock forever. */
const ABANDONED_REAPING_MS = 60_000;

export async function removeAbandonedReaping(dir: string, now = Date.now()): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.endsWith(".reaping"))) {
    const info = await stat(join(dir, name)).catch(() => undefined);
    if (info && now - info.mtimeMs > ABANDONED_REAPING_MS) await rmdir(join(dir, name)).catch(() => undefined);
  }
}
