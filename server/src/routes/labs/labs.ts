import { Router } from "express";
import type { Db } from "../../db/connect.ts";
import { listLabRecords, type LabRecord } from "../../db/labs.ts";
import { requireLab } from "../../services/labs.ts";
import type { LabView } from "./labs.schema.ts";

export const labView = (lab: LabRecord): LabView => ({
  id: lab.id,
  title: lab.title,
  versionHash: lab.versionHash,
  maxScore: lab.summary.maxScore,
  tasks: lab.summary.tasks,
  checks: lab.summary.checks,
});

export function labsRouter(db: Db): Router {
  const router = Router();
  router.get("/labs", async (_req, res) => {
    res.json({ labs: (await listLabRecords(db)).map(labView) });
  });
  router.get("/labs/:labId", async (req, res) => {
    res.json(labView(await requireLab(db, req.params.labId)));
  });
  return router;
}
