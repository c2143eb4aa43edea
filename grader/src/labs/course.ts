import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { COURSE_FILE, CourseFileSchema, lintCourse, type Course } from "../engine/course.ts";
import { schemaProblems } from "../engine/lab-parse.ts";
import { parseYaml, type LabProblem } from "../engine/yaml-location.ts";
import { LabProblemsError, LABS_DIR, listLabs } from "./load.ts";

export interface ParsedCourse {
  /** Set when the file matched the schema and no cross-check failed. */
  course?: Course;
  problems: LabProblem[];
}

/** Parses and checks a course file's text against the labs there are. Pure: the loader reads. */
export function parseCourse(file: string, text: string, knownLabs: readonly string[]): ParsedCourse {
  const { yaml, problems } = parseYaml(file, text);
  if (problems.length > 0) return { problems };
  const result = CourseFileSchema.safeParse(yaml.documents[0]?.toJS() ?? null);
  if (!result.success) return { problems: schemaProblems(yaml, result.error.issues) };
  const lintProblems = lintCourse(result.data, file, knownLabs, (path) => yaml.lineOf(path));
  return lintProblems.length > 0 ? { problems: lintProblems } : { course: result.data, problems: [] };
}

/**
 * The course of labs/course.yaml, checked against the lab folders; undefined when there is no
 * such file (a labs folder of a test may hold labs only). Throws LabProblemsError when it does not check.
 */
export async function loadCourse(labsDir: string = LABS_DIR): Promise<Course | undefined> {
  const file = join(labsDir, COURSE_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new Error(`while reading ${file}`, { cause: error });
  }
  const { course, problems } = parseCourse(file, text, await listLabs(labsDir));
  if (!course) throw new LabProblemsError(COURSE_FILE, problems);
  return course;
}

/** The course file's problems, with file:line; empty when it checks or there is none. */
export async function lintCourseFile(labsDir: string = LABS_DIR): Promise<LabProblem[]> {
  try {
    await loadCourse(labsDir);
    return [];
  } catch (error) {
    if (error instanceof LabProblemsError) return error.problems;
    throw error;
  }
}
