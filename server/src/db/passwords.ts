import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";
import type { Db } from "./connect.ts";
import type { User } from "./schema.ts";

/** Columns migration 0002 adds; the API's own queries never need them. */
type PagesTables = {
  users: { password_hash: string | null };
  service_secrets: { name: string; value: string };
};
const withPages = (db: Db) => db.withTables<PagesTables>();

// scrypt's cost: N=2^15 takes ~50 ms and 32 MiB per sign-in here, above OWASP's minimum.
const COST = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEY_BYTES = 32;

const derive = (password: string, salt: Buffer, cost: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) =>
    scrypt(password.normalize("NFKC"), salt, KEY_BYTES, cost, (error, key) => (error ? reject(error) : resolve(key))),
  );

/** `scrypt$N$r$p$salt$key`, base64url: the cost travels with the hash so it can be raised later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, COST);
  return ["scrypt", COST.N, COST.r, COST.p, salt.toString("base64url"), key.toString("base64url")].join("$");
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !key) return false;
  const expected = Buffer.from(key, "base64url");
  const actual = await derive(password, Buffer.from(salt, "base64url"), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: COST.maxmem,
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A hash no password matches, verified when the account is unknown so both answers take as long. */
let decoy: Promise<string> | undefined;

export async function setPassword(db: Db, name: string, password: string): Promise<boolean> {
  const updated = await withPages(db)
    .updateTable("users")
    .set({ password_hash: await hashPassword(password) })
    .where("name", "=", name)
    .executeTakeFirst();
  return updated.numUpdatedRows > 0n;
}

/** The account if the password is its own; CI accounts sign in only with tokens. */
export async function userForPassword(db: Db, name: string, password: string): Promise<User | undefined> {
  const row = await withPages(db)
    .selectFrom("users")
    .select(["id", "name", "role", "created_at", "password_hash"])
    .where("name", "=", name)
    .executeTakeFirst();
  if (!row?.password_hash || row.role === "ci") {
    decoy ??= hashPassword(randomBytes(16).toString("hex"));
    await verifyPassword(password, await decoy);
    return undefined;
  }
  if (!(await verifyPassword(password, row.password_hash))) return undefined;
  return { id: row.id, name: row.name, role: row.role, created_at: row.created_at };
}

/**
 * A secret generated once and shared through the gradebook by every server process (the session
 * secret when none is configured): restarts keep everyone signed in, and two servers agree.
 */
export async function persistedSecret(db: Db, name: string): Promise<string> {
  const candidate = randomBytes(32).toString("base64url");
  const pages = withPages(db);
  await pages
    .insertInto("service_secrets")
    .values({ name, value: candidate })
    .onConflict((c) => c.column("name").doNothing())
    .execute();
  const row = await pages
    .selectFrom("service_secrets")
    .select("value")
    .where("name", "=", name)
    .executeTakeFirstOrThrow();
  return row.value;
}
