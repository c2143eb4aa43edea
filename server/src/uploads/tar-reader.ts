import { createReadStream } from "node:fs";
import { createGunzip } from "node:zlib";
import { Header, Pax, type HeaderData } from "tar";
import { ArchiveRejected, type RatioGuard } from "./limits.ts";
import type { ArchiveEntry, EntryKind } from "./tree-writer.ts";

const BLOCK = 512;
// Pax and GNU long-name records only carry names and attributes; real ones are tiny.
const MAX_META_BYTES = 64 * 1024;

const corrupt = (why: string) =>
  new ArchiveRejected(
    "not_an_archive",
    `The .tar.gz archive is damaged or incomplete (${why}); create it again and upload it.`,
  );

const notTar = () =>
  new ArchiveRejected(
    "not_an_archive",
    "The file is gzip-compressed but does not contain a tar archive; upload a .tar.gz or .zip of your project folder.",
  );

const KINDS: Partial<Record<string, EntryKind>> = {
  File: "file",
  OldFile: "file",
  ContiguousFile: "file",
  Directory: "directory",
  SymbolicLink: "symlink",
  Link: "hardlink",
};
const DESCRIPTIONS: Partial<Record<string, string>> = {
  CharacterDevice: "character device",
  BlockDevice: "block device",
  FIFO: "named pipe (FIFO)",
};
const META_TYPES = new Set([
  "ExtendedHeader",
  "OldExtendedHeader",
  "GlobalExtendedHeader",
  "NextFileHasLongPath",
  "OldGnuLongPath",
  "NextFileHasLongLinkpath",
]);

/** Pulls exact byte counts out of a chunked stream, so entries are read at the pace they are written. */
class ByteSource {
  readonly #chunks: AsyncIterator<Buffer>;
  #buffer: Buffer = Buffer.alloc(0);

  constructor(chunks: AsyncIterable<Buffer>) {
    this.#chunks = chunks[Symbol.asyncIterator]();
  }

  async #fill(): Promise<boolean> {
    const next = await this.#chunks.next();
    if (next.done) return false;
    this.#buffer = this.#buffer.length === 0 ? next.value : Buffer.concat([this.#buffer, next.value]);
    return true;
  }

  /** n bytes, or fewer only where the stream ends. */
  async read(n: number): Promise<Buffer> {
    while (this.#buffer.length < n && (await this.#fill()));
    const out = this.#buffer.subarray(0, n);
    this.#buffer = this.#buffer.subarray(out.length);
    return out;
  }

  /** Up to `max` bytes as they arrive; throws if the stream ends first. */
  async take(max: number): Promise<Buffer> {
    if (this.#buffer.length === 0 && !(await this.#fill())) throw corrupt("it ends in the middle of a file");
    const out = this.#buffer.subarray(0, max);
    this.#buffer = this.#buffer.subarray(out.length);
    return out;
  }

  async close(): Promise<void> {
    await this.#chunks.return?.();
  }
}

/** Inflates the archive, counting every inflated byte against the ratio before tar sees it. */
async function* inflate(archivePath: string, guard: RatioGuard): AsyncGenerator<Buffer> {
  const file = createReadStream(archivePath);
  const gunzip = createGunzip();
  file.on("error", (error) => gunzip.destroy(error));
  file.pipe(gunzip);
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      guard.add(chunk.length);
      yield chunk;
    }
  } catch (error) {
    if (error instanceof ArchiveRejected || (error as NodeJS.ErrnoException).syscall !== undefined) throw error;
    throw new ArchiveRejected(
      "not_an_archive",
      "The .tar.gz archive is damaged or incomplete (its gzip data does not decompress); create it again and upload it.",
      { cause: error },
    );
  } finally {
    file.destroy();
    gunzip.destroy();
  }
}

const padding = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;

/** Entries of a gzipped tar; each body must be read (or abandoned) before asking for the next. */
export async function* tarGzEntries(archivePath: string, guard: RatioGuard): AsyncGenerator<ArchiveEntry> {
  const source = new ByteSource(inflate(archivePath, guard));
  let ex: HeaderData | undefined;
  let gex: HeaderData | undefined;
  let first = true;
  try {
    for (;;) {
      const block = await source.read(BLOCK);
      // Some writers omit the two zero blocks that end an archive; whatever follows them is ignored.
      if (block.length === 0 || (block.length === BLOCK && block.every((b) => b === 0))) return;
      if (block.length < BLOCK) throw first ? notTar() : corrupt("it ends in the middle of a header");
      const header = new Header(block, 0, ex, gex);
      if (!header.cksumValid) throw first ? notTar() : corrupt("a header's checksum is wrong");
      first = false;
      const size = header.size ?? Number.NaN;
      if (!Number.isSafeInteger(size) || size < 0) throw corrupt("a header has an invalid size");
      const type = header.type;

      if (META_TYPES.has(type)) {
        if (size > MAX_META_BYTES) throw corrupt("an extended header is implausibly large");
        const meta = await source.read(size + padding(size));
        if (meta.length < size + padding(size)) throw corrupt("it ends in the middle of a header");
        const text = meta.subarray(0, size).toString("utf8");
        if (type === "GlobalExtendedHeader") gex = Pax.parse(text, gex, true);
        else if (type === "ExtendedHeader" || type === "OldExtendedHeader") ex = Pax.parse(text, ex, false);
        else if (type === "NextFileHasLongLinkpath") ex = { ...ex, linkpath: text.replace(/\0[\s\S]*$/, "") };
        else ex = { ...ex, path: text.replace(/\0[\s\S]*$/, "") };
        continue;
      }

      const linkTarget = ex?.linkpath ?? header.linkpath;
      ex = undefined;
      let left = size;
      const body = {
        async *[Symbol.asyncIterator]() {
          while (left > 0) {
            const chunk = await source.take(left);
            left -= chunk.length;
            yield chunk;
          }
        },
      };
      yield {
        name: header.path ?? "",
        kind: KINDS[type] ?? "unsupported",
        description: DESCRIPTIONS[type] ?? `tar entry of type ${JSON.stringify(type)}`,
        mode: header.mode ?? 0o644,
        size,
        ...(linkTarget ? { linkTarget } : {}),
        body,
      };
      // Whatever the consumer did not read (folders, skipped junk) is passed over here.
      let skip = left + padding(size);
      while (skip > 0) skip -= (await source.take(skip)).length;
    }
  } finally {
    await source.close();
  }
}
