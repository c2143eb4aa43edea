import { createHash } from "node:crypto";
import type { Db } from "../db/connect.ts";
import { replaceCourse } from "../db/courses.ts";
import { upsertLab } from "../db/labs.ts";
import { requiredPoints } from "../../../grader/src/contracts.ts";
import type { Lab } from "../../../grader/src/engine/lab.ts";
import { loadCourse } from "../../../grader/src/labs/course.ts";
import { listLabs, loadLab, readLabSource } from "../../../grader/src/labs/load.ts";

export interface LoadedLab {
  lab: Lab;
  versionHash: string;
}

/** sha256 over the lab file and its fixtures: an attempt records exactly which lab graded it. */
async function versionOf(labsDir: string, id: string): Promise<string> {
  const source = await readLabSource(labsDir, id);
  const hash = createHash("sha256");
  for (const file of [source.lab, ...source.fixtures])
    hash.update(`${file.file.slice(labsDir.length)}\0${file.text}\0`);
  return hash.digest("hex");
}

/**
 * Loads every lab from labs/, then the course of labs/course.yaml (which names them), and records
 * both in the gradebook, where the service reads labs and courses from.
 */
export async function syncLabs(db: Db, labsDir: string): Promise<Map<string, LoadedLab>> {
  const labs = new Map<string, LoadedLab>();
  for (const id of await listLabs(labsDir)) {
    const lab = await loadLab(id, labsDir);
    const versionHash = await versionOf(labsDir, id);
    const checks = lab.checks.map((c) => ({
      id: c.id,
      task: c.task,
      title: c.title,
      points: c.points,
      required: c.severity === "required",
    }));
    await upsertLab(db, {
      id,
      title: lab.title,
      versionHash,
      summary: {
        tasks: lab.tasks.map((t) => ({ id: t.id, title: t.title })),
        checks,
        maxScore: requiredPoints(checks),
      },
    });
    labs.set(id, { lab, versionHash });
  }
  const course = await loadCourse(labsDir);
  if (course)
    await replaceCourse(db, {
      id: course.id,
      title: course.title,
      modules: course.modules.map((m) => ({ ...m, labs: m.labs.map((l) => ({ ...l, requires: l.requires ?? [] })) })),
    });
  return labs;
}
