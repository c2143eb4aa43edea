import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ownIdentity } from "../process/liveness.ts";
import {
  createLock,
  formatOwner,
  ownerAlive,
  parseOwner,
  readLock,
  reapLock,
  removeAbandonedReaping as removeReaping,
  removeLock,
} from "../process/owned-locks.ts";

export { formatOwner, ownerAlive, parseOwner } from "../process/owned-locks.ts";

export const lockDir = (root: string) => join(root, "locks");
const lockFile = (root: string, uid: number) => join(lockDir(root), String(uid));

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

/** Takes a uid's lock for its owner; false when another owner holds it. */
export async function lockUid(root: string, uid: number, owner = ownIdentity()): Promise<boolean> {
  return createLock(lockFile(root, uid), formatOwner(owner));
}

export interface UidRange {
  first: number;
  last: number;
}

/**
 * Allocates a uid no other live process on this host holds, by creating its lock file exclusively.
 * A lock left by a dead owner is reused once cleanUp has removed what that owner left behind.
 */
export async function allocateUid(
  root: string,
  range: UidRange,
  cleanUp: (uid: number) => Promise<void>,
  owner = ownIdentity(),
): Promise<number> {
  await prepareLockDir(root);
  const offset = (owner.pid * 7919 + Date.now()) % (range.last - range.first + 1);
  for (const uid of candidateUids(range.first, range.last, offset)) {
    if (await lockUid(root, uid, owner)) return uid;
    const held = parseOwner(await readLock(lockFile(root, uid)));
    if (!ownerAlive(held) && (await reapUid(root, uid, cleanUp)) && (await lockUid(root, uid, owner))) return uid;
  }
  throw new Error(`every sandbox uid from ${range.first} to ${range.last} is in use`);
}

export async function releaseUid(root: string, uid: number): Promise<void> {
  await removeLock(lockFile(root, uid));
}

/** Uids whose lock names an owner that is gone (or that the lock cannot name). */
export async function staleUids(root: string): Promise<number[]> {
  const names = await readdir(lockDir(root)).catch(() => [] as string[]);
  const stale: number[] = [];
  for (const name of names.filter((n) => /^\d+$/.test(n))) {
    const held = parseOwner(await readLock(join(lockDir(root), name)));
    if (!ownerAlive(held)) stale.push(Number(name));
  }
  return stale;
}

/** Frees a uid whose owner is dead, once cleanUp has removed what that owner left behind (see reapLock). */
export async function reapUid(root: string, uid: number, cleanUp: (uid: number) => Promise<void>): Promise<boolean> {
  return reapLock(lockFile(root, uid), () => cleanUp(uid));
}

export async function removeAbandonedReaping(root: string, now = Date.now()): Promise<void> {
  await removeReaping(lockDir(root), now);
}

/** Where each installation on this host says which uids its sandboxes use (tmpfs: gone at reboot, as the sandboxes are). */
export const RANGE_CLAIMS_DIR = "/run/labgrader/sandbox-ranges";

/**
 * Claims a uid range for the installation whose sandbox root is `root`. Sandbox cgroups, firewall
 * rules and processes are named by uid host-wide, so two installations with overlapping ranges
 * would take each other's live sandboxes for leftovers and kill them: that is refused, naming the
 * other installation. A claim whose root no longer exists is an installation that is gone, and is
 * removed.
 */
export async function claimUidRange(root: string, range: UidRange, claimsDir = RANGE_CLAIMS_DIR): Promise<void> {
  await mkdir(claimsDir, { recursive: true, mode: 0o755 });
  const own = `${createHash("sha256").update(root).digest("hex").slice(0, 16)}.json`;
  for (const name of await readdir(claimsDir)) {
    if (name === own || !name.endsWith(".json")) continue;
    const file = join(claimsDir, name);
    const claim = await readFile(file, "utf8").then(
      (t) => JSON.parse(t) as { root: string } & UidRange,
      () => undefined,
    );
    if (!claim || typeof claim.root !== "string" || claim.root === root) continue;
    if (
      !(await stat(claim.root).then(
        () => true,
        () => false,
      ))
    ) {
      await rm(file, { force: true });
      continue;
    }
    if (claim.first <= range.last && range.first <= claim.last) {
      throw new Error(
        `the sandbox uids ${range.first}-${range.last} overlap ${claim.first}-${claim.last}, those of the installation whose sandbox root is ${claim.root}; give each installation on a host a range of its own (LABGRADER_SANDBOX_UIDS), or delete ${file} if that installation is gone`,
      );
    }
  }
  const temporary = join(claimsDir, `${own}.${process.pid}.tmp`);
  await writeFile(temporary, JSON.stringify({ root, first: range.first, last: range.last }));
  await rename(temporary, join(claimsDir, own));
}
