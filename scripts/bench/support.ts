// Shared set-up for the benchmark scripts: config and toolchain as the CLI gets them, plus small statistics.
import { readFileSync } from "node:fs";
import { graderConfigFromEnv } from "../../grader/src/config.ts";
import { ensureToolchain, type Toolchain } from "../../grader/src/toolchain/build.ts";

export const config = graderConfigFromEnv(process.env);

export async function toolchain(): Promise<Toolchain> {
  return (await ensureToolchain({ cacheDir: config.cacheDir, env: process.env, log: (l) => console.error(l) }, false))
    .toolchain;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Resident memory of a process in MB, from /proc. */
export function rssMb(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb ? Number(kb) / 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * CPU time a process has used so far, user and system, in seconds, from /proc (its 14th and 15th
 * fields, in clock ticks of 1/100 s on Linux); 0 once it is gone.
 */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

export const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
