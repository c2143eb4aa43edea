import { sql, type Kysely } from "kysely";

/**
 * Sign-in for the pages: a password hash per account (null: the account signs in only with API
 * tokens), the sessions table connect-pg-simple expects, and secrets the service generates once
 * and shares between its processes (the session secret when none is configured).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("users").addColumn("password_hash", "text").execute();
  await db.schema
    .createTable("page_sessions")
    .addColumn("sid", "varchar", (c) => c.primaryKey())
    .addColumn("sess", "json", (c) => c.notNull())
    .addColumn("expire", sql`timestamp(6)`, (c) => c.notNull())
    .execute();
  await db.schema.createIndex("page_sessions_expire").on("page_sessions").column("expire").execute();
  await db.schema
    .createTable("service_secrets")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("value", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("service_secrets").execute();
  await db.schema.dropTable("page_sessions").execute();
  await db.schema.alterTable("users").dropColumn("password_hash").execute();
}
