import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { createGzip, gzipSync } from "node:zlib";
import { tempDir } from "./env.ts";

/** One raw tar entry: written header by header, because tar tools refuse to make the hostile ones. */
export interface RawEntry {
  name: string;
  type?: "file" | "dir" | "symlink" | "hardlink" | "chardev";
  linkname?: string;
  content?: string;
}

const typeFlag = { file: "0", hardlink: "1", symlink: "2", chardev: "3", dir: "5" } as const;

function header(entry: RawEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  const put = (text: string, offset: number, length: number) => h.write(text.slice(0, length), offset, length, "utf8");
  const octal = (n: number, length: number) => `${n.toString(8).padStart(length - 1, "0")}\0`;
  put(entry.name, 0, 100);
  h.write(octal(entry.type === "dir" ? 0o755 : 0o644, 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  h.write(octal(size, 12), 124);
  h.write(octal(Math.floor(Date.now() / 1000), 12), 136);
  h.write("        ", 148);
  h.write(typeFlag[entry.type ?? "file"], 156);
  put(entry.linkname ?? "", 157, 100);
  h.write("ustar\u000000", 257);
  const sum = h.reduce((a, b) => a + b, 0);
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  return h;
}

/** A .tar.gz with exactly these entries. */
export function rawTarGz(entries: RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.type === undefined || e.type === "file" ? (e.content ?? "") : "");
    blocks.push(header(e, body.length), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

/** A gzip bomb: a tar of one file of `bytes` zeros, compressed while streaming (never held in memory). */
export async function gzipBomb(bytes: number): Promise<string> {
  const file = join(tempDir("bomb"), "bomb.tar.gz");
  const zeros = Buffer.alloc(1 << 20);
  async function* tar() {
    yield header({ name: "go.mod" }, bytes);
    for (let left = bytes; left > 0; left -= zeros.length) yield left >= zeros.length ? zeros : zeros.subarray(0, left);
    yield Buffer.alloc(1024);
  }
  await pipeline(Readable.from(tar()), createGzip({ level: 9 }), createWriteStream(file));
  return file;
}

export async function writeTemp(name: string, content: Buffer): Promise<string> {
  const file = join(tempDir("hostile"), name);
  await writeFile(file, content);
  return file;
}

export const randomName = () => `labgrader-escape-${randomBytes(4).toString("hex")}`;
