import { Kysely, Migrator, PostgresDialect, type MigrationProvider } from "kysely";
import pg from "pg";
import * as gradebook from "./migrations/0001-gradebook.ts";
import * as pages from "./migrations/0002-pages.ts";
import type { Database } from "./schema.ts";

export type Db = Kysely<Database>;

/** Migrations in order; Kysely's migrator records which ran in its own table. */
const migrations: MigrationProvider = {
  getMigrations: () => Promise.resolve({ "0001-gradebook": gradebook, "0002-pages": pages }),
};

// bigint identity columns are ids, well inside a JS number's range for the gradebook's lifetime; keep them strings.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => value);

export function createDb(databaseUrl: string, maxConnections = 10): Db {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: databaseUrl, max: maxConnections }) }) });
}

/** Brings the schema up to date; several processes starting at once take turns (Kysely locks). */
export async function migrate(db: Db): Promise<string[]> {
  const { error, results } = await new Migrator({ db, provider: migrations }).migrateToLatest();
  if (error) throw new Error("while migrating the gradebook", { cause: error });
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
