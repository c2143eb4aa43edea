import { Router } from "express";
import { requireRole } from "../../auth.ts";
import type { Db } from "../../db/connect.ts";
import { HttpError } from "../../errors.ts";
import { gradebookCsv, gradebookRows } from "../../services/gradebook.ts";
import { requireLab } from "../../services/labs.ts";
import { GradebookQuerySchema } from "./gradebook.schema.ts";

export function gradebookRouter(db: Db): Router {
  const router = Router();
  router.get("/gradebook", async (req, res) => {
    requireRole(req, "instructor");
    const query = GradebookQuerySchema.safeParse(req.query);
    if (!query.success)
      throw new HttpError(
        400,
        "gradebook needs ?lab=<id> (and optionally format=csv|json, pick=best|latest)",
        query.error.issues,
      );
    const lab = await requireLab(db, query.data.lab);
    const rows = await gradebookRows(db, lab, query.data.pick);
    if (query.data.format === "csv") {
      res.type("text/csv").attachment(`gradebook-${lab.id}.csv`).send(gradebookCsv(lab, rows));
      return;
    }
    res.json({ lab: lab.id, pick: query.data.pick, rows });
  });
  return router;
}
