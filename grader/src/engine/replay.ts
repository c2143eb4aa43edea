import type { CheckContext, FinalVerdict } from "./check.ts";
import { evaluateCheck, type CheckCall } from "./registry.ts";
import type { ProbeResult, Trace } from "./trace.ts";

/** The window a check was (or would have been) evaluated in. */
export interface ReplayWindow {
  /** The scenario's namespace. */
  namespace: string;
  /** When the check started (ms on the grade clock). */
  since: number;
  /** When it had to be decided: its timeout, or the scenario's end for a background check. */
  deadline: number;
  /** The probe's result, for checks that ask for one. */
  probe?: ProbeResult;
}

/** What had been recorded by time `t`. */
export function traceUntil(trace: Trace, t: number): Trace {
  return {
    entries: trace.entries.filter((entry) => entry.at <= t),
    events: trace.events.filter((event) => event.at <= t),
    logs: trace.logs.filter((line) => line.at <= t),
    gaps: (trace.gaps ?? []).filter((gap) => gap.to <= t),
    ...(trace.host ? { host: trace.host.filter((sample) => sample.at <= t) } : {}),
  };
}

/**
 * Evaluates a check exactly as the runner does while recording — after every record in its
 * window, at every `recheckAt` it asks for, then once with `final: true` at the deadline — and
 * returns the first decided verdict. Replays a stored grade, and lets tests drive whole traces.
 */
export function replayCheck(check: CheckCall, trace: Trace, window: ReplayWindow): FinalVerdict {
  const recorded = [...trace.entries, ...trace.events, ...trace.logs].map((record) => record.at);
  const moments = new Set([window.since, ...recorded.filter((at) => at >= window.since && at <= window.deadline)]);
  const queue = [...moments].sort((a, b) => a - b);
  const base = { namespace: window.namespace, since: window.since, ...(window.probe ? { probe: window.probe } : {}) };

  while (queue.length > 0) {
    const now = queue.shift() as number;
    const ctx: CheckContext = { ...base, trace: traceUntil(trace, now), now, final: false };
    const verdict = evaluateCheck(check, ctx);
    if (verdict.status !== "pending") return verdict;
    const recheckAt = verdict.recheckAt;
    if (recheckAt !== undefined && recheckAt > now && recheckAt <= window.deadline && !moments.has(recheckAt)) {
      moments.add(recheckAt);
      queue.push(recheckAt);
      queue.sort((a, b) => a - b);
    }
  }
  const final = evaluateCheck(check, {
    ...base,
    trace: traceUntil(trace, window.deadline),
    now: window.deadline,
    final: true,
  });
  if (final.status === "pending") throw new Error(`a ${check.type} check stayed pending with final: true`);
  return final;
}
