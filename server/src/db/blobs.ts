import { createHash } from "node:crypto";
import { sql, type Transaction } from "kysely";
import type { Db } from "./connect.ts";
import type { Database } from "./schema.ts";

export const sha256 = (content: Buffer | string) => createHash("sha256").update(content).digest("hex");

/**
 * Stores bytes once under their sha256 and returns it. Bytes stored again are marked as stored
 * now: the retention sweep may be about to delete them as unreferenced, and the row's new time
 * (or its re-insertion, if the delete came first) keeps them for the reference about to be made.
 */
export async function putBlob(db: Db, content: Buffer): Promise<string> {
  const hash = sha256(content);
  await db
    .insertInto("blobs")
    .values({ sha256: hash, size: content.length, content })
    .onConflict((c) => c.column("sha256").doUpdateSet({ stored_at: sql<Date>`now()` }))
    .execute();
  return hash;
}

/**
 * Deletes those of the given blobs that nothing refers to any more (no submission's archive, no
 * attempt's log, no check's evidence) and that were last stored before `storedBefore`.
 */
export async function deleteUnreferencedBlobs(
  tx: Transaction<Database>,
  hashes: string[],
  storedBefore: Date,
): Promise<number> {
  if (hashes.length === 0) return 0;
  const deleted = await tx
    .deleteFrom("blobs as b")
    .where("b.sha256", "in", hashes)
    .where("b.stored_at", "<", storedBefore)
    .where(({ exists, not, selectFrom }) =>
      not(exists(selectFrom("submissions").select("id").whereRef("archive_sha256", "=", "b.sha256"))),
    )
    .where(({ exists, not, selectFrom }) =>
      not(exists(selectFrom("attempts").select("id").whereRef("log_sha256", "=", "b.sha256"))),
    )
    .where(({ exists, not, selectFrom }) =>
      not(exists(selectFrom("check_results").select("attempt_id").whereRef("evidence_sha256", "=", "b.sha256"))),
    )
    .executeTakeFirst();
  return Number(deleted.numDeletedRows);
}

export async function getBlob(db: Db, hash: string): Promise<Buffer | undefined> {
  const row = await db.selectFrom("blobs").select("content").where("sha256", "=", hash).executeTakeFirst();
  return row?.content;
}

/** Keeps evidence within a size: a JSON document over the cap is replaced by a note saying how big it was. */
export function capJson(value: unknown, maxBytes: number): Buffer {
  const text = JSON.stringify(value);
  if (Buffer.byteLength(text) <= maxBytes) return Buffer.from(text);
  return Buffer.from(
    JSON.stringify({
      truncated: true,
      bytes: Buffer.byteLength(text),
      note: `evidence over ${maxBytes} bytes was not kept`,
    }),
  );
}

/** Keeps the end of a log within a size: the last lines matter most. */
export function capText(text: string, maxBytes: number): Buffer {
  const bytes = Buffer.from(text);
  if (bytes.length <= maxBytes) return bytes;
  return Buffer.concat([
    Buffer.from(`[… ${bytes.length - maxBytes} earlier bytes not kept]\n`),
    bytes.subarray(bytes.length - maxBytes),
  ]);
}
