import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";

/** Whether a process (or, for a negative pid, a process group) still exists; a zombie has already exited. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  return pid < 0 || !isZombie(pid);
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z";
  } catch {
    return false;
  }
}

/**
 * Waits until none of the processes exist. They are not our children, so there is nothing to
 * wait on but /proc; the poll interval is short and the wait is bounded.
 */
export async function waitForExit(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = pids.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await sleep(50);
    alive = alive.filter(isAlive);
  }
  return alive;
}

/** SIGTERM, then SIGKILL after graceMs for whatever is left; returns once all are gone (or reports who is not). */
export async function terminate(pids: number[], graceMs: number): Promise<number[]> {
  for (const pid of pids) signal(pid, "SIGTERM");
  const left = await waitForExit(pids, graceMs);
  for (const pid of left) signal(pid, "SIGKILL");
  return waitForExit(left, 5_000);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/**
 * One process, even after its pid is reused: its pid and its start time in clock ticks since boot
 * (field 22 of /proc/<pid>/stat). Lock owners, cluster record owners and a control plane's
 * components are named so.
 */
export const ProcessIdentitySchema = z.object({
  pid: z.number(),
  /** Empty when the process was gone before it could be read: it is then never running. */
  startTicks: z.string(),
});
export type ProcessIdentity = z.infer<typeof ProcessIdentitySchema>;

/** The process with this pid as it is now (a pid that names no process gets an empty start time). */
export function identify(pid: number): ProcessIdentity {
  return { pid, startTicks: processStartTicks(pid) ?? "" };
}

/** This process. */
export function ownIdentity(): ProcessIdentity {
  return identify(process.pid);
}

/** Whether that very process still runs: its pid exists, is not a zombie, and started when it did. */
export function stillRunning(p: ProcessIdentity): boolean {
  return p.startTicks !== "" && isAlive(p.pid) && processStartTicks(p.pid) === p.startTicks;
}

/** The start time of a process in clock ticks since boot: with the pid, it names one process even after pid reuse. */
function processStartTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}
