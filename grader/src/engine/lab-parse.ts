import type { z } from "zod";
import { LabFileSchema, type Fixture, type Lab } from "./lab.ts";
import { lintLab } from "./lab-lint.ts";
import { parseYaml, type LabProblem, type LocatedYaml } from "./yaml-location.ts";

/** A lab's files as text: lab.yaml and every fixtures/*.yaml. */
export interface LabSource {
  lab: { file: string; text: string };
  fixtures: { file: string; text: string }[];
}

export interface ParsedLab {
  /** Set when the lab file matched the schema; may still come with lint problems. */
  lab?: Lab;
  /** Every problem found, with file and line; empty for a lab ready to grade. */
  problems: LabProblem[];
}

type Issue = z.core.$ZodIssue;
type Path = (string | number)[];

function keys(path: readonly PropertyKey[]): Path {
  return path.filter((key): key is string | number => typeof key !== "symbol");
}

/**
 * The issues to show for a union that matched no option: those of the option the value got
 * furthest into (deepest shallowest issue), so `{patch: {kind: x}}` reports the missing name.
 */
function flatten(issue: Issue, base: Path): { path: Path; message: string }[] {
  const path = [...base, ...keys(issue.path)];
  if (issue.code !== "invalid_union" || issue.errors.length === 0) return [{ path, message: issue.message }];
  const depth = (branch: Issue[]) => Math.min(...branch.map((i) => i.path.length));
  const best = issue.errors.reduce((a, b) => (depth(b) > depth(a) ? b : a));
  if (depth(best) === 0) return [{ path, message: "expected one of the documented shapes here" }];
  return best.flatMap((nested) => flatten(nested, path));
}

function describeIssue(path: Path, message: string): string {
  return path.length > 0 ? `${path.join(".")}: ${message}` : message;
}

function fixtureName(file: string): string {
  return file.split(/[\\/]/).pop() ?? file;
}

/** Zod's issues as problems at their YAML lines; the course file is checked the same way. */
export function schemaProblems(yaml: LocatedYaml, issues: Issue[]): LabProblem[] {
  return issues.flatMap((issue) =>
    flatten(issue, []).map(({ path, message }) => ({
      file: yaml.file,
      line: yaml.lineOf(path),
      message: describeIssue(path, message),
    })),
  );
}

/** Parses, validates and lints a lab from its files' text. Pure: the loader does the reading. */
export function parseLab(source: LabSource): ParsedLab {
  const { yaml, problems } = parseYaml(source.lab.file, source.lab.text);
  if (problems.length > 0) return { problems };
  const document = yaml.documents[0];
  const result = LabFileSchema.safeParse(document?.toJS() ?? null);
  if (!result.success) return { problems: schemaProblems(yaml, result.error.issues) };

  const fixtures: Record<string, Fixture> = {};
  for (const { file, text } of source.fixtures) {
    const name = fixtureName(file);
    fixtures[name] = { name, file, text };
  }
  const lab: Lab = { ...result.data, file: source.lab.file, fixtures };
  return { lab, problems: lintLab(lab, (path) => yaml.lineOf(path)) };
}
