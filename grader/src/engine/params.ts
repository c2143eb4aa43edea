import { z } from "zod";

/** Names one object in the trace. Strings may use the scenario's template variables. */
export const ObjectSelectorSchema = z.strictObject({
  /** Kind as declared in the lab's `resources`, e.g. Backup. */
  kind: z.string().min(1),
  /** metadata.name, e.g. "{{backup}}". */
  name: z.string().min(1),
  /** Namespace; defaults to the scenario's namespace (cluster-scoped objects have none). */
  namespace: z.string().min(1).optional(),
});
export type ObjectSelector = z.infer<typeof ObjectSelectorSchema>;

/** A CEL variable name that a check binds to another object. */
export const AliasSchema = z
  .string()
  .regex(/^[a-z][A-Za-z0-9_]*$/, "an alias is a lower-case CEL identifier, e.g. db")
  .refine((name) => name !== "self", "`self` is the checked object itself; pick another alias");

/** Other objects a CEL expression may read, by alias: each is the latest version seen at that moment, or null. */
export const BindSchema = z.record(AliasSchema, ObjectSelectorSchema);
export type Bind = z.infer<typeof BindSchema>;

/** The objects a check about one object reads: that object and those its expressions bind. */
export const subjectObjects = (params: { object: ObjectSelector; bind?: Bind }): ObjectSelector[] => [
  params.object,
  ...Object.values(params.bind ?? {}),
];

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)$/;

/** A duration as written in a lab: "500ms", "30s", "2m". */
export const DurationSchema = z.string().regex(DURATION, 'a duration like "30s", "2m" or "500ms"');
export type Duration = z.infer<typeof DurationSchema>;

/** Milliseconds in a duration string already validated by DurationSchema. */
export function durationMs(duration: string): number {
  const match = DURATION.exec(duration);
  if (!match) throw new Error(`not a duration: ${JSON.stringify(duration)}`);
  const unit = match[2] === "m" ? 60_000 : match[2] === "s" ? 1000 : 1;
  return Math.round(Number(match[1]) * unit);
}

/** A JavaScript regular expression (no inline flags; use `ignoreCase`). */
export const RegexSchema = z.string().superRefine((pattern, ctx) => {
  try {
    new RegExp(pattern);
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    ctx.addIssue({ code: "custom", message: `invalid regular expression: ${text}` });
  }
});

export function regexOf(pattern: string, ignoreCase = false): RegExp {
  return new RegExp(pattern, ignoreCase ? "i" : "");
}
