import { z } from "zod";

/** Any Kubernetes object as read from the API; fields beyond metadata are checked by the checks that read them. */
export const KubeObjectSchema = z
  .object({
    apiVersion: z.string(),
    kind: z.string(),
    metadata: z
      .object({
        name: z.string(),
        namespace: z.string().optional(),
        uid: z.string().optional(),
        resourceVersion: z.string().optional(),
        generation: z.number().optional(),
        labels: z.record(z.string(), z.string()).optional(),
        annotations: z.record(z.string(), z.string()).optional(),
        finalizers: z.array(z.string()).optional(),
        deletionTimestamp: z.string().optional(),
        ownerReferences: z.array(z.record(z.string(), z.unknown())).optional(),
      })
      .passthrough(),
  })
  .passthrough();
export type KubeObject = z.infer<typeof KubeObjectSchema>;

/** One version of one watched object, in the order the recorder received it. */
export interface TraceEntry {
  /** Position in the whole trace (all kinds, all namespaces): 0, 1, 2, … */
  seq: number;
  /** Milliseconds since the grade's clock started (the recorder stamps it on receipt). */
  at: number;
  /**
   * The version's etcd revision (its resourceVersion as a number), when it has one. Every kind
   * shares one revision space, so this orders versions of different objects as they were written,
   * whatever order their watch streams delivered them in.
   */
  rv?: number;
  type: "ADDED" | "MODIFIED" | "DELETED";
  object: KubeObject;
}

/** The revision of a resourceVersion, when it is one (etcd's are decimal integers; others are opaque). */
export function revisionOf(resourceVersion: string | undefined): number | undefined {
  return resourceVersion !== undefined && /^\d{1,15}$/.test(resourceVersion) ? Number(resourceVersion) : undefined;
}

/** A Kubernetes Event, normalised from core/v1 or events.k8s.io/v1. */
export interface EventRecord {
  at: number;
  api: "core/v1" | "events.k8s.io/v1";
  type: string;
  reason: string;
  message: string;
  regarding: { kind: string; name: string; namespace?: string };
  reportingController?: string;
}

/** One line the operator printed, stamped on receipt. */
export interface LogLine {
  at: number;
  stream: "stdout" | "stderr";
  text: string;
  /** The pod whose manager wrote it, when a grade runs one manager per pod of a Deployment. */
  pod?: string;
}

/** A result the runner obtained by asking the cluster something (dry-run apply, SubjectAccessReview). */
export type ProbeResult =
  | { kind: "admission"; at: number; accepted: boolean; message: string; object?: KubeObject }
  | { kind: "access"; at: number; allowed: boolean; reason: string };

/**
 * A stretch of time in which one kind's versions may be missing: its watch broke (410 Gone, a
 * dropped connection) and was re-listed, so only the state at `to` is known, not what came between.
 */
export interface TraceGap {
  kind: string;
  /** The last moment the watch was known to deliver (ms on the grade clock). */
  from: number;
  /** When the re-list's state was recorded. */
  to: number;
}

/**
 * A reading of the host's CPU pressure (Linux PSI, /proc/pressure/cpu): between two readings,
 * the growth of `cpuWaitedMs` over the time between them is the share of that time in which some
 * runnable task had to wait for a CPU.
 */
export interface HostSample {
  at: number;
  /** Cumulative ms in which at least one runnable task waited for a CPU (PSI's "some" total). */
  cpuWaitedMs: number;
}

/** What the recorder saw: the engine judges only this. */
export interface Trace {
  entries: TraceEntry[];
  events: EventRecord[];
  logs: LogLine[];
  /** Where the record of a kind may be incomplete; none in a healthy grade. */
  gaps?: TraceGap[];
  /** The host's CPU pressure, read every few seconds; absent where the kernel does not tell. */
  host?: HostSample[];
}
