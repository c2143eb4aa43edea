import { z } from "zod";
import { KEBAB_CASE_ID } from "./lab.ts";
import { findReferenceCycles, type ReferenceEdge } from "./reference-cycles.ts";
import type { LabProblem, YamlPath } from "./yaml-location.ts";

/** Where the course file sits in labs/, and where it points editors for its JSON Schema. */
export const COURSE_FILE = "course.yaml";
export const COURSE_JSON_SCHEMA_FILE = "course.schema.json";

const LabIdSchema = z.string().regex(KEBAB_CASE_ID, "a lab id is its folder's name, kebab-case");

export const CourseLabSchema = z.strictObject({
  /** The lab's id: the name of its folder under labs/. */
  lab: LabIdSchema,
  /** The lab's share of the course score, relative to the other labs' weights. */
  weight: z.number().positive("a weight is a number above 0"),
  /** Labs (of this course, earlier in it) a learner should finish with full marks first. */
  requires: z.array(LabIdSchema).optional(),
});
export type CourseLab = z.infer<typeof CourseLabSchema>;

export const CourseModuleSchema = z.strictObject({
  /** The module's number in the course, as learners know it ("Module 8"). */
  number: z.number().int().min(1),
  /** The module's title, in our words. */
  title: z.string().min(1),
  /** The module's labs, in the order learners do them. */
  labs: z.array(CourseLabSchema).min(1),
});
export type CourseModule = z.infer<typeof CourseModuleSchema>;

export const CourseFileSchema = z.strictObject({
  /** The course's id, as the API names it. */
  id: LabIdSchema,
  /** The course's title, in our words. */
  title: z.string().min(1),
  /** The modules in course order; a lab's place in this order is what "earlier" and "next" mean. */
  modules: z.array(CourseModuleSchema).min(1),
});
export type Course = z.infer<typeof CourseFileSchema>;

/** The JSON Schema course.yaml points editors to, generated from the zod schema so it cannot drift. */
export function courseJsonSchema(): string {
  const schema = z.toJSONSchema(CourseFileSchema, { io: "input", unrepresentable: "any" });
  return `${JSON.stringify({ ...schema, title: "labgrader course file" }, null, 2)}\n`;
}

interface Placed {
  entry: CourseLab;
  /** Position in course order, over every module. */
  order: number;
  path: YamlPath;
}

/**
 * What the schema cannot say: every lab exists as a folder and is listed once, module numbers
 * rise, and prerequisites name earlier labs of the course without a cycle.
 */
export function lintCourse(
  course: Course,
  file: string,
  knownLabs: readonly string[],
  lineOf: (path: YamlPath) => number,
): LabProblem[] {
  const problems: LabProblem[] = [];
  const problem = (path: YamlPath, message: string) =>
    problems.push({ file, line: lineOf(path), message: `${path.join(".")}: ${message}` });

  const placed = new Map<string, Placed>();
  let order = 0;
  course.modules.forEach((module, m) => {
    const previous = course.modules[m - 1];
    if (previous && module.number <= previous.number)
      problem(["modules", m, "number"], `module ${module.number} comes after module ${previous.number}`);
    module.labs.forEach((entry, l) => {
      const path = ["modules", m, "labs", l];
      if (!knownLabs.includes(entry.lab)) {
        const known = knownLabs.length > 0 ? knownLabs.join(", ") : "(none)";
        problem(
          [...path, "lab"],
          `unknown lab "${entry.lab}": no folder labs/${entry.lab} holds a lab.yaml (known labs: ${known})`,
        );
      }
      const first = placed.get(entry.lab);
      if (first) problem([...path, "lab"], `lab "${entry.lab}" is listed twice (first at ${first.path.join(".")})`);
      else placed.set(entry.lab, { entry, order: order++, path });
    });
  });

  const edges: ReferenceEdge[] = [];
  for (const [id, { entry, order: at, path }] of placed) {
    (entry.requires ?? []).forEach((required, r) => {
      const where = [...path, "requires", r];
      const target = placed.get(required);
      if (!target) return problem(where, `"${required}" is not a lab of this course`);
      edges.push({ from: id, to: required, field: "requires", file, line: lineOf(where) });
      if (target.order >= at)
        problem(
          where,
          required === id
            ? `lab "${id}" requires itself`
            : `"${required}" comes later in the course than "${id}"; a prerequisite comes before the lab that needs it`,
        );
    });
  }
  for (const cycle of findReferenceCycles(edges)) {
    const [first] = cycle;
    const names = [...cycle.map((e) => e.from), first!.from].join(" → ");
    problems.push({ file, line: first!.line, message: `requires: the prerequisites form a cycle: ${names}` });
  }
  return problems;
}
