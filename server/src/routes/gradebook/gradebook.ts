import { Router } from "express";
import { requireRole } from "../../auth.ts";
import type { Db } from "../../db/connect.ts";
import type { LabRecord } from "../../db/labs.ts";
import { requireLab } from "../labs/labs.ts";
import { GradebookQuerySchema, type GradebookRow } from "./gradebook.schema.ts";
import { HttpError } from "../../errors.ts";

/** One row per learner who submitted to the lab, from their best (or latest) finished attempt. */
export async function gradebookRows(db: Db, lab: LabRecord, pick: "best" | "latest"): Promise<GradebookRow[]> {
  const attempts = await db
    .selectFrom("attempts")
    .innerJoin("users", "users.id", "attempts.user_id")
    .select(["attempts.id", "attempts.user_id", "users.name", "attempts.status", "attempts.score", "attempts.done_at", "attempts.queued_at"])
    .where("attempts.lab_id", "=", lab.id)
    .where("users.role", "=", "learner")
    .orderBy("users.name")
    .execute();
  const byUser = new Map<number, typeof attempts>();
  for (const a of attempts) byUser.set(a.user_id, [...(byUser.get(a.user_id) ?? []), a]);
  const chosen = [...byUser.values()].map((list) => {
    const finished = list.filter((a) => a.status === "graded" || a.status === "not_gradable");
    const graded = finished.filter((a) => a.status === "graded");
    const pickOne =
      pick === "best"
        ? graded.sort((x, y) => (y.score ?? 0) - (x.score ?? 0) || y.queued_at.getTime() - x.queued_at.getTime())[0] ?? finished[0]
        : finished.sort((x, y) => (y.done_at?.getTime() ?? 0) - (x.done_at?.getTime() ?? 0))[0];
    return { first: list[0]!, count: list.length, pick: pickOne };
  });
  const ids = chosen.flatMap((c) => (c.pick ? [c.pick.id] : []));
  const checks = ids.length === 0 ? [] : await db.selectFrom("check_results").select(["attempt_id", "task", "points", "status", "required"]).where("attempt_id", "in", ids).execute();
  const taskIds = lab.summary.tasks.map((t) => t.id);
  const passedByAttempt = Map.groupBy(checks.filter((c) => c.required && c.status === "passed"), (c) => c.attempt_id);
  return chosen.map(({ first, count, pick: a }) => {
    const tasks = Object.fromEntries(taskIds.map((t) => [t, 0]));
    for (const c of (a && passedByAttempt.get(a.id)) || []) tasks[c.task] = (tasks[c.task] ?? 0) + c.points;
    return { userId: first.user_id, user: first.name, attempts: count, attemptId: a?.id ?? null, status: a?.status ?? null, score: a?.score ?? null, maxScore: lab.summary.maxScore, tasks };
  });
}

const csvField = (v: unknown) => {
  const text = v === null || v === undefined ? "" : String(v);
  // A leading =, +, - or @ would be a formula in a spreadsheet.
  const safe = /^[=+\-@]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
};

export function gradebookCsv(lab: LabRecord, rows: GradebookRow[]): string {
  const taskIds = lab.summary.tasks.map((t) => t.id);
  const header = ["user", "attempts", "status", "score", "max_score", ...taskIds.map((t) => `task ${t}`)];
  const lines = rows.map((r) => [r.user, r.attempts, r.status, r.score, r.maxScore, ...taskIds.map((t) => r.tasks[t] ?? 0)].map(csvField).join(","));
  return `${[header.map(csvField).join(","), ...lines].join("\r\n")}\r\n`;
}

export function gradebookRouter(db: Db): Router {
  const router = Router();
  router.get("/gradebook", async (req, res) => {
    requireRole(req, "instructor");
    const query = GradebookQuerySchema.safeParse(req.query);
    if (!query.success) throw new HttpError(400, "gradebook needs ?lab=<id> (and optionally format=csv|json, pick=best|latest)", query.error.issues);
    const lab = await requireLab(db, { labId: query.data.lab });
    const rows = await gradebookRows(db, lab, query.data.pick);
    if (query.data.format === "csv") {
      res.type("text/csv").attachment(`gradebook-${lab.id}.csv`).send(gradebookCsv(lab, rows));
      return;
    }
    res.json({ lab: lab.id, pick: query.data.pick, rows });
  });
  return router;
}
