import type { Db } from "./connect.ts";
import type { CourseModuleRecord } from "./schema.ts";

export interface CourseRecord {
  id: string;
  title: string;
  modules: CourseModuleRecord[];
}

/**
 * Records the course as the worker loaded it from labs/course.yaml, and forgets any other: there
 * is one course file, so a renamed course replaces the old one. The service reads courses only from here.
 */
export async function replaceCourse(db: Db, course: CourseRecord): Promise<void> {
  const values = {
    id: course.id,
    title: course.title,
    modules: JSON.stringify(course.modules),
    updated_at: new Date(),
  };
  await db.transaction().execute(async (tx) => {
    await tx.deleteFrom("courses").where("id", "!=", course.id).execute();
    await tx
      .insertInto("courses")
      .values(values)
      .onConflict((c) =>
        c.column("id").doUpdateSet({ title: values.title, modules: values.modules, updated_at: values.updated_at }),
      )
      .execute();
  });
}

export async function listCourseRecords(db: Db): Promise<CourseRecord[]> {
  const rows = await db.selectFrom("courses").selectAll().orderBy("id").execute();
  return rows.map((r) => ({ id: r.id, title: r.title, modules: r.modules }));
}

export async function getCourseRecord(db: Db, id: string): Promise<CourseRecord | undefined> {
  const r = await db.selectFrom("courses").selectAll().where("id", "=", id).executeTakeFirst();
  return r && { id: r.id, title: r.title, modules: r.modules };
}
