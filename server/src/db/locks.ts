import { sql, type Transaction } from "kysely";
import type { Database } from "./schema.ts";

/**
 * Advisory lock spaces, one per kind of count that several server and worker processes must
 * check and change as one step ("is there a place left? then take it").
 */
const SPACES = { "rate-limit": 1301, "stream-leases": 1302, "running-attempts": 1303 } as const;

/**
 * Takes a transaction-scoped advisory lock on one key of a space, held until the transaction ends.
 * Text keys are hashed: two keys sharing a hash only wait on each other, they never share a count.
 */
export async function lockKey(
  tx: Transaction<Database>,
  space: keyof typeof SPACES,
  key: string | number,
): Promise<void> {
  const objectId = typeof key === "number" ? sql`${key}::int` : sql`hashtext(${key})`;
  await sql`select pg_advisory_xact_lock(${SPACES[space]}::int, ${objectId})`.execute(tx);
}
