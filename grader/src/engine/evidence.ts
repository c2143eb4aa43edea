import type { Evidence, TimelineItem, Verdict } from "./check.ts";
import { conditionsOf, isRecord } from "./cel.ts";
import type { KubeObject, TraceEntry } from "./trace.ts";

/** The most timeline rows a verdict carries; the end of a story matters most. */
const TIMELINE_LIMIT = 40;

function text(value: unknown): string | undefined {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean"
    ? String(value)
    : undefined;
}

/** "BackupReady=False/DatabaseNotReady" for each condition of the object. */
export function conditionSummaries(object: KubeObject): string[] {
  return conditionsOf(object).map((c) => {
    const reason = text(c.reason);
    return `${text(c.type) ?? "?"}=${text(c.status) ?? "?"}${reason ? `/${reason}` : ""}`;
  });
}

/** A one-line state of an object version, e.g. "phase=Pending BackupReady=False/DatabaseNotReady". */
export function summarize(object: KubeObject): string {
  const status = isRecord(object.status) ? object.status : undefined;
  const parts: string[] = [];
  const phase = text(status?.phase);
  if (phase !== undefined) parts.push(`phase=${phase}`);
  else if (status && "readyReplicas" in status) parts.push(`readyReplicas=${text(status.readyReplicas) ?? "?"}`);
  parts.push(...conditionSummaries(object));
  if (object.metadata.deletionTimestamp) {
    const finalizers = object.metadata.finalizers ?? [];
    parts.push(finalizers.length > 0 ? `deleting, finalizers=${finalizers.join(",")}` : "deleting");
  }
  if (parts.length === 0) parts.push(status ? "status without phase" : "no status");
  return parts.join(" ");
}

export function summarizeEntry(entry: TraceEntry): string {
  return entry.type === "DELETED" ? "deleted" : summarize(entry.object);
}

/** Timeline rows for the given entries (any kinds), oldest first, the latest ones kept. */
export function timelineOf(entries: TraceEntry[]): TimelineItem[] {
  const sorted = [...entries].sort((a, b) => a.seq - b.seq);
  return sorted.slice(-TIMELINE_LIMIT).map((entry) => ({
    at: entry.at,
    seq: entry.seq,
    type: entry.type,
    kind: entry.object.kind,
    name: entry.object.metadata.name,
    summary: summarizeEntry(entry),
  }));
}

/** Evidence from the objects current at decision time and the entries that tell their story. */
export function evidenceOf(objects: (KubeObject | null | undefined)[], entries: TraceEntry[]): Evidence {
  return { objects: objects.filter((o): o is KubeObject => Boolean(o)), timeline: timelineOf(entries) };
}

export const emptyEvidence: Evidence = { objects: [], timeline: [] };

/** "12.3 s" — durations as a learner reads them. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const seconds = ms / 1000;
  return seconds < 100 ? `${seconds.toFixed(1)} s` : `${Math.round(seconds)} s`;
}

export function pending(recheckAt?: number): Verdict {
  return recheckAt === undefined ? { status: "pending" } : { status: "pending", recheckAt };
}

export function passed(message: string, decidedAt: number, evidence: Evidence): Verdict {
  return { status: "passed", message, decidedAt, evidence };
}

export interface Failure {
  message: string;
  expected: string;
  actual: string;
  decidedAt: number;
  evidence: Evidence;
}

export function failed(failure: Failure): Verdict {
  return { status: "failed", ...failure };
}

/** What an object looks like now, in words: "never created", "deleted", or its summary. */
export function currentState(history: TraceEntry[], what: string): string {
  const last = history[history.length - 1];
  if (!last) return `${what} was never created`;
  if (last.type === "DELETED") return `${what} was deleted`;
  return `${what} is ${summarize(last.object)}`;
}
