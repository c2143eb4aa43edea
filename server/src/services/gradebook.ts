import { z } from "zod";
import { learnersAttemptsOfLab, listAttempts, passedRequiredChecks } from "../db/attempts.ts";
import type { Db } from "../db/connect.ts";
import type { LabRecord } from "../db/labs.ts";
import type { Attempt, User } from "../db/schema.ts";
import { getUser } from "../db/users.ts";
import { notFound } from "../errors.ts";

/** One learner's line of the gradebook: their best (or latest) finished attempt, if any. */
export interface GradebookRow {
  userId: number;
  user: string;
  attempts: number;
  attemptId: string | null;
  status: string | null;
  score: number | null;
  maxScore: number;
  /** Points earned per task (required checks only). */
  tasks: Record<string, number>;
}

/** Points per task earned by passed required checks: every task of the lab, 0 where none passed. */
function taskPoints(lab: LabRecord, passed: { task: string; points: number }[]): Record<string, number> {
  const tasks = Object.fromEntries(lab.summary.tasks.map((t) => [t.id, 0]));
  for (const c of passed) tasks[c.task] = (tasks[c.task] ?? 0) + c.points;
  return tasks;
}

/**
 * One row per learner who submitted to the lab, from their best (or latest) finished attempt;
 * with `userId`, that account's row alone (none when it has not submitted).
 */
export async function gradebookRows(
  db: Db,
  lab: LabRecord,
  pick: "best" | "latest",
  userId?: number,
): Promise<GradebookRow[]> {
  const attempts = await learnersAttemptsOfLab(db, lab.id, userId);
  const byUser = new Map<number, typeof attempts>();
  for (const a of attempts) byUser.set(a.user_id, [...(byUser.get(a.user_id) ?? []), a]);
  const chosen = [...byUser.values()].map((list) => {
    const finished = list.filter((a) => a.status === "graded" || a.status === "not_gradable");
    const graded = finished.filter((a) => a.status === "graded");
    const pickOne =
      pick === "best"
        ? (graded.sort((x, y) => (y.score ?? 0) - (x.score ?? 0) || y.queued_at.getTime() - x.queued_at.getTime())[0] ??
          finished[0])
        : finished.sort((x, y) => (y.done_at?.getTime() ?? 0) - (x.done_at?.getTime() ?? 0))[0];
    return { first: list[0]!, count: list.length, pick: pickOne };
  });
  const passed = Map.groupBy(
    await passedRequiredChecks(
      db,
      chosen.flatMap((c) => (c.pick ? [c.pick.id] : [])),
    ),
    (c) => c.attempt_id,
  );
  return chosen.map(({ first, count, pick: a }) => ({
    userId: first.user_id,
    user: first.name,
    attempts: count,
    attemptId: a?.id ?? null,
    status: a?.status ?? null,
    score: a?.score ?? null,
    maxScore: lab.summary.maxScore,
    tasks: taskPoints(lab, (a && passed.get(a.id)) || []),
  }));
}

/** One CSV field, quoted when it must be and defused when a spreadsheet would read a formula. */
export const csvField = (v: unknown) => {
  const text = v === null || v === undefined ? "" : String(v);
  // A leading =, +, - or @ would be a formula in a spreadsheet.
  const safe = /^[=+\-@]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
};

export function gradebookCsv(lab: LabRecord, rows: GradebookRow[]): string {
  const taskIds = lab.summary.tasks.map((t) => t.id);
  const header = ["user", "attempts", "status", "score", "max_score", ...taskIds.map((t) => `task ${t}`)];
  const lines = rows.map((r) =>
    [r.user, r.attempts, r.status, r.score, r.maxScore, ...taskIds.map((t) => r.tasks[t] ?? 0)].map(csvField).join(","),
  );
  return `${[header.map(csvField).join(","), ...lines].join("\r\n")}\r\n`;
}

const UserIdSchema = z
  .string()
  .regex(/^\d{1,9}$/)
  .transform(Number);

/** A learner's attempts on the lab (at most 200, newest first), each with its points per task; 404 for an unknown account. */
export async function learnerAttempts(
  db: Db,
  lab: LabRecord,
  userId: unknown,
): Promise<{
  learner: Pick<User, "id" | "name" | "role">;
  attempts: { attempt: Attempt; tasks: Record<string, number> }[];
}> {
  const id = UserIdSchema.safeParse(userId);
  const user = id.success ? await getUser(db, id.data) : undefined;
  if (!user) throw notFound("learner");
  const attempts = await listAttempts(db, { labId: lab.id, userId: user.id }, 200);
  const passed = Map.groupBy(
    await passedRequiredChecks(
      db,
      attempts.map((a) => a.id),
    ),
    (c) => c.attempt_id,
  );
  return {
    learner: { id: user.id, name: user.name, role: user.role },
    attempts: attempts.map((attempt) => ({ attempt, tasks: taskPoints(lab, passed.get(attempt.id) ?? []) })),
  };
}
