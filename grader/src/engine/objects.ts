import type { Bind, ObjectSelector } from "./params.ts";
import type { KubeObject, Trace, TraceEntry } from "./trace.ts";

/** "Backup nightly" — how a learner names an object. */
export function describeSelector(selector: ObjectSelector): string {
  return `${selector.kind} ${selector.name}`;
}

function selects(object: KubeObject, selector: ObjectSelector, namespace: string): boolean {
  if (object.kind !== selector.kind || object.metadata.name !== selector.name) return false;
  const objectNamespace = object.metadata.namespace;
  // Cluster-scoped objects carry no namespace; a selector's namespace then means nothing.
  return objectNamespace === undefined || objectNamespace === (selector.namespace ?? namespace);
}

/** Every recorded version of one object, in trace order (deletions included). */
export function historyOf(trace: Trace, selector: ObjectSelector, namespace: string): TraceEntry[] {
  return trace.entries.filter((entry) => selects(entry.object, selector, namespace));
}

/** The object as last seen at or before `seq`, or null when it did not exist then. */
export function stateAt(history: TraceEntry[], seq: number): TraceEntry | null {
  let latest: TraceEntry | null = null;
  for (const entry of history) {
    if (entry.seq > seq) break;
    latest = entry;
  }
  return latest && latest.type !== "DELETED" ? latest : null;
}

/** The last entry, deletion included: what the object's story ends with so far. */
export function lastEntry(history: TraceEntry[]): TraceEntry | undefined {
  return history[history.length - 1];
}

/**
 * The versions a window judges: the one current when the window opened (its state then),
 * then every later one. Deletions stay in so callers can tell "gone" from "never seen".
 */
export function windowed(history: TraceEntry[], since: number): TraceEntry[] {
  const before = history.filter((entry) => entry.at < since);
  const carried = before[before.length - 1];
  const after = history.filter((entry) => entry.at >= since);
  return carried && carried.type !== "DELETED" ? [carried, ...after] : after;
}

export interface Bound {
  alias: string;
  selector: ObjectSelector;
  history: TraceEntry[];
}

export function boundHistories(trace: Trace, bind: Bind | undefined, namespace: string): Bound[] {
  return Object.entries(bind ?? {}).map(([alias, selector]) => ({
    alias,
    selector,
    history: historyOf(trace, selector, namespace),
  }));
}

/** CEL variables for one moment: `self` and every alias bound to its latest version at `seq` (or null). */
export function variablesAt(self: KubeObject, bound: Bound[], seq: number): Record<string, unknown> {
  const variables: Record<string, unknown> = { self };
  for (const { alias, history } of bound) variables[alias] = stateAt(history, seq)?.object ?? null;
  return variables;
}

/** The bound objects as they were at `seq`, for evidence. */
export function boundObjectsAt(bound: Bound[], seq: number): KubeObject[] {
  return bound.flatMap(({ history }) => {
    const entry = stateAt(history, seq);
    return entry ? [entry.object] : [];
  });
}

export function aliasNames(bind: Bind | undefined): string[] {
  return ["self", ...Object.keys(bind ?? {})];
}

export interface Moment {
  seq: number;
  at: number;
}

/**
 * The moments a window looks at: its opening (the state then, at `since`) and every later
 * change of any of the given objects, in trace order.
 */
export function momentsOf(histories: TraceEntry[][], since: number): Moment[] {
  const all = histories.flat().sort((a, b) => a.seq - b.seq);
  const before = all.filter((entry) => entry.at < since);
  const opening = before[before.length - 1];
  const moments: Moment[] = opening ? [{ seq: opening.seq, at: since }] : [];
  for (const entry of all) if (entry.at >= since) moments.push({ seq: entry.seq, at: entry.at });
  return moments;
}
