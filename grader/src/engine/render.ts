import Handlebars from "handlebars";
import { MANAGED_BY_LABELS } from "../labels.ts";
import { WaitsForSchema, type WaitsFor } from "./causes.ts";
import type { CheckSpec, Lab, Resource, Scenario } from "./lab.ts";
import { resourceByKind, stepCheckIds } from "./lab.ts";
import { durationMs } from "./params.ts";
import { checkTypeOf } from "./registry.ts";
import { KubeObjectSchema, type KubeObject } from "./trace.ts";
import { parseYaml, type LabProblem } from "./yaml-location.ts";

/** What every attempt provides: its namespace for the scenario, and its id; and what its deploy named (see DEPLOYMENT_VARS). */
export interface AttemptVars {
  namespace: string;
  attempt: string;
  deployed?: TemplateVars;
}

/**
 * Variables of a lab whose managers run as the project's Deployment (`managers: deployment`), from
 * what its deploy made: where the managers run, and the Lease they elect their leader with.
 */
export const DEPLOYMENT_VARS = {
  operatorNamespace: "the operator's namespace (config/default's)",
  deployment: "the manager's Deployment",
  podDisruptionBudget: `its PodDisruptionBudget, or "none"`,
  lease: `the Lease the managers' leader holds once they run, or "none"`,
  leader: `the pod whose manager held that Lease then, or "none"`,
} as const;

export type TemplateVars = Record<string, string>;

/** A template that did not render, with the template's own line (1-based) when known. */
export class TemplateError extends Error {
  readonly line: number | undefined;
  constructor(message: string, line: number | undefined, options?: ErrorOptions) {
    super(message, options);
    this.name = "TemplateError";
    this.line = line;
  }
}

const handlebars = Handlebars.create();
const compiled = new Map<string, Handlebars.TemplateDelegate>();

/** Renders `{{var}}` placeholders; no HTML escaping, and an unknown variable is an error. */
export function renderString(template: string, vars: TemplateVars): string {
  if (!template.includes("{{")) return template;
  let render = compiled.get(template);
  if (!render) {
    render = handlebars.compile(template, { noEscape: true, strict: true });
    compiled.set(template, render);
  }
  try {
    return render(vars);
  } catch (error) {
    const line = (error as { lineNumber?: unknown }).lineNumber;
    const text = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new TemplateError(
      `template: ${text?.replace(" in [object Object]", "")}`,
      typeof line === "number" ? line : undefined,
      { cause: error },
    );
  }
}

/** Renders every string inside a JSON-like value. */
export function renderDeep(value: unknown, vars: TemplateVars): unknown {
  if (typeof value === "string") return renderString(value, vars);
  if (Array.isArray(value)) return value.map((item) => renderDeep(item, vars));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderDeep(item, vars)]));
  }
  return value;
}

/** The variables of one scenario in one attempt: namespace, attempt, then the scenario's own, rendered. */
export function scenarioVars(scenario: Pick<Scenario, "vars"> | undefined, attempt: AttemptVars): TemplateVars {
  const vars: TemplateVars = { ...attempt.deployed, namespace: attempt.namespace, attempt: attempt.attempt };
  for (const [name, template] of Object.entries(scenario?.vars ?? {})) vars[name] = renderString(template, vars);
  return vars;
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

/** Lines up a fixture object for the scenario: its namespace (for namespaced kinds) and labgrader's labels. */
function placed(object: KubeObject, resource: Resource | undefined, vars: TemplateVars): KubeObject {
  const labels: Record<string, string> = { ...object.metadata.labels, ...MANAGED_BY_LABELS };
  if (vars.attempt && LABEL_VALUE.test(vars.attempt)) labels["labgrader.io/attempt"] = vars.attempt;
  const metadata = { ...object.metadata, labels };
  if (resource?.namespaced !== false && !metadata.namespace && vars.namespace) metadata.namespace = vars.namespace;
  return { ...object, metadata };
}

/** A fixture object with a way back to its lines, for lint messages. */
export interface FixtureObject {
  object: KubeObject;
  lineOf: (path: (string | number)[]) => number;
}

/** Parses a rendered fixture into objects; problems carry the fixture file's lines. */
export function fixtureObjects(
  lab: Pick<Lab, "resources">,
  file: string,
  rendered: string,
  vars: TemplateVars,
): { objects: FixtureObject[]; problems: LabProblem[] } {
  const { yaml, problems } = parseYaml(file, rendered, true);
  const objects: FixtureObject[] = [];
  yaml.documents.forEach((doc, index) => {
    const lineOf = (path: (string | number)[]) => yaml.lineOf(path, index);
    const result = KubeObjectSchema.safeParse(doc.toJS());
    if (result.success) {
      objects.push({ object: placed(result.data, resourceByKind(lab, result.data.kind), vars), lineOf });
      return;
    }
    for (const issue of result.error.issues) {
      const path = issue.path.filter((key) => typeof key !== "symbol");
      problems.push({
        file,
        line: lineOf(path),
        message: `not a Kubernetes object: ${path.join(".") || "(root)"}: ${issue.message}`,
      });
    }
  });
  return { objects, problems };
}

/** The objects of a fixture for one scenario of one attempt. */
export function renderFixture(lab: Lab, name: string, vars: TemplateVars): KubeObject[] {
  const fixture = lab.fixtures[name];
  if (!fixture) throw new Error(`lab ${lab.id} has no fixture ${name}`);
  const { objects, problems } = fixtureObjects(lab, fixture.file, renderString(fixture.text, vars), vars);
  if (problems.length > 0)
    throw new Error(
      `while rendering fixture ${fixture.file}: ${problems.map((p) => `line ${p.line}: ${p.message}`).join("; ")}`,
    );
  return objects.map((o) => o.object);
}

/** A check ready to evaluate: params rendered and validated, timeout in ms. */
export interface RenderedCheck {
  id: string;
  task: string;
  type: CheckSpec["type"];
  title: string;
  hint: string;
  points: number;
  severity: CheckSpec["severity"];
  timeoutMs: number;
  clusterLevel: boolean;
  /** Params after templating, parsed by the check type's ParamsSchema. */
  params: unknown;
  /** Checks that must pass for this one to earn its points. */
  requires: string[];
  /** Dependencies a failure is explained by, rendered. */
  waitsFor: WaitsFor[];
  /** Decide once nothing it reads has changed for this long (ms). */
  stuckAfterMs?: number;
  /** The grader's own setup: its failure makes the rest of the scenario not gradable. */
  precondition?: true;
}

export function renderCheck(check: CheckSpec, vars: TemplateVars): RenderedCheck {
  const type = checkTypeOf(check.type);
  const result = type.ParamsSchema.safeParse(renderDeep(check.params, vars));
  if (!result.success) throw new Error(`while rendering check ${check.id}: ${result.error.message}`);
  return {
    id: check.id,
    task: check.task,
    type: check.type,
    title: check.title,
    hint: check.hint,
    points: check.points,
    severity: check.severity,
    timeoutMs: durationMs(check.timeout),
    clusterLevel: type.clusterLevel,
    params: result.data,
    requires: check.requires ?? [],
    waitsFor: (check.waitsFor ?? []).map((w) => WaitsForSchema.parse(renderDeep(w, vars))),
    ...(check.stuckAfter ? { stuckAfterMs: durationMs(check.stuckAfter) } : {}),
    ...(check.precondition ? { precondition: true as const } : {}),
  };
}

/** One step of one scenario of one attempt, ready for the runner. */
export type RenderedStep =
  | { action: "apply"; fixture: string; objects: KubeObject[] }
  | {
      action: "patch";
      resource: Resource;
      name: string;
      namespace?: string;
      subresource?: "status";
      mergePatch: Record<string, unknown>;
    }
  | { action: "delete"; resource: Resource; name: string; namespace?: string }
  | { action: "checks"; checks: RenderedCheck[] }
  | { action: "watch"; checks: RenderedCheck[] };

export interface RenderedScenario {
  id: string;
  title: string;
  namespace: string;
  vars: TemplateVars;
  steps: RenderedStep[];
}

function checkById(lab: Lab, id: string): CheckSpec {
  const check = lab.checks.find((c) => c.id === id);
  if (!check) throw new Error(`lab ${lab.id} has no check ${id}`);
  return check;
}

function resourceFor(lab: Lab, kind: string): Resource {
  const resource = resourceByKind(lab, kind);
  if (!resource) throw new Error(`lab ${lab.id} declares no resource of kind ${kind}`);
  return resource;
}

function scopedTo(resource: Resource, namespace: string): { namespace?: string } {
  return resource.namespaced ? { namespace } : {};
}

/** Renders one scenario for one attempt; the lab must have loaded without problems. */
export function renderScenario(lab: Lab, scenarioId: string, attempt: AttemptVars): RenderedScenario {
  const scenario = lab.scenarios.find((s) => s.id === scenarioId);
  if (!scenario)
    throw new Error(`lab ${lab.id} has no scenario ${scenarioId}; known: ${lab.scenarios.map((s) => s.id).join(", ")}`);
  const vars = scenarioVars(scenario, attempt);
  const steps = scenario.steps.map((step): RenderedStep => {
    if ("apply" in step) return { action: "apply", fixture: step.apply, objects: renderFixture(lab, step.apply, vars) };
    if ("patch" in step) {
      const resource = resourceFor(lab, step.patch.kind);
      const mergePatch = renderDeep(step.patch.mergePatch, vars) as Record<string, unknown>;
      const name = renderString(step.patch.name, vars);
      const subresource = step.patch.subresource ? { subresource: step.patch.subresource } : {};
      const namespace = step.patch.namespace ? renderString(step.patch.namespace, vars) : attempt.namespace;
      return { action: "patch", resource, name, ...scopedTo(resource, namespace), ...subresource, mergePatch };
    }
    if ("delete" in step) {
      const resource = resourceFor(lab, step.delete.kind);
      return {
        action: "delete",
        resource,
        name: renderString(step.delete.name, vars),
        ...scopedTo(resource, step.delete.namespace ? renderString(step.delete.namespace, vars) : attempt.namespace),
      };
    }
    const checks = stepCheckIds(step).map((id) => renderCheck(checkById(lab, id), vars));
    return "watch" in step ? { action: "watch", checks } : { action: "checks", checks };
  });
  return { id: scenario.id, title: scenario.title, namespace: attempt.namespace, vars, steps };
}

/** Cluster-level checks no scenario starts: the runner evaluates them once the operator runs. */
export function clusterChecks(lab: Lab, attempt: AttemptVars): RenderedCheck[] {
  const used = new Set(lab.scenarios.flatMap((s) => s.steps.flatMap(stepCheckIds)));
  const vars = scenarioVars(undefined, attempt);
  return lab.checks.filter((c) => !used.has(c.id) && checkTypeOf(c.type).clusterLevel).map((c) => renderCheck(c, vars));
}
