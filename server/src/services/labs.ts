import { z } from "zod";
import type { Db } from "../db/connect.ts";
import { getLabRecord, listLabRecords, type LabRecord } from "../db/labs.ts";
import { HttpError } from "../errors.ts";

/** A lab's id as labs/ names its folders. */
const LabIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "a lab id is kebab-case");

/** The lab, or a 404 that lists the labs there are. */
export async function requireLab(db: Db, labId: unknown): Promise<LabRecord> {
  const id = LabIdSchema.safeParse(labId);
  const lab = id.success ? await getLabRecord(db, id.data) : undefined;
  if (lab) return lab;
  const known = (await listLabRecords(db)).map((l) => l.id);
  throw new HttpError(404, `unknown lab ${JSON.stringify(labId)}; known labs: ${known.join(", ") || "(none)"}`);
}
