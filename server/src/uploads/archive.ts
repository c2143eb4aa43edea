import { chmod, lstat, mkdir, open, readdir, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import {
  ArchiveLimitsSchema,
  ArchiveRejected,
  DEFAULT_ARCHIVE_LIMITS,
  RatioGuard,
  formatBytes,
  type ArchiveLimits,
} from "./limits.ts";
import { tarGzEntries } from "./tar-reader.ts";
import { TreeWriter } from "./tree-writer.ts";
import { zipEntries } from "./zip-reader.ts";

export {
  ArchiveLimitsSchema,
  ArchiveRejected,
  DEFAULT_ARCHIVE_LIMITS,
  type ArchiveLimits,
  type RejectionCode,
} from "./limits.ts";

export type ArchiveFormat = "tar.gz" | "zip";

export interface ExtractedProject {
  /** The project root: destDir, or the single folder inside it that wraps the project. */
  dir: string;
  files: number;
  bytes: number;
  format: ArchiveFormat;
}

const NOT_AN_ARCHIVE =
  "The upload is not a .tar.gz or .zip archive; compress your project folder as one of those and upload it again.";

/** The format from the first bytes: learners' file names and browsers' content types both lie. */
async function sniffFormat(archivePath: string): Promise<ArchiveFormat> {
  const handle = await open(archivePath, "r");
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(512), 0, 512, 0);
    const head = buffer.subarray(0, bytesRead);
    if (bytesRead === 0)
      throw new ArchiveRejected(
        "not_an_archive",
        "The uploaded file is empty; upload a .tar.gz or .zip of your project folder.",
      );
    if (head[0] === 0x1f && head[1] === 0x8b) return "tar.gz";
    if (head.subarray(0, 4).equals(Buffer.from("PK\x03\x04", "latin1"))) return "zip";
    if (head.subarray(257, 262).toString("latin1") === "ustar") {
      throw new ArchiveRejected(
        "not_an_archive",
        "The upload is a tar archive that is not compressed; upload it gzip-compressed (.tar.gz) or as a .zip.",
      );
    }
    throw new ArchiveRejected("not_an_archive", NOT_AN_ARCHIVE);
  } finally {
    await handle.close();
  }
}

/** Our own directory, private until the project has been checked; it must start empty. */
async function prepareDestination(destDir: string): Promise<void> {
  try {
    await mkdir(dirname(destDir), { recursive: true, mode: 0o700 });
    await mkdir(destDir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST")
      throw new Error(`while creating ${destDir} to unpack an upload`, { cause: error });
    const info = await lstat(destDir);
    if (!info.isDirectory() || (await readdir(destDir)).length > 0) {
      throw new Error(`cannot unpack an upload into ${destDir}: it exists and is not an empty directory`, {
        cause: error,
      });
    }
  }
  await chmod(destDir, 0o700);
}

/** A single top folder wraps the project when go.mod is not at the root itself. */
async function projectRoot(root: string, topNames: Set<string>): Promise<string> {
  const exists = (path: string) =>
    lstat(path).then(
      () => true,
      () => false,
    );
  if (topNames.size !== 1 || (await exists(join(root, "go.mod")))) return root;
  const [top] = topNames;
  const wrapper = join(root, top as string);
  // The one top name may have been a dangling symlink that finish() dropped.
  const info = await lstat(wrapper).catch(() => undefined);
  return info?.isDirectory() ? wrapper : root;
}

// A failed system call is ours (disk full, permissions); any other error came from a parser
// choking on the bytes the learner sent.
function asRejection(error: unknown, format: ArchiveFormat): unknown {
  if (error instanceof ArchiveRejected) return error;
  if ((error as NodeJS.ErrnoException | undefined)?.syscall !== undefined)
    return new Error("while unpacking an uploaded archive", { cause: error });
  return new ArchiveRejected(
    "not_an_archive",
    `The .${format} archive could not be read; it may be damaged. Create it again and upload it.`,
    { cause: error },
  );
}

/**
 * Unpacks an uploaded .tar.gz or .zip into destDir (created 0700, removed again on any failure).
 * Sniffs the format from magic bytes (gzip 1f8b → tar.gz, PK\x03\x04 → zip), never from the file name.
 * Throws ArchiveRejected for anything the learner's archive got wrong; other errors are ours.
 */
export async function extractProject(
  archivePath: string,
  destDir: string,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): Promise<ExtractedProject> {
  const checked = ArchiveLimitsSchema.parse(limits);
  const { size } = await stat(archivePath);
  if (size > checked.maxArchiveBytes) {
    throw new ArchiveRejected(
      "too_large",
      `The archive is ${formatBytes(size)}; the limit is ${formatBytes(checked.maxArchiveBytes)}. Leave out bin/, .git/ and other generated files.`,
    );
  }
  const format = await sniffFormat(archivePath);
  await prepareDestination(destDir);
  try {
    const guard = new RatioGuard(checked, size);
    const writer = new TreeWriter(destDir, checked);
    const entries = format === "zip" ? zipEntries(archivePath, checked, guard) : tarGzEntries(archivePath, guard);
    for await (const entry of entries) await writer.add(entry);
    const summary = await writer.finish();
    return { dir: await projectRoot(destDir, summary.topNames), files: summary.files, bytes: summary.bytes, format };
  } catch (error) {
    await rm(destDir, { recursive: true, force: true });
    throw asRejection(error, format);
  }
}
