import {
  revisionOf,
  type EventRecord,
  type KubeObject,
  type LogLine,
  type Trace,
  type TraceEntry,
} from "../engine/trace.ts";
import type { KubeClient } from "./client.ts";
import { watchResource, type WatchHandle } from "./watch.ts";

export interface RecordedKind {
  apiVersion: string;
  kind: string;
}

export interface Recorder {
  /** Grows as versions arrive; the engine reads it. */
  trace: Trace;
  /** Called after every new entry, event or log line. Returns an unsubscribe function. */
  onChange(listener: () => void): () => void;
  addLog(line: LogLine): void;
  /** Resolves when every watch has listed and is watching: apply fixtures only after this. */
  ready: Promise<void>;
  /**
   * Resolves once the trace holds this version of the object (or a later one), so a check started
   * after an action sees the action's result; false when the kind is not recorded or time ran out.
   */
  caughtUp(object: KubeObject, timeoutMs: number): Promise<boolean>;
  /** Resolves once the trace shows the object being deleted (deletionTimestamp set, or gone); false as above. */
  caughtUpDeletion(object: KubeObject, timeoutMs: number): Promise<boolean>;
  /** A watch that could not continue (for example 403): the grade cannot be trusted. */
  failure(): Error | undefined;
  stop(): void;
}

interface CoreEvent {
  type?: string;
  reason?: string;
  message?: string;
  involvedObject?: { kind?: string; name?: string; namespace?: string };
  reportingComponent?: string;
  source?: { component?: string };
}

/** core/v1 and events.k8s.io/v1 are two views of the same stored Events: watching one sees events written through either. */
export function normaliseEvent(object: KubeObject, at: number): EventRecord {
  const e = object as KubeObject & CoreEvent;
  const created = e.reportingComponent ? "events.k8s.io/v1" : "core/v1";
  return {
    at,
    api: created,
    type: e.type ?? "",
    reason: e.reason ?? "",
    message: e.message ?? "",
    regarding: {
      kind: e.involvedObject?.kind ?? "",
      name: e.involvedObject?.name ?? "",
      namespace: e.involvedObject?.namespace,
    },
    reportingController: e.reportingComponent || e.source?.component || undefined,
  };
}

/** How often the host's CPU pressure is read into the trace. */
export const HOST_SAMPLE_INTERVAL_MS = 5_000;

/**
 * Records every version of the given kinds, in all namespaces, and every Event, from the moment it
 * starts; and, when `readCpuWaitedMs` is given and answers, the host's CPU pressure every few seconds.
 */
export function createRecorder(
  client: KubeClient,
  kinds: RecordedKind[],
  clock: () => number,
  readCpuWaitedMs?: () => number | undefined,
): Recorder {
  const trace: Trace = { entries: [], events: [], logs: [], gaps: [] };
  const sampleHost = () => {
    const cpuWaitedMs = readCpuWaitedMs?.();
    if (cpuWaitedMs !== undefined) (trace.host ??= []).push({ at: clock(), cpuWaitedMs });
  };
  sampleHost();
  const sampler = readCpuWaitedMs ? setInterval(sampleHost, HOST_SAMPLE_INTERVAL_MS) : undefined;
  sampler?.unref();
  const lastHeard = new Map<string, number>();
  const listeners = new Set<() => void>();
  let failed: Error | undefined;
  const notify = () => {
    for (const l of listeners) l();
  };
  const onError = (e: Error) => {
    failed ??= e;
    notify();
  };
  const handles: WatchHandle[] = kinds.map((k) =>
    watchResource(
      client,
      { apiVersion: k.apiVersion, kind: k.kind },
      {
        emitInitial: true,
        onEvent: (type, object) => {
          const entry: TraceEntry = {
            seq: trace.entries.length,
            at: clock(),
            rv: revisionOf(object.metadata.resourceVersion),
            type,
            object,
          };
          trace.entries.push(entry);
          lastHeard.set(k.kind, entry.at);
          notify();
        },
        onResync: () => trace.gaps!.push({ kind: k.kind, from: lastHeard.get(k.kind) ?? 0, to: clock() }),
        onError,
      },
    ),
  );
  handles.push(
    watchResource(
      client,
      { apiVersion: "v1", kind: "Event" },
      {
        emitInitial: false,
        onEvent: (type, object) => {
          if (type === "DELETED") return;
          trace.events.push(normaliseEvent(object, clock()));
          notify();
        },
        onError,
      },
    ),
  );
  const recordedKinds = new Set(kinds.map((k) => `${k.apiVersion}/${k.kind}`));
  const sameObject = (a: KubeObject, b: KubeObject) =>
    a.kind === b.kind &&
    a.apiVersion === b.apiVersion &&
    a.metadata.name === b.metadata.name &&
    (a.metadata.namespace ?? "") === (b.metadata.namespace ?? "");
  const atLeast = (seen: string | undefined, wanted: string) => {
    if (seen === undefined) return false;
    // resourceVersions are opaque, but etcd-backed ones are increasing integers.
    return /^\d+$/.test(seen) && /^\d+$/.test(wanted) ? BigInt(seen) >= BigInt(wanted) : seen === wanted;
  };
  const holds = (object: KubeObject) => {
    const wanted = object.metadata.resourceVersion;
    return (
      wanted !== undefined &&
      trace.entries.some((e) => sameObject(e.object, object) && atLeast(e.object.metadata.resourceVersion, wanted))
    );
  };
  const deleting = (object: KubeObject) =>
    trace.entries.some(
      (e) =>
        sameObject(e.object, object) && (e.type === "DELETED" || e.object.metadata.deletionTimestamp !== undefined),
    );
  const waitFor = (object: KubeObject, done: () => boolean, timeoutMs: number): Promise<boolean> => {
    if (!recordedKinds.has(`${object.apiVersion}/${object.kind}`)) return Promise.resolve(false);
    if (done()) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        listeners.delete(check);
        resolve(false);
      }, timeoutMs);
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        listeners.delete(check);
        resolve(true);
      };
      listeners.add(check);
    });
  };
  return {
    trace,
    caughtUp: (object, timeoutMs) =>
      object.metadata.resourceVersion ? waitFor(object, () => holds(object), timeoutMs) : Promise.resolve(false),
    caughtUpDeletion: (object, timeoutMs) => waitFor(object, () => deleting(object), timeoutMs),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    addLog(line) {
      trace.logs.push(line);
      notify();
    },
    ready: Promise.all(handles.map((h) => h.ready)).then(() => undefined),
    failure: () => failed,
    stop() {
      clearInterval(sampler);
      for (const h of handles) h.stop();
      listeners.clear();
    },
  };
}
