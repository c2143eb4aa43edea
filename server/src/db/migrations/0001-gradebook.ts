import { sql, type Kysely } from "kysely";

/** The first gradebook: users and tokens, content-addressed blobs (archives, evidence, logs), labs, submissions, attempts, check results and attempt events. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("users")
    .addColumn("id", "integer", (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("role", "text", (c) => c.notNull().check(sql`role in ('learner', 'instructor', 'ci')`))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createTable("api_tokens")
    .addColumn("id", "integer", (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn("user_id", "integer", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("token_hash", "text", (c) => c.notNull().unique())
    .addColumn("label", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("last_used_at", "timestamptz")
    .execute();
  await db.schema
    .createTable("blobs")
    .addColumn("sha256", "text", (c) => c.primaryKey())
    .addColumn("size", "integer", (c) => c.notNull())
    .addColumn("content", "bytea", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createTable("labs")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("title", "text", (c) => c.notNull())
    .addColumn("version_hash", "text", (c) => c.notNull())
    .addColumn("summary", "jsonb", (c) => c.notNull())
    .addColumn("updated_at", "timestamptz", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("submissions")
    .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn("user_id", "integer", (c) => c.notNull().references("users.id"))
    .addColumn("lab_id", "text", (c) => c.notNull().references("labs.id"))
    .addColumn("kind", "text", (c) => c.notNull().check(sql`kind in ('archive', 'image', 'reference')`))
    .addColumn("archive_sha256", "text")
    .addColumn("image", "text")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createTable("attempts")
    .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn("submission_id", "uuid", (c) => c.notNull().references("submissions.id"))
    .addColumn("user_id", "integer", (c) => c.notNull().references("users.id"))
    .addColumn("lab_id", "text", (c) => c.notNull().references("labs.id"))
    .addColumn("lab_version", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) =>
      c.notNull().check(sql`status in ('queued', 'running', 'graded', 'not_gradable', 'superseded')`),
    )
    .addColumn("phase", "text", (c) => c.notNull())
    .addColumn("score", "integer")
    .addColumn("max_score", "integer")
    .addColumn("reason", "text")
    .addColumn("findings", "jsonb")
    .addColumn("runs", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("superseded_by", "uuid")
    .addColumn("queued_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("building_at", "timestamptz")
    .addColumn("provisioning_at", "timestamptz")
    .addColumn("deploying_at", "timestamptz")
    .addColumn("checking_at", "timestamptz")
    .addColumn("reporting_at", "timestamptz")
    .addColumn("done_at", "timestamptz")
    .addColumn("log_sha256", "text")
    .execute();
  await db.schema.createIndex("attempts_user_lab").on("attempts").columns(["user_id", "lab_id", "queued_at"]).execute();
  await db.schema.createIndex("attempts_status").on("attempts").column("status").execute();
  await db.schema
    .createTable("check_results")
    .addColumn("attempt_id", "uuid", (c) => c.notNull().references("attempts.id").onDelete("cascade"))
    .addColumn("check_id", "text", (c) => c.notNull())
    .addColumn("task", "text", (c) => c.notNull())
    .addColumn("title", "text", (c) => c.notNull())
    .addColumn("required", "boolean", (c) => c.notNull())
    .addColumn("points", "integer", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("message", "text", (c) => c.notNull())
    .addColumn("hint", "text", (c) => c.notNull())
    .addColumn("expected", "text")
    .addColumn("actual", "text")
    .addColumn("scenario", "text")
    .addColumn("decided_at_ms", "integer", (c) => c.notNull())
    .addColumn("evidence_sha256", "text")
    .addPrimaryKeyConstraint("check_results_pk", ["attempt_id", "check_id"])
    .execute();
  await db.schema
    .createTable("attempt_events")
    .addColumn("id", "bigint", (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn("attempt_id", "uuid", (c) => c.notNull().references("attempts.id").onDelete("cascade"))
    .addColumn("run", "integer", (c) => c.notNull())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("data", "jsonb", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex("attempt_events_attempt").on("attempt_events").columns(["attempt_id", "id"]).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    "attempt_events",
    "check_results",
    "attempts",
    "submissions",
    "labs",
    "blobs",
    "api_tokens",
    "users",
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
