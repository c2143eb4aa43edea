import { Kysely, Migrator, PostgresDialect, sql, type MigrationProvider } from "kysely";
import pg from "pg";
import * as gradebook from "./migrations/0001-gradebook.ts";
import * as pages from "./migrations/0002-pages.ts";
import * as fairUse from "./migrations/0003-fair-use.ts";
import * as courses from "./migrations/0004-courses.ts";
import type { Database } from "./schema.ts";

export type Db = Kysely<Database>;

/** Migrations in order; Kysely's migrator records which ran in its own table. */
const migrations: MigrationProvider = {
  getMigrations: () =>
    Promise.resolve({
      "0001-gradebook": gradebook,
      "0002-pages": pages,
      "0003-fair-use": fairUse,
      "0004-courses": courses,
    }),
};

// bigint identity columns are ids, well inside a JS number's range for the gradebook's lifetime; keep them strings.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => value);

export interface PoolOptions {
  /** Where a connection Postgres dropped while it sat idle in the pool is reported, in one line. */
  log: (line: string) => void;
  /** Connections at most: this process's share of Postgres's max_connections. */
  maxConnections?: number;
}

/**
 * A pg pool that outlives a Postgres restart. pg emits 'error' on the pool when Postgres ends an
 * idle connection (a restart, an administrator, a failover); unhandled, that event ends the
 * process. Here it is one log line, and the pool opens a new connection when one is next needed.
 * A connection that breaks while checked out fails the query that uses it, like any query error.
 */
export function createPool(databaseUrl: string, options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: options.maxConnections ?? 10 });
  pool.on("error", (error) =>
    options.log(`postgres: an idle connection was dropped (${error.message}); a new one is opened when needed`),
  );
  // Checked out (a Kysely transaction between two queries), a client has no pool listener; its next query reports the failure.
  pool.on("connect", (client) => client.on("error", () => undefined));
  return pool;
}

export function createDb(databaseUrl: string, options: PoolOptions): Db {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: createPool(databaseUrl, options) }) });
}

/**
 * Codes that mean "Postgres is not there right now", not "this query is wrong": SQLSTATE class 08
 * (connection exception) and 57P01-03 (shutting down, crashed, starting up), and a refused connect.
 */
const UNAVAILABLE_CODES = /^(08...|57P0[123]|ECONNREFUSED)$/;

/**
 * Whether an error means the gradebook cannot be reached (Postgres stopped, restarting or
 * unreachable) rather than a fault of the request or of our code: callers answer 503 and try again.
 */
/** A round trip to Postgres, for readiness: throws if the gradebook cannot answer. */
export async function pingDb(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}

export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && UNAVAILABLE_CODES.test(code)) return true;
    if (/^Connection terminated|not queryable/.test(e.message)) return true;
  }
  return false;
}

/** Brings the schema up to date; several processes starting at once take turns (Kysely locks). */
export async function migrate(db: Db): Promise<string[]> {
  const { error, results } = await new Migrator({ db, provider: migrations }).migrateToLatest();
  if (error) throw new Error("while migrating the gradebook", { cause: error });
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
