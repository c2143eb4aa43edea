import { z } from "zod";

const MiB = 1024 * 1024;

/** What an uploaded archive may cost us to unpack; every limit is checked on bytes as they stream. */
export const ArchiveLimitsSchema = z.object({
  /** Compressed upload size; the HTTP layer enforces it too, this covers direct callers. */
  maxArchiveBytes: z.number().int().positive(),
  /** Sum of the unpacked sizes of the files we keep. */
  maxTotalBytes: z.number().int().positive(),
  /** Entries we keep (files, directories, links). */
  maxEntries: z.number().int().positive(),
  /** Any single file. */
  maxFileBytes: z.number().int().positive(),
  /** Unpacked bytes / archive bytes: a compression bomb trips this long before the total. */
  maxRatio: z.number().positive(),
  /** Path components in any entry name. */
  maxDepth: z.number().int().positive(),
});
export type ArchiveLimits = z.infer<typeof ArchiveLimitsSchema>;

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxArchiveBytes: 20 * MiB,
  maxTotalBytes: 100 * MiB,
  maxEntries: 5000,
  maxFileBytes: 20 * MiB,
  maxRatio: 100,
  maxDepth: 32,
};

/**
 * Tar pads even a two-file project to 10 KiB, which a few hundred gzip bytes describe: below
 * this many archive bytes the ratio is taken against this floor, so tiny uploads are not bombs.
 */
export const RATIO_FLOOR_BYTES = 64 * 1024;

export type RejectionCode =
  | "not_an_archive"
  | "too_large"
  | "too_many_entries"
  | "ratio_exceeded"
  | "unsafe_path"
  | "unsafe_link"
  | "unsupported_entry"
  | "not_a_project"
  | "go_workspace"
  | "local_replace"
  | "go_version";

const STATUS = {
  not_an_archive: 400,
  unsafe_path: 400,
  unsafe_link: 400,
  unsupported_entry: 400,
  too_large: 413,
  too_many_entries: 413,
  ratio_exceeded: 413,
  not_a_project: 422,
  go_workspace: 422,
  local_replace: 422,
  go_version: 422,
} as const satisfies Record<RejectionCode, 400 | 413 | 422>;

/** The learner's upload is refused; the message is shown to them as is. */
export class ArchiveRejected extends Error {
  readonly code: RejectionCode;
  readonly status: 400 | 413 | 422;
  constructor(code: RejectionCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ArchiveRejected";
    this.code = code;
    this.status = STATUS[code];
  }
}

export const formatBytes = (n: number): string =>
  n >= MiB ? `${+(n / MiB).toFixed(1)} MiB` : n >= 1024 ? `${+(n / 1024).toFixed(1)} KiB` : `${n} bytes`;

/** Counts inflated bytes against maxRatio times the archive's size, so a bomb stops early. */
export class RatioGuard {
  readonly #budget: number;
  readonly #ratio: number;
  #inflated = 0;
  constructor(limits: ArchiveLimits, archiveBytes: number) {
    this.#ratio = limits.maxRatio;
    this.#budget = limits.maxRatio * Math.max(archiveBytes, RATIO_FLOOR_BYTES);
  }
  add(bytes: number): void {
    this.#inflated += bytes;
    if (this.#inflated > this.#budget) {
      throw new ArchiveRejected(
        "ratio_exceeded",
        `The archive unpacks to more than ${this.#ratio} times its own size (over ${formatBytes(this.#budget)}), which looks like a compression bomb. Remove large generated or repetitive files and upload again.`,
      );
    }
  }
}

/** A name from the archive, quoted and shortened, safe to put in a message. */
export const showName = (name: string): string => JSON.stringify(name.length > 120 ? `${name.slice(0, 120)}…` : name);
