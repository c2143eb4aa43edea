import type { Readable } from "node:stream";
import yauzl, { type Entry, type ZipFile } from "yauzl";
import { ArchiveRejected, showName, type ArchiveLimits, type RatioGuard } from "./limits.ts";
import type { ArchiveEntry, EntryKind } from "./tree-writer.ts";

// A symlink's content is its target path; anything longer than PATH_MAX is not one.
const MAX_LINK_TARGET_BYTES = 4096;

// yauzl checks names itself and reports the unsafe ones with these words.
const UNSAFE_NAME = /^(absolute path|invalid relative path|invalid characters in fileName): /;

const damaged = (cause: unknown) =>
  new ArchiveRejected("not_an_archive", "The .zip archive is damaged or incomplete; create it again and upload it.", {
    cause,
  });

function asRejection(error: unknown): unknown {
  if (error instanceof ArchiveRejected || (error as NodeJS.ErrnoException).syscall !== undefined) return error;
  const message = error instanceof Error ? error.message : String(error);
  const unsafe = UNSAFE_NAME.exec(message);
  if (unsafe) {
    return new ArchiveRejected(
      "unsafe_path",
      `The archive entry ${showName(message.slice(unsafe[0].length))} is not a safe relative path; it was refused.`,
      { cause: error },
    );
  }
  return damaged(error);
}

const openZip = (path: string) =>
  new Promise<ZipFile>((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, validateEntrySizes: true, autoClose: false }, (error, zip) =>
      error ? reject(error) : resolve(zip),
    );
  });

const openStream = (zip: ZipFile, entry: Entry) =>
  new Promise<Readable>((resolve, reject) => {
    zip.openReadStream(entry, (error, stream) => (error ? reject(error) : resolve(stream)));
  });

/** One lazy entry at a time; the ZipFile's errors always land on the pending read, never unhandled. */
function entryReader(zip: ZipFile): () => Promise<Entry | undefined> {
  let pending: { resolve: (entry: Entry | undefined) => void; reject: (error: unknown) => void } | undefined;
  let failure: unknown;
  zip.on("entry", (entry: Entry) => pending?.resolve(entry));
  zip.on("end", () => pending?.resolve(undefined));
  zip.on("error", (error: unknown) => {
    failure ??= error;
    pending?.reject(error);
  });
  return () =>
    new Promise<Entry | undefined>((resolve, reject) => {
      if (failure !== undefined) return reject(failure);
      pending = { resolve, reject };
      zip.readEntry();
    });
}

const S_IFMT = 0o170000;
const TYPES: Partial<Record<number, { kind: EntryKind; description?: string }>> = {
  0o100000: { kind: "file" },
  0o040000: { kind: "directory" },
  0o120000: { kind: "symlink" },
  0o010000: { kind: "unsupported", description: "named pipe (FIFO)" },
  0o020000: { kind: "unsupported", description: "character device" },
  0o060000: { kind: "unsupported", description: "block device" },
  0o140000: { kind: "unsupported", description: "socket" },
};
// Hosts whose zip tools store a Unix mode in the upper half of the external attributes.
const UNIX_HOSTS = new Set([3, 19]);

function classify(entry: Entry): { kind: EntryKind; description?: string; mode: number } {
  const unixMode = UNIX_HOSTS.has(entry.versionMadeBy >> 8) ? entry.externalFileAttributes >>> 16 : 0;
  const byName: EntryKind = entry.fileName.endsWith("/") ? "directory" : "file";
  const type =
    (unixMode & S_IFMT) === 0
      ? { kind: byName }
      : (TYPES[unixMode & S_IFMT] ?? { kind: "unsupported" as const, description: "special file" });
  if (type.kind === "file" && entry.isEncrypted())
    return { kind: "unsupported", description: "password-protected file", mode: 0 };
  if (type.kind !== "directory" && !entry.canDecodeFileData()) {
    return { kind: "unsupported", description: "file compressed with a method other than deflate", mode: 0 };
  }
  return { ...type, mode: unixMode & 0o7777 };
}

async function* inflated(zip: ZipFile, entry: Entry, guard: RatioGuard): AsyncGenerator<Buffer> {
  const stream = await openStream(zip, entry).catch((error: unknown) => Promise.reject(asRejection(error)));
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      guard.add(chunk.length);
      yield chunk;
    }
  } catch (error) {
    throw asRejection(error);
  } finally {
    stream.destroy();
  }
}

async function readLinkTarget(zip: ZipFile, entry: Entry, guard: RatioGuard): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of inflated(zip, entry, guard)) {
    length += chunk.length;
    if (length > MAX_LINK_TARGET_BYTES)
      throw new ArchiveRejected(
        "unsafe_link",
        `The archive entry ${showName(entry.fileName)} is a symlink with an implausibly long target; it was refused.`,
      );
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Entries of a zip archive; a body is inflated only if the consumer reads it. */
export async function* zipEntries(
  archivePath: string,
  limits: ArchiveLimits,
  guard: RatioGuard,
): AsyncGenerator<ArchiveEntry> {
  const zip = await openZip(archivePath).catch((error: unknown) => Promise.reject(asRejection(error)));
  try {
    // The central directory says how many entries follow: a flood is refused before reading one.
    if (zip.entryCount > limits.maxEntries * 10) {
      throw new ArchiveRejected(
        "too_many_entries",
        `The archive has more than ${limits.maxEntries} entries; upload only the project's sources.`,
      );
    }
    const next = entryReader(zip);
    for (;;) {
      const entry = await next().catch((error: unknown) => Promise.reject(asRejection(error)));
      if (entry === undefined) return;
      const { kind, description, mode } = classify(entry);
      const base = {
        name: entry.fileName,
        kind,
        mode,
        size: entry.uncompressedSize,
        ...(description ? { description } : {}),
      };
      if (kind === "symlink") {
        yield { ...base, linkTarget: await readLinkTarget(zip, entry, guard) };
      } else {
        yield { ...base, body: inflated(zip, entry, guard) };
      }
    }
  } finally {
    zip.close();
  }
}
