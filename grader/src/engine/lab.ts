import { z } from "zod";
import { WaitsForSchema } from "./causes.ts";
import { DurationSchema } from "./params.ts";
import { CHECK_TYPES } from "./registry.ts";

/** Ids of labs, checks, tasks and courses: kebab-case, as folder names and URLs carry them. */
export const KEBAB_CASE_ID = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const IdSchema = z.string().regex(KEBAB_CASE_ID, "an id is kebab-case, e.g. backup-crd-installed");

/** A field of one kind that names another object in the same namespace. */
export const ReferenceSchema = z.strictObject({
  /** Dotted path of the field holding the other object's name, e.g. spec.backupRef.name. */
  field: z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, "a dotted field path"),
  /** Kind of the object it names, e.g. Backup. */
  kind: z.string().min(1),
});

/** A kind the recorder watches (cluster-wide) and steps may act on. */
export const ResourceSchema = z.strictObject({
  /** Short lower-case name for reports and logs, e.g. backup. */
  alias: z.string().regex(/^[a-z][a-z0-9-]*$/, "a lower-case short name, e.g. backup"),
  /** API version, e.g. database.example.com/v1. */
  apiVersion: z.string().min(1),
  /** Kind, e.g. Backup; checks and steps name objects by kind. */
  kind: z.string().min(1),
  /** Plural resource name used in API paths, e.g. backups. */
  plural: z.string().min(1),
  /** Whether its objects live in a namespace. */
  namespaced: z.boolean(),
  /** Fields naming other objects; the linter rejects fixtures whose references form a cycle (each would wait for the other). */
  references: z.array(ReferenceSchema).optional(),
});
export type Resource = z.infer<typeof ResourceSchema>;

/** A permission an operator of the lab may be granted: its generated role is bound only within these. */
export const PermissionSchema = z.strictObject({
  /** API groups; "" is the core group. No wildcards. */
  apiGroups: z.array(z.string().refine((g) => g !== "*", "no wildcards: name each group")).min(1),
  /** Resources, subresources as "pods/log". No wildcards. */
  resources: z
    .array(
      z
        .string()
        .min(1)
        .refine((r) => r !== "*", "no wildcards: name each resource"),
    )
    .min(1),
  /** Verbs. No wildcards. */
  verbs: z
    .array(
      z
        .string()
        .min(1)
        .refine((v) => v !== "*", "no wildcards: name each verb"),
    )
    .min(1),
});
export type Permission = z.infer<typeof PermissionSchema>;

/**
 * A Pod Security Standard a namespace enforces. `restricted` asks a pod to run as non-root with no
 * capabilities and no privilege escalation; `baseline` only keeps it off the host (no privileged
 * mode, host namespaces, host paths or added capabilities). `privileged` is never granted.
 */
export const PodSecuritySchema = z.enum(["restricted", "baseline"]);
export type PodSecurity = z.infer<typeof PodSecuritySchema>;
/** The namespace label Pod Security admission enforces. */
export const POD_SECURITY_ENFORCE = "pod-security.kubernetes.io/enforce";

/** A task of the lab, as numbered on the lab page. */
export const TaskSchema = z.strictObject({
  /** The lab's numbering, e.g. "1.2", or a name for unnumbered sections, e.g. "cleanup". */
  id: z.string().regex(/^(\d+\.\d+|[a-z][a-z0-9-]*)$/, 'a task id like "1.2" or "cleanup"'),
  /** Title as on the lab page. */
  title: z.string().min(1),
  /** The exercise it belongs to ("Exercise 1" → 1); absent for sections like Cleanup. */
  exercise: z.number().int().min(1).optional(),
});
export type Task = z.infer<typeof TaskSchema>;

const checkFields = {
  /** Unique id, kebab-case. */
  id: IdSchema,
  /** Id of the task it grades. */
  task: z.string().min(1),
  /** What is checked, as the learner reads it in the report. */
  title: z.string().min(1),
  /** Points awarded when it passes. */
  points: z.number().int().min(0),
  /** required: counts toward passing the lab; advisory: reported, never blocks. */
  severity: z.enum(["required", "advisory"]),
  /** How long it may take to decide; for never/quiet checks started by `checks:` it is the window watched. */
  timeout: DurationSchema,
  /** What to look at when it fails, written for a learner. */
  hint: z.string().min(1),
  /**
   * Checks that must pass for this one to earn its points: a check that passes when something does
   * not happen (never, quiet) is earned only once the operator was seen doing the work it is about.
   */
  requires: z.array(IdSchema).min(1).optional(),
  /** Objects whose state this check waits on; a failure names the one that never got there and its task. */
  waitsFor: z.array(WaitsForSchema).min(1).optional(),
  /**
   * Decide at once when nothing the check reads (its objects and those it waits for) has changed for
   * this long: a timeout sized for slow operators then costs a stuck one no more than this. Must
   * exceed the longest pause a correct operator makes between two writes.
   */
  stuckAfter: DurationSchema.optional(),
  /**
   * The grader's own setup, which nothing an operator does can fail (a policy of the grader's in
   * force): when it fails, the rest of its scenario cannot be judged, so the grade is not gradable
   * (retried), never the learner's loss. Worth no points, advisory, started by a `checks:` step.
   */
  precondition: z.literal(true).optional(),
};

function checkOf<T extends string, P extends z.ZodType>(type: T, params: P) {
  return z.strictObject({
    ...checkFields,
    /** The check type; it decides what `params` holds. */
    type: z.literal(type),
    /** Parameters of the check type; strings may use the scenario's template variables. */
    params,
  });
}

/** A check of each registered type, its `params` that type's schema. */
type CheckSchemas<Types extends readonly { type: string; ParamsSchema: z.ZodType }[]> = {
  -readonly [K in keyof Types]: ReturnType<typeof checkOf<Types[K]["type"], Types[K]["ParamsSchema"]>>;
};

/** One graded check. */
export const CheckSpecSchema = z.discriminatedUnion(
  "type",
  CHECK_TYPES.map((check) => checkOf(check.type, check.ParamsSchema)) as CheckSchemas<typeof CHECK_TYPES>,
);
export type CheckSpec = z.infer<typeof CheckSpecSchema>;

/** An object a step acts on, by kind (declared in `resources`) and name. */
const TargetSchema = z.strictObject({
  /** Kind, declared in `resources`. */
  kind: z.string().min(1),
  /** metadata.name; may use template variables. */
  name: z.string().min(1),
  /** Its namespace, when not the scenario's (e.g. "{{operatorNamespace}}"); may use template variables. */
  namespace: z.string().min(1).optional(),
});

/** Applies every document of a fixture (server-side apply) in the scenario's namespace. */
export const ApplyStepSchema = z.strictObject({
  /** File name under fixtures/, e.g. backup.yaml. */
  apply: z.string().regex(/^[A-Za-z0-9._-]+\.ya?ml$/, "a file name under fixtures/, e.g. backup.yaml"),
});

/** Merge-patches an object, e.g. to forge a status the operator would not write. */
export const PatchStepSchema = z.strictObject({
  /** What to patch and how. */
  patch: TargetSchema.extend({
    /** Patch the status subresource rather than the object. */
    subresource: z.literal("status").optional(),
    /** JSON merge patch (RFC 7386): lists are replaced whole, null removes a field. */
    mergePatch: z.record(z.string(), z.unknown()),
  }),
});

/** Deletes an object (foreground: the step returns once the API server accepted the delete). */
export const DeleteStepSchema = z.strictObject({
  /** What to delete. */
  delete: TargetSchema,
});

/** Starts checks together; the step ends when all of them are decided. */
export const ChecksStepSchema = z.strictObject({
  /** Ids of the checks. */
  checks: z.array(IdSchema).min(1),
});

/** Starts background checks: decided when they fail, or at the scenario's end. */
export const WatchStepSchema = z.strictObject({
  /** Ids of the checks. */
  watch: z.array(IdSchema).min(1),
});

/** One step of a scenario: an action or a group of checks. */
export const StepSchema = z.union([
  ApplyStepSchema,
  PatchStepSchema,
  DeleteStepSchema,
  ChecksStepSchema,
  WatchStepSchema,
]);
export type Step = z.infer<typeof StepSchema>;

/** An independent story run in its own namespace, concurrently with the others. */
export const ScenarioSchema = z.strictObject({
  /** Unique id, kebab-case. */
  id: IdSchema,
  /** What it shows, for the report. */
  title: z.string().min(1),
  /** Template variables (besides `namespace` and `attempt`), themselves templates, e.g. db: "{{attempt}}-db". */
  vars: z
    .record(z.string().regex(/^[a-z][A-Za-z0-9_]*$/, "a variable name like db or backupName"), z.string())
    .default({}),
  /** The steps, in order. */
  steps: z.array(StepSchema).min(1),
});
export type Scenario = z.infer<typeof ScenarioSchema>;

/** A lab file, labs/<id>/lab.yaml. */
export const LabFileSchema = z.strictObject({
  /** The lab's id, its folder name under labs/. */
  id: IdSchema,
  /** Title as on the course page. */
  title: z.string().min(1),
  /** Revision of this lab file; grades record it. */
  version: z.number().int().min(1).optional(),
  /** Kinds the recorder watches and steps act on. */
  resources: z.array(ResourceSchema).min(1),
  /**
   * What an operator of this lab may be granted (an allow-list): its generated role is bound only
   * within these, the rest reported as findings that cost no points. Without it, only what no
   * operator is ever granted is left out. Its CRDs may define only the lab's own kinds.
   */
  permissions: z.array(PermissionSchema).optional(),
  /**
   * Pod Security enforced in the namespaces an attempt gets (each scenario's, and on kind the
   * operator's): restricted unless the pods the lab's operators make cannot run that way.
   */
  podSecurity: PodSecuritySchema.default("restricted"),
  /**
   * How the operator runs. `one`: a single manager with leader election off, for labs about what an
   * operator does. `deployment`: as many managers as the project's Deployment (config/default) asks
   * for, with its own flags (leader election included), each playing one of the Deployment's pods,
   * for labs about running several; the scenarios then have the variables `operatorNamespace`,
   * `deployment` and `podDisruptionBudget` (the names config/default gives them, or "none").
   */
  managers: z.enum(["one", "deployment"]).default("one"),
  /** The lab's tasks that have checks. */
  tasks: z.array(TaskSchema).min(1),
  /** The graded checks. */
  checks: z.array(CheckSpecSchema).min(1),
  /** The scenarios that exercise the operator. */
  scenarios: z.array(ScenarioSchema),
});
export type LabFile = z.infer<typeof LabFileSchema>;

/** A fixture as written: a template rendered per scenario. */
export interface Fixture {
  /** File name under fixtures/, e.g. backup.yaml. */
  name: string;
  /** Where it was read from, for messages. */
  file: string;
  text: string;
}

/** A loaded lab: the lab file plus its fixtures, not yet rendered for an attempt. */
export interface Lab extends LabFile {
  /** Where the lab file was read from, for messages. */
  file: string;
  fixtures: Record<string, Fixture>;
}

export function resourceByKind(lab: Pick<LabFile, "resources">, kind: string): Resource | undefined {
  return lab.resources.find((resource) => resource.kind === kind);
}

/** The ids of the checks a step starts (none for actions). */
export function stepCheckIds(step: Step): string[] {
  if ("checks" in step) return step.checks;
  if ("watch" in step) return step.watch;
  return [];
}
