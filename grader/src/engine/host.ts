import type { Trace } from "./trace.ts";

/** Readings closer together than this say too little about a window to blame the host. */
const SHORTEST_READ_SPAN_MS = 10_000;

/**
 * The share of [from, to] in which some runnable task on the host waited for a CPU, from the
 * trace's PSI readings (the first and last reading inside the window); undefined when the host
 * was not read, or not over at least SHORTEST_READ_SPAN_MS of the window.
 */
export function cpuContention(trace: Trace, from: number, to: number): number | undefined {
  const inside = (trace.host ?? []).filter((s) => s.at >= from && s.at <= to);
  const first = inside[0];
  const last = inside.at(-1);
  if (!first || !last || last.at - first.at < SHORTEST_READ_SPAN_MS) return undefined;
  return Math.min(1, Math.max(0, (last.cpuWaitedMs - first.cpuWaitedMs) / (last.at - first.at)));
}
