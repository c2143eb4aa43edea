// Test-only: builds the honest and hostile archives the upload tests feed to the unpacker.
// Hostile tar entries are written header by header, since node-tar's packer will not produce them.
import { mkdir, readdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { Header, type HeaderData } from "tar";
import yazl from "yazl";

export interface TarItem {
  path: string;
  type?: HeaderData["type"];
  body?: string | Buffer;
  linkpath?: string;
  mode?: number;
}

export interface ZipItem {
  path: string;
  body?: string | Buffer;
  /** Full st_mode, file type bits included (0o100644, 0o120777 for a symlink...). */
  mode?: number;
  directory?: boolean;
}

const BLOCK = 512;

export function tarHeader(item: TarItem, size: number): Buffer {
  const type = item.type ?? "File";
  const header = new Header({
    path: item.path,
    type,
    mode: item.mode ?? (type === "Directory" ? 0o755 : 0o644),
    size,
    mtime: new Date(0),
    uid: 0,
    gid: 0,
    ...(item.linkpath === undefined ? {} : { linkpath: item.linkpath }),
    ...(type === "CharacterDevice" ? { devmaj: 1, devmin: 3 } : {}),
  });
  header.encode();
  if (!header.block) throw new Error(`could not encode a tar header for ${item.path}`);
  return header.block;
}

export function tarBuffer(items: TarItem[]): Buffer {
  const blocks: Buffer[] = [];
  for (const item of items) {
    const body = Buffer.from(item.body ?? "");
    blocks.push(tarHeader(item, body.length), body, Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK));
  }
  blocks.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(blocks);
}

export const writeTarGz = (path: string, items: TarItem[]) => writeFile(path, gzipSync(tarBuffer(items)));

/**
 * yazl refuses unsafe names, so unsafe ones are written as same-length placeholders and the
 * bytes patched afterwards (names are not covered by the CRC).
 */
export async function writeZip(
  path: string,
  items: ZipItem[],
  renames: [placeholder: string, actual: string][] = [],
): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const item of items) {
    const mtime = new Date(0);
    if (item.directory) zip.addEmptyDirectory(item.path, { mtime });
    else zip.addBuffer(Buffer.from(item.body ?? ""), item.path, { mtime, mode: item.mode ?? 0o100644 });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream as AsyncIterable<Buffer>) chunks.push(chunk);
  const bytes = Buffer.concat(chunks);
  for (const [placeholder, actual] of renames) {
    const from = Buffer.from(placeholder);
    const to = Buffer.from(actual);
    if (from.length !== to.length) throw new Error(`placeholder ${placeholder} and ${actual} differ in length`);
    for (let at = bytes.indexOf(from); at !== -1; at = bytes.indexOf(from, at + 1)) to.copy(bytes, at);
  }
  await writeFile(path, bytes);
}

/** The Go the upload tests pretend builds submissions; the reference operator asks for go 1.26.0. */
export const TEST_GO_POLICY = { goVersion: "go1.26.8" };

/** Path → content; a value of { link } makes a symlink instead. */
export type ProjectFiles = Record<string, string | { link: string }>;

/** Writes an unpacked project straight to disk, for the checks that run after unpacking. */
export async function writeProject(dir: string, files: ProjectFiles): Promise<string> {
  await mkdir(dir);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    if (typeof content === "string") await writeFile(join(dir, path), content);
    else await symlink(content.link, join(dir, path));
  }
  return dir;
}

export interface SourceFile {
  path: string;
  body: Buffer;
  mode: number;
}

/** Every file of a directory tree, with paths relative to it. */
export async function readTree(root: string): Promise<SourceFile[]> {
  const files: SourceFile[] = [];
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.push({ path: relative(root, path), body: await readFile(path), mode: (await stat(path)).mode });
  }
  return files;
}

export const asTarItems = (files: SourceFile[], prefix = ""): TarItem[] =>
  files.map((f) => ({ path: prefix + f.path, body: f.body, mode: f.mode & 0o777 }));

export const asZipItems = (files: SourceFile[], prefix = ""): ZipItem[] =>
  files.map((f) => ({ path: prefix + f.path, body: f.body, mode: 0o100000 | (f.mode & 0o777) }));

/**
 * A .tar.gz whose files hold `fileCount * fileBytes` zeros in about a thousandth of that: each
 * file body is a run of identical gzip members (gunzip joins them), so nothing big is ever in memory.
 */
export async function writeGzipBomb(path: string, fileCount: number, fileBytes: number): Promise<void> {
  const MiB = 1024 * 1024;
  if (fileBytes % MiB !== 0) throw new Error("fileBytes must be whole MiB");
  const zeroMiB = gzipSync(Buffer.alloc(MiB), { level: 9 });
  const parts: Buffer[] = [];
  for (let i = 0; i < fileCount; i++) {
    parts.push(gzipSync(tarHeader({ path: `project/testdata/zeros-${i}.bin` }, fileBytes)));
    for (let m = 0; m < fileBytes / MiB; m++) parts.push(zeroMiB);
  }
  parts.push(gzipSync(Buffer.alloc(2 * BLOCK)));
  await writeFile(path, Buffer.concat(parts));
}

/** Samples how many bytes sit under dir while an extraction runs, to catch one that overshoots. */
export function sampleBytesUnder(dir: string): { stop: () => { max: number; samples: number } } {
  let max = 0;
  let samples = 0;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      let total = 0;
      const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name)).catch(() => ({ size: 0 }))).size;
      }
      max = Math.max(max, total);
      samples++;
      busy = false;
    })();
  }, 2);
  return { stop: () => (clearInterval(timer), { max, samples }) };
}
