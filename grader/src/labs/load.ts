import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { forbiddenAllowances } from "../runner/role-review.ts";
import type { Lab } from "../engine/lab.ts";
import { parseLab, type LabSource } from "../engine/lab-parse.ts";
import { formatProblem, type LabProblem } from "../engine/yaml-location.ts";

/** The repository's labs/ folder. */
export const LABS_DIR = fileURLToPath(new URL("../../../labs/", import.meta.url));

/** A lab that does not load: every problem, each as `file:line: message`. */
export class LabProblemsError extends Error {
  readonly problems: LabProblem[];
  constructor(labId: string, problems: LabProblem[]) {
    super(`lab ${labId} has ${problems.length} problem(s):\n${problems.map(formatProblem).join("\n")}`);
    this.name = "LabProblemsError";
    this.problems = problems;
  }
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}

/** Ids of the labs in `labsDir`: the folders holding a lab.yaml, sorted. */
export async function listLabs(labsDir: string = LABS_DIR): Promise<string[]> {
  const entries = await readdir(labsDir, { withFileTypes: true });
  const ids: string[] = [];
  for (const entry of entries.filter((e) => e.isDirectory())) {
    const files = await readdir(join(labsDir, entry.name));
    if (files.includes("lab.yaml")) ids.push(entry.name);
  }
  return ids.sort();
}

/** The text of labs/<id>/lab.yaml and labs/<id>/fixtures/*.yaml. */
export async function readLabSource(labsDir: string, id: string): Promise<LabSource> {
  const dir = join(labsDir, id);
  const labFile = join(dir, "lab.yaml");
  let text: string;
  try {
    text = await readFile(labFile, "utf8");
  } catch (error) {
    if (!isMissing(error)) throw new Error(`while reading ${labFile}`, { cause: error });
    const known = await listLabs(labsDir).catch(() => []);
    const list = known.length > 0 ? known.join(", ") : `(none in ${labsDir})`;
    throw new Error(`unknown lab "${id}"; known labs: ${list}`, { cause: error });
  }
  const fixturesDir = join(dir, "fixtures");
  const names = await readdir(fixturesDir).catch((error: unknown) => {
    if (isMissing(error)) return [];
    throw new Error(`while listing ${fixturesDir}`, { cause: error });
  });
  const fixtures = await Promise.all(
    names
      .filter((name) => /\.ya?ml$/.test(name))
      .sort()
      .map(async (name) => ({ file: join(fixturesDir, name), text: await readFile(join(fixturesDir, name), "utf8") })),
  );
  return { lab: { file: labFile, text }, fixtures };
}

/** Loads a lab ready to grade; throws LabProblemsError listing every problem with file:line. */
export async function loadLab(id: string, labsDir: string = LABS_DIR): Promise<Lab> {
  const { lab, problems } = parseLab(await readLabSource(labsDir, id));
  if (!lab || problems.length > 0) throw new LabProblemsError(id, problems);
  if (lab.id !== id) {
    throw new LabProblemsError(id, [
      { file: lab.file, line: 1, message: `the lab's id is "${lab.id}" but its folder is "${id}"` },
    ]);
  }
  const forbidden = forbiddenAllowances(lab.permissions ?? []);
  if (forbidden.length > 0)
    throw new LabProblemsError(
      id,
      forbidden.map((f) => ({
        file: lab.file,
        line: 1,
        message: `permissions: ${f.replace(/^Your role asks for/, "the lab allows")}`,
      })),
    );
  return lab;
}

/** Every problem of every lab in `labsDir`, with file:line; empty when all labs are ready. */
export async function lintLabs(labsDir: string = LABS_DIR): Promise<LabProblem[]> {
  const problems: LabProblem[] = [];
  for (const id of await listLabs(labsDir)) {
    try {
      await loadLab(id, labsDir);
    } catch (error) {
      if (!(error instanceof LabProblemsError)) throw error;
      problems.push(...error.problems);
    }
  }
  return problems;
}
