import type { CourseRecord } from "../db/courses.ts";
import type { LabRecord } from "../db/labs.ts";
import type { GradebookRow } from "./gradebook.ts";

/** Where a learner stands on a lab, from their best graded attempt. */
export type LabStatus = "not_started" | "attempted" | "full_marks";

/** A lab of the course as the course lists it, with what the gradebook knows of it. */
export interface CourseLab {
  id: string;
  title: string;
  weight: number;
  requires: string[];
  maxScore: number;
}

export interface CourseOutline {
  id: string;
  title: string;
  modules: { number: number; title: string; labs: CourseLab[] }[];
}

export interface LabProgress extends CourseLab {
  status: LabStatus;
  /** The best graded attempt's score; null before any graded attempt. */
  bestScore: number | null;
  attemptId: string | null;
  attempts: number;
  /** Every prerequisite has full marks. */
  prerequisitesMet: boolean;
}

export interface CourseProgress {
  id: string;
  title: string;
  learner: { id: number; name: string };
  /** Weighted share of the course's points earned, 0–100 (one decimal). */
  score: number;
  /** The first lab in course order without full marks whose prerequisites are met; null when none is. */
  next: { id: string; title: string } | null;
  modules: { number: number; title: string; labs: LabProgress[] }[];
}

/** The course with each lab's title and points from the gradebook; a lab it does not know is a platform fault. */
export function courseOutline(course: CourseRecord, labs: Map<string, LabRecord>): CourseOutline {
  return {
    id: course.id,
    title: course.title,
    modules: course.modules.map((m) => ({
      number: m.number,
      title: m.title,
      labs: m.labs.map(({ lab: id, weight, requires }) => {
        const lab = labs.get(id);
        if (!lab)
          throw new Error(
            `course ${course.id} names lab ${id}, which the gradebook does not know (a worker records both)`,
          );
        return { id, title: lab.title, weight, requires, maxScore: lab.summary.maxScore };
      }),
    })),
  };
}

export function labStatus(row: GradebookRow | undefined, maxScore: number): LabStatus {
  if (!row) return "not_started";
  return row.status === "graded" && row.score !== null && row.score >= maxScore ? "full_marks" : "attempted";
}

/** Weighted share of the points earned: each lab counts its best score over its maximum, times its weight. */
export function courseScore(labs: { weight: number; bestScore: number | null; maxScore: number }[]): number {
  const total = labs.reduce((sum, l) => sum + l.weight, 0);
  if (total === 0) return 0;
  const earned = labs.reduce((sum, l) => sum + l.weight * (l.maxScore > 0 ? (l.bestScore ?? 0) / l.maxScore : 0), 0);
  return Math.round((earned / total) * 1000) / 10;
}

/** A learner's progress through the course, from their best row of each lab's gradebook (absent: not started). */
export function courseProgress(
  outline: CourseOutline,
  learner: { id: number; name: string },
  best: Map<string, GradebookRow>,
): CourseProgress {
  const statuses = new Map(
    outline.modules.flatMap((m) => m.labs.map((l) => [l.id, labStatus(best.get(l.id), l.maxScore)] as const)),
  );
  const modules = outline.modules.map((m) => ({
    ...m,
    labs: m.labs.map((lab): LabProgress => {
      const row = best.get(lab.id);
      return {
        ...lab,
        status: statuses.get(lab.id)!,
        bestScore: row?.status === "graded" ? row.score : null,
        attemptId: row?.attemptId ?? null,
        attempts: row?.attempts ?? 0,
        prerequisitesMet: lab.requires.every((id) => statuses.get(id) === "full_marks"),
      };
    }),
  }));
  const labs = modules.flatMap((m) => m.labs);
  const next = labs.find((l) => l.status !== "full_marks" && l.prerequisitesMet);
  return {
    id: outline.id,
    title: outline.title,
    learner,
    score: courseScore(labs),
    next: next ? { id: next.id, title: next.title } : null,
    modules,
  };
}

/** The instructor's matrix: every learner who submitted to a lab of the course, by name, with a cell per lab. */
export function courseMatrix(outline: CourseOutline, rowsByLab: Map<string, GradebookRow[]>) {
  const labs = outline.modules.flatMap((m) => m.labs);
  const learners = new Map<number, { id: number; name: string; best: Map<string, GradebookRow> }>();
  for (const lab of labs)
    for (const row of rowsByLab.get(lab.id) ?? []) {
      const learner = learners.get(row.userId) ?? { id: row.userId, name: row.user, best: new Map() };
      learner.best.set(lab.id, row);
      learners.set(row.userId, learner);
    }
  const rows = [...learners.values()]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((learner) => courseProgress(outline, { id: learner.id, name: learner.name }, learner.best));
  return { labs, rows };
}
export type CourseMatrix = ReturnType<typeof courseMatrix>;
