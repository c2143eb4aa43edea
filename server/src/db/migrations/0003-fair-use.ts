import { sql, type Kysely } from "kysely";

/**
 * Fair use: the hits of sliding-window rate limits (failed sign-ins, submissions), leases of open
 * event streams, and what the retention sweep needs: when a submission's archive was deleted, when
 * a blob's bytes were last stored, and an index to find the submissions that still refer to a blob.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("rate_limit_hits")
    .addColumn("id", "bigint", (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn("bucket", "text", (c) => c.notNull())
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("rate_limit_hits_bucket")
    .on("rate_limit_hits")
    .columns(["bucket", "expires_at"])
    .execute();
  await db.schema.createIndex("rate_limit_hits_expires").on("rate_limit_hits").column("expires_at").execute();
  await db.schema
    .createTable("stream_leases")
    .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn("user_id", "integer", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("stream_leases_user").on("stream_leases").columns(["user_id", "expires_at"]).execute();
  await db.schema.alterTable("submissions").addColumn("archive_deleted_at", "timestamptz").execute();
  await db.schema.createIndex("submissions_archive").on("submissions").column("archive_sha256").execute();
  await db.schema
    .alterTable("blobs")
    .addColumn("stored_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("blobs").dropColumn("stored_at").execute();
  await db.schema.dropIndex("submissions_archive").execute();
  await db.schema.alterTable("submissions").dropColumn("archive_deleted_at").execute();
  await db.schema.dropTable("stream_leases").execute();
  await db.schema.dropTable("rate_limit_hits").execute();
}
