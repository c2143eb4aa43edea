import type { Bind, ObjectSelector } from "./params.ts";
import type { EventRecord, KubeObject, Trace, TraceEntry } from "./trace.ts";

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

/** A moment of the trace: a version, placed by its revision where it has one, else by arrival. */
export type Point = Pick<TraceEntry, "seq" | "rv">;

/** After everything recorded. */
export const END: Point = { seq: Number.POSITIVE_INFINITY, rv: Number.POSITIVE_INFINITY };

/**
 * Trace order: by etcd revision when both versions have one (the order they were written in), by
 * arrival otherwise. Watch streams of different kinds deliver independently, so an operator that
 * watches one kind and writes another a few milliseconds later can be recorded in either order.
 */
export function compareOrder(a: Point, b: Point): number {
  if (a.rv !== undefined && b.rv !== undefined && a.rv !== b.rv) return a.rv - b.rv;
  return a.seq - b.seq;
}

/** The object as last seen at or before `point`, or null when it did not exist then. */
export function stateAt(history: TraceEntry[], point: Point): TraceEntry | null {
  let latest: TraceEntry | null = null;
  for (const entry of history) {
    if (compareOrder(entry, point) > 0) break;
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

/** CEL variables for one moment: `self` and every alias bound to its latest version at `point` (or null). */
export function variablesAt(self: KubeObject, bound: Bound[], point: Point): Record<string, unknown> {
  const variables: Record<string, unknown> = { self };
  for (const { alias, history } of bound) variables[alias] = stateAt(history, point)?.object ?? null;
  return variables;
}

/** The bound objects as they were at `point`, for evidence. */
export function boundObjectsAt(bound: Bound[], point: Point): KubeObject[] {
  return bound.flatMap(({ history }) => {
    const entry = stateAt(history, point);
    return entry ? [entry.object] : [];
  });
}

export function aliasNames(bind: Bind | undefined): string[] {
  return ["self", ...Object.keys(bind ?? {})];
}

export interface Moment extends Point {
  at: number;
}

/**
 * The moments a window looks at: its opening (the state then, at `since`) and every later
 * change of any of the given objects, in trace order.
 */
export function momentsOf(histories: TraceEntry[][], since: number): Moment[] {
  const all = histories.flat().sort(compareOrder);
  const before = all.filter((entry) => entry.at < since);
  const opening = before[before.length - 1];
  const moments: Moment[] = opening ? [{ seq: opening.seq, rv: opening.rv, at: since }] : [];
  for (const entry of all) if (entry.at >= since) moments.push({ seq: entry.seq, rv: entry.rv, at: entry.at });
  return moments;
}

/** When any of the objects last changed (ms on the grade clock), or -Infinity if none was ever seen. */
export function lastChangeOf(trace: Trace, selectors: ObjectSelector[], namespace: string): number {
  let last = Number.NEGATIVE_INFINITY;
  for (const selector of selectors) {
    const latest = historyOf(trace, selector, namespace).at(-1);
    if (latest && latest.at > last) last = latest.at;
  }
  return last;
}

/** Per list of Events: how far it has been read, what was said so far, and when each namespace last heard news. */
interface EventNews {
  read: number;
  said: Set<string>;
  lastNewsIn: Map<string, number>;
}
const eventNews = new WeakMap<EventRecord[], EventNews>();

/**
 * When each namespace last had an Event that said something new: an Event repeating an earlier
 * one about the same object (a controller retrying a create a quota refuses, every few seconds)
 * is no progress. Events are only ever appended, so each is read once.
 */
function lastNewsIn(events: EventRecord[], namespace: string): number {
  const news = eventNews.get(events) ?? { read: 0, said: new Set<string>(), lastNewsIn: new Map<string, number>() };
  eventNews.set(events, news);
  for (; news.read < events.length; news.read++) {
    const event = events[news.read]!;
    const { kind, name, namespace: ns = "" } = event.regarding;
    const key = JSON.stringify([kind, ns, name, event.reason, event.message]);
    if (news.said.has(key)) continue;
    news.said.add(key);
    news.lastNewsIn.set(ns, event.at);
  }
  return news.lastNewsIn.get(namespace) ?? Number.NEGATIVE_INFINITY;
}

/**
 * When anything last happened in a namespace (ms on the grade clock): a recorded version of an
 * object in it, or an Event about one that says something not said before (a real pod's progress
 * shows as Events: scheduled, pulled, started). -Infinity if nothing did.
 */
export function lastActivityIn(trace: Trace, namespace: string): number {
  let last = Number.NEGATIVE_INFINITY;
  for (let i = trace.entries.length - 1; i >= 0; i--) {
    const entry = trace.entries[i]!;
    if (entry.object.metadata.namespace === namespace) {
      last = entry.at;
      break;
    }
  }
  return Math.max(last, lastNewsIn(trace.events, namespace));
}

/**
 * Kinds recorded in every grade whatever the lab declares: the platform's own work toward an
 * operator's objects (a pod being scheduled, its volume provisioned, its containers started)
 * shows in them, and a check must not give up on a record that stands still only because the
 * platform is slow.
 */
export const PLATFORM_KINDS = [{ apiVersion: "v1", kind: "Pod" }] as const;

/** Waiting reasons that mean the kubelet is still setting a container up, not that it cannot. */
const SETTING_UP = new Set(["ContainerCreating", "PodInitializing"]);

interface PodStatus {
  phase?: string;
  conditions?: { type?: string; status?: string; reason?: string }[];
  containerStatuses?: ContainerStatus[];
  initContainerStatuses?: ContainerStatus[];
}
interface ContainerStatus {
  ready?: boolean;
  state?: { waiting?: { reason?: string }; running?: unknown; terminated?: unknown };
}

/** What the platform is still doing for a pod, in a learner's words. */
export type PodStage =
  | "being stopped"
  | "waiting for a node or a volume"
  | "having its containers created"
  | "running its init containers"
  | "running, not yet ready";

/** Stages in which the pod's own containers have not run yet: how long they last is the host's doing. */
const BEFORE_ITS_CONTAINERS_RUN = new Set<PodStage>([
  "being stopped",
  "waiting for a node or a volume",
  "having its containers created",
]);

/**
 * What the platform is still doing for this pod: it waits for a node or a volume, its containers
 * are being created, started or probed, or it is being stopped. Undefined for a pod that is ready,
 * has finished, or cannot go on without a change to what it asks for (unschedulable, an image that
 * cannot be pulled, a container crashing or misconfigured).
 */
export function podStage(pod: KubeObject): PodStage | undefined {
  if (pod.metadata.deletionTimestamp !== undefined) return "being stopped";
  const status = (pod as { status?: PodStatus }).status ?? {};
  if (status.phase === "Succeeded" || status.phase === "Failed") return undefined;
  const scheduled = status.conditions?.find((c) => c.type === "PodScheduled");
  if (scheduled?.status === "False" && scheduled.reason === "Unschedulable") return undefined;
  const containers = [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])];
  if (containers.some((c) => c.state?.waiting?.reason !== undefined && !SETTING_UP.has(c.state.waiting.reason)))
    return undefined;
  if (status.phase !== "Running") {
    if (scheduled?.status !== "True") return "waiting for a node or a volume";
    const initRunning = (status.initContainerStatuses ?? []).some((c) => c.state?.running !== undefined);
    return initRunning ? "running its init containers" : "having its containers created";
  }
  const starting = (status.containerStatuses ?? []).some((c) => !c.ready && c.state?.running !== undefined);
  return starting ? "running, not yet ready" : undefined;
}

/** What a kubelet says of a volume whose Secret or ConfigMap does not exist. */
const MISSING_VOLUME_SOURCE = /\b(secret|configmap) "([^"]+)" not found/i;

/**
 * The Secret or ConfigMap a pod's volume names, when the kubelet's last word on the pod is that it
 * could not mount it because it does not exist, and the trace has no such object now: that pod
 * waits on the operator (a wrong name, an object never made), not on the platform.
 */
export function missingVolumeSource(trace: Trace, namespace: string, pod: string): string | undefined {
  let last: EventRecord | undefined;
  for (const event of trace.events) {
    const { kind, name, namespace: ns } = event.regarding;
    if (kind === "Pod" && name === pod && ns === namespace) last = event;
  }
  if (last?.reason !== "FailedMount") return undefined;
  const match = MISSING_VOLUME_SOURCE.exec(last.message);
  if (!match) return undefined;
  const kind = match[1]!.toLowerCase() === "secret" ? "Secret" : "ConfigMap";
  const latest = lastEntry(historyOf(trace, { kind, name: match[2]! }, namespace));
  return latest && latest.type !== "DELETED" ? undefined : `${kind} ${match[2]!}`;
}

/** The pods of a namespace the platform is still at work on, at the end of the trace, with their stage. */
export function podsAtWorkIn(trace: Trace, namespace: string): { name: string; stage: PodStage }[] {
  const latest = new Map<string, TraceEntry>();
  for (const entry of trace.entries) {
    const { kind, metadata } = entry.object;
    if (kind === "Pod" && metadata.namespace === namespace) latest.set(metadata.name, entry);
  }
  const pods: { name: string; stage: PodStage }[] = [];
  for (const [name, entry] of latest) {
    const stage = entry.type === "DELETED" ? undefined : podStage(entry.object);
    if (!stage) continue;
    if (stage === "having its containers created" && missingVolumeSource(trace, namespace, name)) continue;
    pods.push({ name, stage });
  }
  return pods;
}

/** Whether the platform is still starting (or stopping) a pod in the namespace. */
export function platformAtWorkIn(trace: Trace, namespace: string): boolean {
  return podsAtWorkIn(trace, namespace).length > 0;
}

/** Pods of the namespace whose containers the host has not even started yet (see BEFORE_ITS_CONTAINERS_RUN). */
export function podsNotYetRunIn(trace: Trace, namespace: string): { name: string; stage: PodStage }[] {
  return podsAtWorkIn(trace, namespace).filter((p) => BEFORE_ITS_CONTAINERS_RUN.has(p.stage));
}
