import type { CheckContext } from "./check.ts";
import type { EventRecord, KubeObject, LogLine, Trace, TraceEntry } from "./trace.ts";

/**
 * Builds traces by hand, for tests and for replaying what an operator is known to do:
 * `t.at(1200).add(backup({ phase: "Pending" }))`.
 */
export interface TraceBuilder {
  /** Sets the clock (ms) for the next records. */
  at: (ms: number) => TraceBuilder;
  /** `rv` places a version written earlier than it arrives (another watch stream delivered it late). */
  add: (object: KubeObject, options?: RecordOptions) => TraceBuilder;
  modify: (object: KubeObject, options?: RecordOptions) => TraceBuilder;
  delete: (object: KubeObject, options?: RecordOptions) => TraceBuilder;
  /** The revision the last record got. */
  lastRv: () => number;
  event: (event: Omit<EventRecord, "at">) => TraceBuilder;
  log: (text: string, stream?: LogLine["stream"]) => TraceBuilder;
  trace: () => Trace;
  /** A context over everything recorded so far, the clock at the last record unless given. */
  context: (overrides?: Partial<CheckContext>) => CheckContext;
}

export interface RecordOptions {
  /** The version's revision, instead of the next one. */
  rv?: number;
}

export function createTraceBuilder(): TraceBuilder {
  const entries: TraceEntry[] = [];
  const events: EventRecord[] = [];
  const logs: LogLine[] = [];
  let clock = 0;
  let resourceVersion = 100;

  let last = resourceVersion;
  const record = (type: TraceEntry["type"], object: KubeObject, options: RecordOptions = {}): TraceBuilder => {
    if (options.rv === undefined) resourceVersion += 1;
    last = options.rv ?? resourceVersion;
    const stamped = { ...object, metadata: { ...object.metadata, resourceVersion: String(last) } };
    entries.push({ seq: entries.length, at: clock, rv: last, type, object: stamped });
    return builder;
  };

  const builder: TraceBuilder = {
    at: (ms) => {
      clock = ms;
      return builder;
    },
    add: (object, options) => record("ADDED", object, options),
    modify: (object, options) => record("MODIFIED", object, options),
    delete: (object, options) => record("DELETED", object, options),
    lastRv: () => last,
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
export function kubeObject(
  kind: string,
  name: string,
  options: ObjectOptions = {},
  apiVersion = "database.example.com/v1",
): KubeObject {
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
export function condition(
  type: string,
  status: "True" | "False" | "Unknown",
  reason: string,
  message = "",
): Record<string, string> {
  return { type, status, reason, message, lastTransitionTime: "2026-01-01T00:00:00Z" };
}
