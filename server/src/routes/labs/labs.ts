import { Router } from "express";
import type { Db } from "../../db/connect.ts";
import { getLabRecord, listLabRecords, type LabRecord } from "../../db/labs.ts";
import { HttpError } from "../../errors.ts";
import { LabIdParamsSchema, type LabView } from "./labs.schema.ts";

export const labView = (lab: LabRecord): LabView => ({
  id: lab.id,
  title: lab.title,
  versionHash: lab.versionHash,
  maxScore: lab.summary.maxScore,
  tasks: lab.summary.tasks,
  checks: lab.summary.checks,
});

/** The lab, or a 404 that lists the labs there are. */
export async function requireLab(db: Db, rawParams: unknown): Promise<LabRecord> {
  const params = LabIdParamsSchema.safeParse(rawParams);
  const lab = params.success ? await getLabRecord(db, params.data.labId) : undefined;
  if (lab) return lab;
  const known = (await listLabRecords(db)).map((l) => l.id);
  const name = (rawParams as { labId?: unknown }).labId;
  throw new HttpError(404, `unknown lab ${JSON.stringify(name)}; known labs: ${known.join(", ") || "(none)"}`);
}

export function labsRouter(db: Db): Router {
  const router = Router();
  router.get("/labs", async (_req, res) => {
    res.json({ labs: (await listLabRecords(db)).map(labView) });
  });
  router.get("/labs/:labId", async (req, res) => {
    res.json(labView(await requireLab(db, req.params)));
  });
  return router;
}
