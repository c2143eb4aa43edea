import { randomBytes } from "node:crypto";
import { watch, type FSWatcher } from "node:fs";
import { mkdir, readdir, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ownIdentity } from "./liveness.ts";
import {
  createLock,
  formatOwner,
  ownerAlive,
  parseNote,
  parseOwner,
  readLock,
  reapLock,
  removeAbandonedReaping,
  removeLock,
} from "./owned-locks.ts";

/**
 * A counting semaphore shared by every process on this host that uses the same folder: workers,
 * `labgrader validate`, `labgrader grade`. Waiters are served first come, first served (a ticket
 * per waiter, ordered by when it was taken), so no process can starve another by polling faster.
 * A holder or waiter that dies leaves a lock naming a dead owner, which the next look takes back.
 *
 *   <dir>/held/<slot>      one lock per slot in use (owner and what it is held for)
 *   <dir>/queue/<ticket>   one lock per waiter, named so that names sort by arrival
 */
export interface SlotPool {
  readonly name: string;
  readonly size: number;
  /** Waits for a slot; `onWait` hears the waiter's place whenever it changes. */
  acquire(label: string, options?: AcquireOptions): Promise<SlotLease>;
  /** Who holds the slots and who waits, for diagnostics. */
  snapshot(): Promise<SlotSnapshot>;
}

export interface AcquireOptions {
  onWait?: (wait: SlotWait) => void;
  signal?: AbortSignal;
}

export interface SlotWait {
  /** Waiters ahead of this one. */
  ahead: number;
  /** Slots in use. */
  held: number;
  size: number;
}

export interface SlotLease {
  /** How long the slot was waited for. */
  waitedMs: number;
  release(): Promise<void>;
}

export interface SlotHolder {
  pid: number;
  label: string;
}

export interface SlotSnapshot {
  name: string;
  size: number;
  held: SlotHolder[];
  waiting: SlotHolder[];
}

export interface SlotPoolOptions {
  /** The pool's folder; every process that shares the pool names the same one. */
  dir: string;
  name: string;
  size: number;
  /** How often to look again when nothing changed on disk (a dead holder frees its slot silently). */
  pollMs?: number;
}

/** Ticket names sort by arrival: milliseconds, then a counter within this process, then pid and randomness. */
let ticketCounter = 0;
function ticketName(): string {
  ticketCounter = (ticketCounter + 1) % 1_000_000;
  return `${Date.now().toString().padStart(15, "0")}-${String(ticketCounter).padStart(6, "0")}-${process.pid}-${randomBytes(3).toString("hex")}`;
}

export function createSlotPool(options: SlotPoolOptions): SlotPool {
  if (!Number.isInteger(options.size) || options.size < 1)
    throw new Error(`the ${options.name} pool needs at least one slot, not ${options.size}`);
  const heldDir = join(options.dir, "held");
  const queueDir = join(options.dir, "queue");
  const pollMs = options.pollMs ?? 1_000;
  const prepared = Promise.all([mkdir(heldDir, { recursive: true }), mkdir(queueDir, { recursive: true })]);

  /** Live entries of a folder, in name order; entries of dead owners are taken back on the way. */
  async function liveEntries(dir: string): Promise<{ name: string; text: string }[]> {
    const names = (await readdir(dir).catch(() => [] as string[]))
      .filter((n) => !n.startsWith(".") && !n.endsWith(".reaping"))
      .sort();
    const entries: { name: string; text: string }[] = [];
    for (const name of names) {
      const text = await readLock(join(dir, name));
      if (text === "") continue; // released between readdir and read
      if (ownerAlive(parseOwner(text))) entries.push({ name, text });
      else await reapLock(join(dir, name));
    }
    return entries;
  }

  const holderOf = (text: string): SlotHolder => ({ pid: parseOwner(text)?.pid ?? 0, label: parseNote(text) });

  async function enqueue(label: string): Promise<string> {
    const name = ticketName();
    const draft = join(queueDir, `.${name}`);
    await writeFile(draft, formatOwner(ownIdentity(), label), { mode: 0o600 });
    await rename(draft, join(queueDir, name));
    return name;
  }

  async function tryTake(
    label: string,
    ticket: string,
  ): Promise<{ slot: string } | { slot?: undefined; wait: SlotWait }> {
    const queue = await liveEntries(queueDir);
    const ahead = queue.findIndex((t) => t.name === ticket);
    const held = await liveEntries(heldDir);
    const used = new Set(held.map((h) => h.name));
    const free = Array.from({ length: options.size }, (_, i) => String(i)).filter((slot) => !used.has(slot));
    // Only as many waiters as there are free slots may take one, oldest ticket first.
    if (ahead >= 0 && ahead < free.length) {
      for (const slot of free) {
        if (await createLock(join(heldDir, slot), formatOwner(ownIdentity(), label))) return { slot };
      }
    }
    return { wait: { ahead: Math.max(0, ahead), held: held.length, size: options.size } };
  }

  async function waitForSlot(
    label: string,
    ticket: string,
    changes: FolderWatch,
    options: AcquireOptions,
  ): Promise<string> {
    let last = "";
    for (;;) {
      options.signal?.throwIfAborted();
      const outcome = await tryTake(label, ticket);
      if (outcome.slot !== undefined) return outcome.slot;
      const place = JSON.stringify(outcome.wait);
      if (place !== last) options.onWait?.(outcome.wait);
      last = place;
      await changes.next(pollMs, options.signal);
    }
  }

  return {
    name: options.name,
    size: options.size,
    async acquire(label, acquireOptions = {}) {
      await prepared;
      await Promise.all([removeAbandonedReaping(heldDir), removeAbandonedReaping(queueDir)]);
      const started = Date.now();
      const ticket = await enqueue(label);
      const changes = watchFolders([heldDir, queueDir]);
      let slot: string;
      try {
        slot = await waitForSlot(label, ticket, changes, acquireOptions);
      } finally {
        changes.close();
        await unlink(join(queueDir, ticket)).catch(() => undefined);
      }
      const held = join(heldDir, slot);
      let released = false;
      return {
        waitedMs: Date.now() - started,
        async release() {
          if (released) return;
          released = true;
          await removeLock(held);
        },
      };
    },
    async snapshot() {
      await prepared;
      const [held, waiting] = await Promise.all([liveEntries(heldDir), liveEntries(queueDir)]);
      return {
        name: options.name,
        size: options.size,
        held: held.map((h) => holderOf(h.text)),
        waiting: waiting.map((w) => holderOf(w.text)),
      };
    },
  };
}

interface FolderWatch {
  next(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  close(): void;
}

/** Resolves `next` when a file in one of the folders changes, or after `timeoutMs` at the latest. */
function watchFolders(dirs: string[]): FolderWatch {
  let wake: (() => void) | undefined;
  let changed = false;
  const onChange = () => {
    changed = true;
    wake?.();
  };
  const watchers: FSWatcher[] = [];
  for (const dir of dirs) {
    try {
      watchers.push(watch(dir, onChange).on("error", () => undefined));
    } catch {
      // No change notification here: the poll alone wakes waiters.
    }
  }
  return {
    async next(timeoutMs: number, signal?: AbortSignal): Promise<void> {
      if (changed) {
        changed = false;
        return;
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", done);
          wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        signal?.addEventListener("abort", done, { once: true });
        wake = done;
      });
      changed = false;
    },
    close() {
      for (const w of watchers) w.close();
    },
  };
}
