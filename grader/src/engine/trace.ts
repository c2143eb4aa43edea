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
  type: "ADDED" | "MODIFIED" | "DELETED";
  object: KubeObject;
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
}

/** A result the runner obtained by asking the cluster something (dry-run apply, SubjectAccessReview). */
export type ProbeResult =
  | { kind: "admission"; at: number; accepted: boolean; message: string; object?: KubeObject }
  | { kind: "access"; at: number; allowed: boolean; reason: string };

/** What the recorder saw: the engine judges only this. */
export interface Trace {
  entries: TraceEntry[];
  events: EventRecord[];
  logs: LogLine[];
}
