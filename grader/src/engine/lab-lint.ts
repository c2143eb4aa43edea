import { isRecord } from "./cel.ts";
import type { Lab, Scenario } from "./lab.ts";
import { resourceByKind, stepCheckIds } from "./lab.ts";
import { findReferenceCycles, type ReferenceEdge } from "./reference-cycles.ts";
import { checkTypeOf } from "./registry.ts";
import {
  DEPLOYMENT_VARS,
  fixtureObjects,
  renderString,
  scenarioVars,
  TemplateError,
  type TemplateVars,
} from "./render.ts";
import type { LabProblem, YamlPath } from "./yaml-location.ts";

/** Lines of the lab file, by path of a value in it. */
export type LineOf = (path: YamlPath) => number;

const LINT_ATTEMPT = { namespace: "lint-namespace", attempt: "0" };
/** A deployed lab's variables at lint time: each its own name, a valid object name. */
const LINT_DEPLOYED = Object.fromEntries(
  Object.keys(DEPLOYMENT_VARS).map((name) => [name, `lint-${name.toLowerCase()}`]),
);
const RESERVED_VARS = new Set(["namespace", "attempt", ...Object.keys(DEPLOYMENT_VARS)]);

/** The variables the grader provides to a lab's scenarios: a lab whose managers run as the project's Deployment gets its names. */
const lintAttempt = (lab: Lab) =>
  lab.managers === "deployment" ? { ...LINT_ATTEMPT, deployed: LINT_DEPLOYED } : LINT_ATTEMPT;

function duplicates(ids: readonly string[]): Set<string> {
  return new Set(ids.filter((id, i) => ids.indexOf(id) !== i));
}

interface Linter {
  lab: Lab;
  problem: (path: YamlPath, message: string) => void;
  problems: LabProblem[];
}

function lintIds({ lab, problem }: Linter): void {
  const lists = [
    ["resources", "kind", lab.resources.map((r) => r.kind)],
    ["resources", "alias", lab.resources.map((r) => r.alias)],
    ["tasks", "id", lab.tasks.map((t) => t.id)],
    ["checks", "id", lab.checks.map((c) => c.id)],
    ["scenarios", "id", lab.scenarios.map((s) => s.id)],
  ] as const;
  for (const [list, key, ids] of lists) {
    const twice = duplicates(ids);
    ids.forEach((id, i) => {
      if (twice.has(id)) problem([list, i, key], `${key} "${id}" appears more than once in ${list}`);
    });
  }
}

function lintTasksAndChecks({ lab, problem }: Linter, usedBy: Map<string, string>): void {
  const tasks = new Set(lab.tasks.map((t) => t.id));
  lab.checks.forEach((check, i) => {
    if (!tasks.has(check.task))
      problem(["checks", i, "task"], `check ${check.id} names task "${check.task}", which is not in tasks`);
    const type = checkTypeOf(check.type);
    if (check.severity === "required" && !usedBy.has(check.id) && !type.clusterLevel) {
      problem(["checks", i, "id"], `required check ${check.id} is not started by any scenario, so it could never pass`);
    }
    if (check.precondition && (check.points !== 0 || check.severity !== "advisory"))
      problem(
        ["checks", i, "precondition"],
        `precondition ${check.id} is the grader's own setup: it must be advisory and worth 0 points (its failure makes the grade not gradable instead)`,
      );
    type.objects(check.params).forEach((selector) => {
      if (!resourceByKind(lab, selector.kind)) {
        problem(
          ["checks", i, "params"],
          `check ${check.id} reads a ${selector.kind}, but resources does not declare that kind, so it is not recorded`,
        );
      }
    });
  });
  lab.tasks.forEach((task, i) => {
    if (!lab.checks.some((c) => c.task === task.id)) problem(["tasks", i, "id"], `task ${task.id} has no checks`);
  });
  lintRequirements(lab, problem);
}

/** `requires` names checks that exist, that are not the check itself, and that do not require it back. */
function lintRequirements(lab: Lab, problem: Linter["problem"]): void {
  const tasks = new Set(lab.tasks.map((t) => t.id));
  const requiresOf = new Map(lab.checks.map((c) => [c.id, c.requires ?? []]));
  const reaches = (from: string, target: string, seen = new Set<string>()): boolean => {
    if (seen.has(from)) return false;
    seen.add(from);
    return (requiresOf.get(from) ?? []).some((next) => next === target || reaches(next, target, seen));
  };
  lab.checks.forEach((check, i) => {
    (check.requires ?? []).forEach((id, r) => {
      if (!requiresOf.has(id))
        problem(["checks", i, "requires", r], `check ${check.id} requires ${id}, which does not exist`);
      else if (id === check.id || reaches(id, check.id))
        problem(
          ["checks", i, "requires", r],
          `check ${check.id} requires ${id}, which requires it back: neither could ever be earned`,
        );
    });
    (check.waitsFor ?? []).forEach((wait, w) => {
      if (!resourceByKind(lab, wait.object.kind))
        problem(
          ["checks", i, "waitsFor", w, "object"],
          `check ${check.id} waits for a ${wait.object.kind}, which resources does not declare, so it is not recorded`,
        );
      if (!tasks.has(wait.task))
        problem(
          ["checks", i, "waitsFor", w, "task"],
          `check ${check.id} waits on task "${wait.task}", which is not in tasks`,
        );
    });
  });
}

/** Renders every string of a value, reporting template errors at the value's line. */
function renderAt(linter: Linter, path: YamlPath, value: unknown, vars: TemplateVars): unknown {
  if (typeof value === "string") {
    try {
      return renderString(value, vars);
    } catch (error) {
      linter.problem(path, error instanceof Error ? error.message : String(error));
      return value;
    }
  }
  if (Array.isArray(value)) return value.map((item, i) => renderAt(linter, [...path, i], item, vars));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, renderAt(linter, [...path, key], item, vars)]),
    );
  }
  return value;
}

function lintCheckRender(linter: Linter, checkId: string, vars: TemplateVars): void {
  const index = linter.lab.checks.findIndex((c) => c.id === checkId);
  const check = linter.lab.checks[index];
  if (!check) return;
  const rendered = renderAt(linter, ["checks", index, "params"], check.params, vars);
  const result = checkTypeOf(check.type).ParamsSchema.safeParse(rendered);
  for (const issue of result.error?.issues ?? []) {
    const path = issue.path.filter((key) => typeof key !== "symbol");
    linter.problem(["checks", index, "params", ...path], `after templating: ${issue.message}`);
  }
}

function lintFixture(linter: Linter, name: string, vars: TemplateVars, edges: ReferenceEdge[]): void {
  const fixture = linter.lab.fixtures[name];
  if (!fixture) return;
  let rendered: string;
  try {
    rendered = renderString(fixture.text, vars);
  } catch (error) {
    const line = error instanceof TemplateError ? (error.line ?? 1) : 1;
    linter.problems.push({ file: fixture.file, line, message: error instanceof Error ? error.message : String(error) });
    return;
  }
  const { objects, problems } = fixtureObjects(linter.lab, fixture.file, rendered, vars);
  linter.problems.push(...problems);
  for (const { object, lineOf } of objects) {
    const resource = resourceByKind(linter.lab, object.kind);
    if (!resource) {
      linter.problems.push({
        file: fixture.file,
        line: lineOf(["kind"]),
        message: `kind ${object.kind} is not declared in the lab's resources`,
      });
      continue;
    }
    for (const reference of resource.references ?? []) {
      const path = reference.field.split(".");
      const target = path.reduce<unknown>((value, key) => (isRecord(value) ? value[key] : undefined), object);
      if (typeof target !== "string") continue;
      const from = `${object.kind}/${object.metadata.name}`;
      edges.push({
        from,
        to: `${reference.kind}/${target}`,
        field: reference.field,
        file: fixture.file,
        line: lineOf(path),
      });
    }
  }
}

function lintScenario(linter: Linter, scenario: Scenario, index: number, edges: ReferenceEdge[]): void {
  const { lab, problem } = linter;
  for (const name of Object.keys(scenario.vars)) {
    if (RESERVED_VARS.has(name))
      problem(["scenarios", index, "vars", name], `"${name}" is provided by the grader; pick another variable name`);
  }
  let vars: TemplateVars;
  try {
    vars = scenarioVars(scenario, lintAttempt(lab));
  } catch (error) {
    problem(["scenarios", index, "vars"], error instanceof Error ? error.message : String(error));
    return;
  }
  scenario.steps.forEach((step, s) => {
    const at = (...rest: (string | number)[]): YamlPath => ["scenarios", index, "steps", s, ...rest];
    if ("apply" in step) {
      if (!lab.fixtures[step.apply]) problem(at("apply"), `fixture ${step.apply} does not exist in fixtures/`);
      else lintFixture(linter, step.apply, vars, edges);
    }
    const target = "patch" in step ? step.patch : "delete" in step ? step.delete : undefined;
    if (target) {
      const key = "patch" in step ? "patch" : "delete";
      if (!resourceByKind(lab, target.kind))
        problem(at(key, "kind"), `kind ${target.kind} is not declared in the lab's resources`);
      renderAt(linter, at(key), target, vars);
    }
    stepCheckIds(step).forEach((id, c) => {
      const key = "checks" in step ? "checks" : "watch";
      const check = lab.checks.find((candidate) => candidate.id === id);
      if (!check) problem(at(key, c), `check ${id} does not exist`);
      else lintCheckRender(linter, id, vars);
      if (check?.precondition && key === "watch")
        problem(
          at(key, c),
          `precondition ${id} must be started by a checks: step (the scenario goes on only once it holds)`,
        );
    });
  });
}

/** Cross-references, templates and fixtures of a lab whose file already matched LabFileSchema. */
export function lintLab(lab: Lab, lineOf: LineOf): LabProblem[] {
  const problems: LabProblem[] = [];
  const linter: Linter = {
    lab,
    problems,
    problem: (path, message) => problems.push({ file: lab.file, line: lineOf(path), message }),
  };
  lintIds(linter);

  const usedBy = new Map<string, string>();
  lab.scenarios.forEach((scenario, i) => {
    scenario.steps.forEach((step, s) =>
      stepCheckIds(step).forEach((id, c) => {
        const key = "checks" in step ? "checks" : "watch";
        const first = usedBy.get(id);
        if (first)
          linter.problem(
            ["scenarios", i, "steps", s, key, c],
            `check ${id} is already started in scenario ${first}; a check runs once`,
          );
        else usedBy.set(id, scenario.id);
      }),
    );
  });
  lintTasksAndChecks(linter, usedBy);

  lab.scenarios.forEach((scenario, i) => {
    const edges: ReferenceEdge[] = [];
    lintScenario(linter, scenario, i, edges);
    for (const cycle of findReferenceCycles(edges)) {
      const first = cycle[0];
      if (!first) continue;
      const path = cycle.map((edge) => `${edge.from} (${edge.field})`).join(" → ");
      problems.push({
        file: first.file,
        line: first.line,
        message: `in scenario ${scenario.id}, references form a cycle: ${path} → ${first.from}; each would wait for the other forever`,
      });
    }
  });

  const applied = new Set(
    lab.scenarios.flatMap((s) => s.steps.flatMap((step) => ("apply" in step ? [step.apply] : []))),
  );
  for (const fixture of Object.values(lab.fixtures)) {
    if (!applied.has(fixture.name))
      problems.push({ file: fixture.file, line: 1, message: `fixture ${fixture.name} is not applied by any scenario` });
  }
  const clusterVars = scenarioVars(undefined, lintAttempt(lab));
  for (const check of lab.checks) if (!usedBy.has(check.id)) lintCheckRender(linter, check.id, clusterVars);
  return problems;
}
