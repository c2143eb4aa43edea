import { Environment } from "@marcbachmann/cel-js";
import type { z } from "zod";

/** What a compiled expression must produce: a predicate (`bool`) or any value (e.g. a phase string). */
export type CelResultType = "bool" | "any";

export type CelOutcome = { ok: true; value: unknown } | { ok: false; error: string };

export interface CelProgram {
  expression: string;
  /** Runs the expression; a missing field or a type error is an outcome, never a throw. */
  run: (variables: Record<string, unknown>) => CelOutcome;
}

export interface ConditionLike {
  type?: unknown;
  status?: unknown;
  reason?: unknown;
}

/** status.conditions of any object, or [] when it has none (or is null). */
export function conditionsOf(object: unknown): ConditionLike[] {
  const status = isRecord(object) ? object.status : undefined;
  const conditions = isRecord(status) ? status.conditions : undefined;
  return Array.isArray(conditions) ? conditions.filter(isRecord) : [];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// Standard CEL plus optional chaining (`self.?status.?phase.orValue("")`) and one
// null-safe helper for the condition lists every Kubernetes status carries.
const base = new Environment({ enableOptionalTypes: true, homogeneousAggregateLiterals: false }).registerFunction(
  "hasCondition(dyn, string, string): bool",
  (object: unknown, type: string, status: string) =>
    conditionsOf(object).some((c) => c.type === type && c.status === status),
);

const environments = new Map<string, Environment>();
const programs = new Map<string, CelProgram>();

function environmentFor(variables: readonly string[]): Environment {
  const key = [...variables].sort().join(",");
  let env = environments.get(key);
  if (!env) {
    env = base.clone();
    for (const name of variables) env.registerVariable(name, "dyn");
    environments.set(key, env);
  }
  return env;
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0] ?? text;
}

/** Why `expression` is not a valid CEL expression over `variables`, or undefined when it is. */
export function celProblem(expression: string, variables: readonly string[], want: CelResultType): string | undefined {
  const env = environmentFor(variables);
  try {
    env.parse(expression);
  } catch (error) {
    return `invalid CEL expression: ${firstLine(error)}`;
  }
  const checked = env.check(expression);
  if (!checked.valid) return `invalid CEL expression: ${firstLine(checked.error)}`;
  if (want === "bool" && checked.type !== "bool" && checked.type !== "dyn") {
    return `the CEL expression must be true or false, but it gives a ${checked.type}`;
  }
  return undefined;
}

/** Compiles once per (variables, expression); callers validated the expression at load time. */
export function compileCel(expression: string, variables: readonly string[]): CelProgram {
  const key = `${[...variables].sort().join(",")}\u0000${expression}`;
  const cached = programs.get(key);
  if (cached) return cached;
  const compiled = environmentFor(variables).parse(expression);
  const program: CelProgram = {
    expression,
    run: (values) => {
      try {
        return { ok: true, value: compiled(values) };
      } catch (error) {
        return { ok: false, error: firstLine(error) };
      }
    },
  };
  programs.set(key, program);
  return program;
}

/** True only when the expression ran and gave `true`; an error (e.g. a field not set yet) counts as not true. */
export function celHolds(program: CelProgram, variables: Record<string, unknown>): boolean {
  const outcome = program.run(variables);
  return outcome.ok && outcome.value === true;
}

/** Adds a zod issue at `path` when `expression` does not compile; for ParamsSchema refinements. */
export function refineCel(
  ctx: z.RefinementCtx,
  expression: string,
  variables: readonly string[],
  want: CelResultType,
  path: (string | number)[],
): void {
  const problem = celProblem(expression, variables, want);
  if (problem) ctx.addIssue({ code: "custom", message: problem, path });
}

/** CEL values as a learner reads them: strings as-is, ints without the BigInt suffix, unset as null. */
export function celValueText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  if (typeof value === "bigint" || typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? String(v) : v));
}
