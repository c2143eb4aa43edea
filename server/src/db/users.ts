import { randomBytes } from "node:crypto";
import { sha256 } from "./blobs.ts";
import type { Db } from "./connect.ts";
import type { Role, User } from "./schema.ts";

/** A new bearer token: shown once to whoever asked, only its hash is kept. */
export function newToken(): string {
  return `lg_${randomBytes(24).toString("base64url")}`;
}

export async function addUser(db: Db, name: string, role: Role): Promise<User> {
  const existing = await db.selectFrom("users").selectAll().where("name", "=", name).executeTakeFirst();
  if (existing) {
    if (existing.role !== role) throw new Error(`user ${name} already exists as ${existing.role}`);
    return existing;
  }
  return db.insertInto("users").values({ name, role }).returningAll().executeTakeFirstOrThrow();
}

export async function issueToken(db: Db, userId: number, label: string): Promise<string> {
  const token = newToken();
  await db
    .insertInto("api_tokens")
    .values({ user_id: userId, token_hash: sha256(token), label })
    .execute();
  return token;
}

/** Every account, oldest first. */
export async function listUsers(db: Db): Promise<User[]> {
  return db.selectFrom("users").select(["id", "name", "role", "created_at"]).orderBy("id").execute();
}

export async function getUser(db: Db, id: number): Promise<User | undefined> {
  return db.selectFrom("users").select(["id", "name", "role", "created_at"]).where("id", "=", id).executeTakeFirst();
}

export async function userForToken(db: Db, token: string): Promise<User | undefined> {
  const row = await db
    .updateTable("api_tokens")
    .set({ last_used_at: new Date() })
    .where("token_hash", "=", sha256(token))
    .returning("user_id")
    .executeTakeFirst();
  if (!row) return undefined;
  return db.selectFrom("users").selectAll().where("id", "=", row.user_id).executeTakeFirst();
}

export async function countUsers(db: Db, role?: Role): Promise<number> {
  let query = db.selectFrom("users").select((eb) => eb.fn.countAll<string>().as("n"));
  if (role) query = query.where("role", "=", role);
  const { n } = await query.executeTakeFirstOrThrow();
  return Number(n);
}
