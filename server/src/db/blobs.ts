import { createHash } from "node:crypto";
import type { Db } from "./connect.ts";

export const sha256 = (content: Buffer | string) => createHash("sha256").update(content).digest("hex");

/** Stores bytes once under their sha256 and returns it. */
export async function putBlob(db: Db, content: Buffer): Promise<string> {
  const hash = sha256(content);
  await db.insertInto("blobs").values({ sha256: hash, size: content.length, content }).onConflict((c) => c.column("sha256").doNothing()).execute();
  return hash;
}

export async function getBlob(db: Db, hash: string): Promise<Buffer | undefined> {
  const row = await db.selectFrom("blobs").select("content").where("sha256", "=", hash).executeTakeFirst();
  return row?.content;
}

/** Keeps evidence within a size: a JSON document over the cap is replaced by a note saying how big it was. */
export function capJson(value: unknown, maxBytes: number): Buffer {
  const text = JSON.stringify(value);
  if (Buffer.byteLength(text) <= maxBytes) return Buffer.from(text);
  return Buffer.from(JSON.stringify({ truncated: true, bytes: Buffer.byteLength(text), note: `evidence over ${maxBytes} bytes was not kept` }));
}

/** Keeps the end of a log within a size: the last lines matter most. */
export function capText(text: string, maxBytes: number): Buffer {
  const bytes = Buffer.from(text);
  if (bytes.length <= maxBytes) return bytes;
  return Buffer.concat([Buffer.from(`[… ${bytes.length - maxBytes} earlier bytes not kept]\n`), bytes.subarray(bytes.length - maxBytes)]);
}
