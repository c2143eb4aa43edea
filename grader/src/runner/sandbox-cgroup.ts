import { readdirSync, readFileSync } from "node:fs";
import { access, constants, mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** The cgroup v1 controllers a sandbox is limited by; the process joins each before it execs. */
export const CONTROLLERS = ["memory", "pids", "cpu"] as const;
export type Controller = (typeof CONTROLLERS)[number];

/** Every sandbox's cgroups live under this name in each controller's hierarchy. */
const PARENT = "labgrader";
const CFS_PERIOD_US = 100_000;

export interface CgroupLimits {
  memoryBytes: number;
  pids: number;
  cpuCores: number;
}

/** What the kernel counted while the sandbox ran: enough to say which limit ended it. */
export interface CgroupEvents {
  /** Times an allocation hit the memory limit (memory.failcnt). */
  memoryFailures: number;
  /** Processes the OOM killer killed in this cgroup (oom_kill in memory.oom_control; 0 on kernels without it). */
  oomKills: number;
  /** Forks refused at pids.max (`max` in pids.events). */
  pidsRefused: number;
}

export function cgroupDir(mount: string, controller: Controller, name: string): string {
  return join(mount, controller, PARENT, name);
}

export function parentDirs(mount: string): string[] {
  return CONTROLLERS.map((c) => join(mount, c, PARENT));
}

async function exists(path: string): Promise<boolean> {
  return access(path, constants.F_OK).then(
    () => true,
    () => false,
  );
}

/** Whether each controller is mounted as cgroup v1 and we may create cgroups in it. */
export async function cgroupProblems(mount: string): Promise<string[]> {
  const problems: string[] = [];
  for (const controller of CONTROLLERS) {
    const dir = join(mount, controller);
    const file = join(
      dir,
      controller === "memory" ? "memory.limit_in_bytes" : controller === "pids" ? "cgroup.procs" : "cpu.cfs_quota_us",
    );
    if (!(await exists(file))) problems.push(`the cgroup v1 ${controller} controller is not mounted at ${dir}`);
    else if (
      await access(dir, constants.W_OK).then(
        () => false,
        () => true,
      )
    )
      problems.push(`${dir} is not writable (the grader must run as root)`);
  }
  return problems;
}

export async function createCgroups(mount: string, name: string, limits: CgroupLimits): Promise<string[]> {
  const procs: string[] = [];
  for (const controller of CONTROLLERS) {
    const dir = cgroupDir(mount, controller, name);
    await mkdir(dir, { recursive: true });
    procs.push(join(dir, "cgroup.procs"));
  }
  const memory = cgroupDir(mount, "memory", name);
  await writeFile(join(memory, "memory.limit_in_bytes"), String(limits.memoryBytes));
  // Without a memsw limit the kernel would let the sandbox swap out instead of stopping it.
  if (await exists(join(memory, "memory.memsw.limit_in_bytes")))
    await writeFile(join(memory, "memory.memsw.limit_in_bytes"), String(limits.memoryBytes));
  await writeFile(join(cgroupDir(mount, "pids", name), "pids.max"), String(limits.pids));
  const cpu = cgroupDir(mount, "cpu", name);
  await writeFile(join(cpu, "cpu.cfs_period_us"), String(CFS_PERIOD_US));
  await writeFile(join(cpu, "cpu.cfs_quota_us"), String(Math.round(limits.cpuCores * CFS_PERIOD_US)));
  return procs;
}

const number = (text: string | undefined) => (text ? Number(text.trim()) || 0 : 0);

export async function readEvents(mount: string, name: string): Promise<CgroupEvents> {
  const read = (controller: Controller, file: string) =>
    readFile(join(cgroupDir(mount, controller, name), file), "utf8").catch(() => "");
  const oomControl = await read("memory", "memory.oom_control");
  const pidsEvents = await read("pids", "pids.events");
  return {
    memoryFailures: number(await read("memory", "memory.failcnt")),
    oomKills: number(/^oom_kill (\d+)$/m.exec(oomControl)?.[1]),
    pidsRefused: number(/^max (\d+)$/m.exec(pidsEvents)?.[1]),
  };
}

/** Every process in the sandbox, whatever process group or session it moved itself to. */
export async function cgroupPids(mount: string, name: string): Promise<number[]> {
  const pids = new Set<number>();
  for (const controller of CONTROLLERS) {
    const text = await readFile(join(cgroupDir(mount, controller, name), "cgroup.procs"), "utf8").catch(() => "");
    for (const line of text.split("\n")) if (line.trim()) pids.add(Number(line));
  }
  return [...pids];
}

/**
 * SIGKILLs whatever is in the cgroups until they are empty. A fork bomb keeps forking while it is
 * being killed, so this repeats; pids.max bounds how many rounds that can take.
 */
export async function killCgroupTasks(mount: string, name: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = await cgroupPids(mount, name);
    if (pids.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(`processes ${pids.join(", ")} in sandbox ${name} survived SIGKILL for ${timeoutMs} ms`);
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
    await sleep(20);
  }
}

function runningAs(uid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let status: string;
    try {
      status = readFileSync(`/proc/${entry}/status`, "utf8");
    } catch {
      continue;
    }
    const uids = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(status);
    const zombie = /^State:\s+Z/m.test(status);
    if (!zombie && uids && uids.slice(1).some((u) => Number(u) === uid)) pids.push(Number(entry));
  }
  return pids;
}

/**
 * Kills whatever still runs as the uid. Nothing should, as every process of a sandbox is in its
 * cgroups; this is the check that the uid is free before anyone else gets it.
 */
export async function killUidProcesses(uid: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = runningAs(uid);
    if (pids.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(`processes ${pids.join(", ")} of uid ${uid} survived SIGKILL for ${timeoutMs} ms`);
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
    await sleep(20);
  }
}

/** Removes the (empty) cgroups; rmdir on a cgroup with tasks fails with EBUSY, which is reported. */
export async function removeCgroups(mount: string, name: string): Promise<void> {
  for (const controller of CONTROLLERS) {
    const dir = cgroupDir(mount, controller, name);
    for (let attempt = 0; ; attempt++) {
      try {
        await rmdir(dir);
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "ENOENT") break;
        // A task that was just killed leaves the cgroup a moment after it is reaped.
        if (code === "EBUSY" && attempt < 50) {
          await sleep(20);
          continue;
        }
        throw new Error(`while removing cgroup ${dir}`, { cause: e });
      }
    }
  }
}
