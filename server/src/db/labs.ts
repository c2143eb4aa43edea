import type { Db } from "./connect.ts";
import type { LabSummary } from "./schema.ts";

export interface LabRecord {
  id: string;
  title: string;
  versionHash: string;
  summary: LabSummary;
}

/** Records a lab as the worker loaded it from labs/; the service reads labs only from here. */
export async function upsertLab(db: Db, lab: LabRecord): Promise<void> {
  const values = {
    id: lab.id,
    title: lab.title,
    version_hash: lab.versionHash,
    summary: JSON.stringify(lab.summary),
    updated_at: new Date(),
  };
  await db
    .insertInto("labs")
    .values(values)
    .onConflict((c) =>
      c.column("id").doUpdateSet({
        title: values.title,
        version_hash: values.version_hash,
        summary: values.summary,
        updated_at: values.updated_at,
      }),
    )
    .execute();
}

export async function listLabRecords(db: Db): Promise<LabRecord[]> {
  const rows = await db.selectFrom("labs").selectAll().orderBy("id").execute();
  return rows.map((r) => ({ id: r.id, title: r.title, versionHash: r.version_hash, summary: r.summary }));
}

export async function getLabRecord(db: Db, id: string): Promise<LabRecord | undefined> {
  const r = await db.selectFrom("labs").selectAll().where("id", "=", id).executeTakeFirst();
  return r && { id: r.id, title: r.title, versionHash: r.version_hash, summary: r.summary };
}
