import { randomBytes } from "node:crypto";
import { link, mkdir, readdir, readFile, rmdir, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { processStartTicks } from "../process/liveness.ts";

/**
 * Which process holds a uid: the pid and its start time (clock ticks since boot, field 22 of
 * /proc/<pid>/stat), so that a recycled pid is not mistaken for the owner.
 */
export interface LockOwner {
  pid: number;
  startTime: string;
}

export function currentOwner(): LockOwner {
  return { pid: process.pid, startTime: processStartTicks(process.pid) ?? "0" };
}

export function formatOwner(owner: LockOwner): string {
  return `${owner.pid} ${owner.startTime}\n`;
}

export function parseOwner(text: string): LockOwner | undefined {
  const match = /^(\d+) (\d+)\s*$/.exec(text);
  return match ? { pid: Number(match[1]), startTime: match[2]! } : undefined;
}

/** A lock whose text does not parse was cut short by a crash while it was written: its owner is gone. */
export function ownerAlive(owner: LockOwner | undefined, startTimeOf: (pid: number) => string | undefined = processStartTicks): boolean {
  return owner !== undefined && startTimeOf(owner.pid) === owner.startTime;
}

export const lockDir = (root: string) => join(root, "locks");
const lockFile = (root: string, uid: number) => join(lockDir(root), String(uid));
const reapingDir = (root: string, uid: number) => join(lockDir(root), `${uid}.reaping`);

/**
 * Creates the sandbox root, then its private lock folder. The root gets ordinary modes: `recursive`
 * with a mode would give every folder made on the way 0700, and a sandbox uid could then no longer
 * reach its own home below the root.
 */
export async function prepareLockDir(root: string): Promise<void> {
  await mkdir(root, { recursive: true });
  await mkdir(lockDir(root), { recursive: true, mode: 0o700 });
}

/** The order uids are tried in: all of them, from an offset so that workers do not all race for the first. */
export function candidateUids(first: number, last: number, offset: number): number[] {
  const count = last - first + 1;
  return Array.from({ length: count }, (_, i) => first + ((offset + i) % count));
}

/**
 * Creates the lock with its owner already written: a hard link either appears whole or fails with
 * EEXIST, so no reader ever sees an empty lock and takes it for a crashed owner's.
 */
export async function lockUid(root: string, uid: number, owner = currentOwner()): Promise<boolean> {
  const draft = join(lockDir(root), `.${uid}.${owner.pid}.${randomBytes(6).toString("hex")}`);
  await writeFile(draft, formatOwner(owner), { mode: 0o600 });
  try {
    await link(draft, lockFile(root, uid));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw new Error(`while locking sandbox uid ${uid}`, { cause: e });
  } finally {
    await unlink(draft).catch(() => undefined);
  }
}

export interface UidRange {
  first: number;
  last: number;
}

/**
 * Allocates a uid no other live process on this host holds, by creating its lock file exclusively.
 * A lock left by a dead owner is reused once cleanUp has removed what that owner left behind.
 */
export async function allocateUid(root: string, range: UidRange, cleanUp: (uid: number) => Promise<void>, owner = currentOwner()): Promise<number> {
  await prepareLockDir(root);
  const offset = (owner.pid * 7919 + Date.now()) % (range.last - range.first + 1);
  for (const uid of candidateUids(range.first, range.last, offset)) {
    if (await lockUid(root, uid, owner)) return uid;
    const held = parseOwner(await readFile(lockFile(root, uid), "utf8").catch(() => ""));
    if (!ownerAlive(held) && (await reapUid(root, uid, cleanUp)) && (await lockUid(root, uid, owner))) return uid;
  }
  throw new Error(`every sandbox uid from ${range.first} to ${range.last} is in use`);
}

export async function releaseUid(root: string, uid: number): Promise<void> {
  await unlink(lockFile(root, uid)).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== "ENOENT") throw new Error(`while unlocking sandbox uid ${uid}`, { cause: e });
  });
}

/** Uids whose lock names an owner that is gone (or that the lock cannot name). */
export async function staleUids(root: string): Promise<number[]> {
  const names = await readdir(lockDir(root)).catch(() => [] as string[]);
  const stale: number[] = [];
  for (const name of names.filter((n) => /^\d+$/.test(n))) {
    const held = parseOwner(await readFile(join(lockDir(root), name), "utf8").catch(() => ""));
    if (!ownerAlive(held)) stale.push(Number(name));
  }
  return stale;
}

/**
 * Frees a uid whose owner is dead. Only the process that creates the `.reaping` directory may clean
 * up and unlink the lock, so two workers never both free (and then both take) the same uid.
 */
export async function reapUid(root: string, uid: number, cleanUp: (uid: number) => Promise<void>): Promise<boolean> {
  try {
    await mkdir(reapingDir(root, uid));
  } catch {
    return false;
  }
  try {
    const held = parseOwner(await readFile(lockFile(root, uid), "utf8").catch(() => ""));
    if (ownerAlive(held)) return false;
    await cleanUp(uid);
    await unlink(lockFile(root, uid)).catch(() => undefined);
    return true;
  } finally {
    await rmdir(reapingDir(root, uid)).catch(() => undefined);
  }
}

/** `.reaping` directories older than this were left by a reaper that died; they would block their uid forever. */
const ABANDONED_REAPING_MS = 60_000;

export async function removeAbandonedReaping(root: string, now = Date.now()): Promise<void> {
  const names = await readdir(lockDir(root)).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.endsWith(".reaping"))) {
    const info = await stat(join(lockDir(root), name)).catch(() => undefined);
    if (info && now - info.mtimeMs > ABANDONED_REAPING_MS) await rmdir(join(lockDir(root), name)).catch(() => undefined);
  }
}
