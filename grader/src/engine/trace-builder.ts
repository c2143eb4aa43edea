import type { CheckContext } from "./check.ts";
import type { EventRecord, KubeObject, LogLine, Trace, TraceEntry } from "./trace.ts";

/**
 * Builds traces by hand, for tests and for replaying what an operator is known to do:
 * `t.at(1200).add(backup({ phase: "Pending" }))`.
 */
export interface TraceBuilder {
  /** Sets the clock (ms) for the next records. */
  at: (ms: number) => TraceBuilder;
  add: (object: KubeObject) => TraceBuilder;
  modify: (object: KubeObject) => TraceBuilder;
  delete: (object: KubeObject) => TraceBuilder;
  event: (event: Omit<EventRecord, "at">) => TraceBuilder;
  log: (text: string, stream?: LogLine["stream"]) => TraceBuilder;
  trace: () => Trace;
  /** A context over everything recorded so far, the clock at the last record unless given. */
  context: (overrides?: Partial<CheckContext>) => CheckContext;
}

export function createTraceBuilder(): TraceBuilder {
  const entries: TraceEntry[] = [];
  const events: EventRecord[] = [];
  const logs: LogLine[] = [];
  let clock = 0;
  let resourceVersion = 100;

  const record = (type: TraceEntry["type"], object: KubeObject): TraceBuilder => {
    resourceVersion += 1;
    const stamped = { ...object, metadata: { ...object.metadata, resourceVersion: String(resourceVersion) } };
    entries.push({ seq: entries.length, at: clock, type, object: stamped });
    return builder;
  };

  const builder: TraceBuilder = {
    at: (ms) => {
      clock = ms;
      return builder;
    },
    add: (object) => record("ADDED", object),
    modify: (object) => record("MODIFIED", object),
    delete: (object) => record("DELETED", object),
    event: (event) => {
      events.push({ ...event, at: clock });
      return builder;
    },
    log: (text, stream = "stderr") => {
      logs.push({ at: clock, stream, text });
      return builder;
    },
    trace: () => ({ entries: [...entries], events: [...events], logs: [...logs] }),
    context: (overrides = {}) => ({
      trace: builder.trace(),
      namespace: "ns",
      since: 0,
      now: clock,
      final: false,
      ...overrides,
    }),
  };
  return builder;
}

export interface ObjectOptions {
  namespace?: string;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  metadata?: Partial<KubeObject["metadata"]>;
}

/** A namespaced object of the course's API group (or any apiVersion given). */
export function kubeObject(kind: string, name: string, options: ObjectOptions = {}, apiVersion = "database.example.com/v1"): KubeObject {
  const object: KubeObject = {
    apiVersion,
    kind,
    metadata: { name, namespace: options.namespace ?? "ns", uid: `uid-${kind}-${name}`, ...options.metadata },
  };
  if (options.spec) object.spec = options.spec;
  if (options.status) object.status = options.status;
  return object;
}

/** A metav1.Condition as controllers write it. */
export function condition(type: string, status: "True" | "False" | "Unknown", reason: string, message = ""): Record<string, string> {
  return { type, status, reason, message, lastTransitionTime: "2026-01-01T00:00:00Z" };
}
