import { readFileSync } from "node:fs";

const SOME_TOTAL = /^some .*\btotal=(\d+)/m;

/** PSI's cumulative "some" CPU stall of the whole host, in ms, parsed from /proc/pressure/cpu's text. */
export function parseCpuWaitedMs(text: string): number | undefined {
  const match = SOME_TOTAL.exec(text);
  return match ? Number(match[1]) / 1000 : undefined;
}

/** The host's cumulative CPU stall in ms; undefined where the kernel has no PSI (or hides it). */
export function readCpuWaitedMs(file = "/proc/pressure/cpu"): number | undefined {
  try {
    return parseCpuWaitedMs(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}
