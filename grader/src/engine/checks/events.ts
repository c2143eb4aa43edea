import { z } from "zod";
import { defineCheck, type CheckContext, type Evidence, type Verdict } from "../check.ts";
import { failed, passed, pending } from "../evidence.ts";
import { describeSelector } from "../objects.ts";
import { ObjectSelectorSchema, RegexSchema, regexOf } from "../params.ts";
import type { EventRecord } from "../trace.ts";

/**
 * An Event about the object was recorded, from either core/v1 or events.k8s.io/v1 (the
 * recorder normalises both; which API an operator uses depends on its controller-runtime).
 */
export const ParamsSchema = z.strictObject({
  /** The object the Event is about (its `regarding` / `involvedObject`). */
  object: ObjectSelectorSchema,
  /** Event reason, e.g. BackupCompleted; any when left out. */
  reason: z.string().min(1).optional(),
  /** Event type; any when left out. */
  type: z.enum(["Normal", "Warning"]).optional(),
  /** Regular expression the note/message must match; any when left out. */
  messagePattern: RegexSchema.optional(),
  /** Match the message regardless of case. */
  ignoreCase: z.boolean().default(false),
});
export type Params = z.infer<typeof ParamsSchema>;

function describeEvent(event: EventRecord): string {
  return `${event.type} ${event.reason}: ${event.message}`;
}

function eventEvidence(events: EventRecord[]): Evidence {
  return {
    objects: [],
    timeline: events.slice(-20).map((event, i) => ({
      at: event.at,
      seq: i,
      type: "ADDED" as const,
      kind: "Event",
      name: `${event.regarding.kind}/${event.regarding.name}`,
      summary: describeEvent(event),
    })),
  };
}

function wanted(params: Params): string {
  const parts = [params.type, params.reason].filter(Boolean).join(" ");
  const message = params.messagePattern ? ` with a message matching /${params.messagePattern}/` : "";
  return `an Event${parts ? ` ${parts}` : ""}${message}`;
}

export function evaluate(params: Params, ctx: CheckContext): Verdict {
  const namespace = params.object.namespace ?? ctx.namespace;
  const about = ctx.trace.events.filter(
    (event) =>
      event.regarding.kind === params.object.kind &&
      event.regarding.name === params.object.name &&
      (event.regarding.namespace === undefined || event.regarding.namespace === namespace),
  );
  const message = params.messagePattern === undefined ? undefined : regexOf(params.messagePattern, params.ignoreCase);
  const match = about.find(
    (event) =>
      (params.reason === undefined || event.reason === params.reason) &&
      (params.type === undefined || event.type === params.type) &&
      (message === undefined || message.test(event.message)),
  );
  const what = describeSelector(params.object);
  if (match)
    return passed(
      `${what} got the Event ${describeEvent(match)}`,
      Math.max(match.at, ctx.since),
      eventEvidence([match]),
    );
  if (!ctx.final) return pending();
  return failed({
    message: `no matching Event was recorded for ${what}`,
    expected: `${wanted(params)} about ${what}`,
    actual:
      about.length === 0 ? `no Events about ${what}` : `Events about ${what}: ${about.map(describeEvent).join("; ")}`,
    decidedAt: ctx.now,
    evidence: eventEvidence(about),
  });
}

export const eventsCheck = defineCheck({
  type: "events",
  ParamsSchema,
  // No objects: Events are recorded whatever they are about, so their subject need not be a watched kind.
  clusterLevel: false,
  evaluate,
});
