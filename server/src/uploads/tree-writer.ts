import { constants } from "node:fs";
import { chmod, copyFile, mkdir, open, realpath, symlink, unlink } from "node:fs/promises";
import { posix, join, sep } from "node:path";
import { ArchiveRejected, formatBytes, showName, type ArchiveLimits } from "./limits.ts";

export type EntryKind = "file" | "directory" | "symlink" | "hardlink" | "unsupported";

/** One entry as an archive reader saw it; nothing in it is trusted yet. */
export interface ArchiveEntry {
  name: string;
  kind: EntryKind;
  /** Unix permission bits as stored; only the executable bit survives. */
  mode: number;
  /** Declared size: refused early when already too big, then enforced on the bytes that arrive. */
  size: number;
  /** Symlink or hard-link target, as stored. */
  linkTarget?: string;
  /** For "unsupported": what the entry is, for the learner. */
  description?: string;
  body?: AsyncIterable<Buffer>;
}

export interface TreeSummary {
  files: number;
  bytes: number;
  /** First path components of everything kept, to spot a single folder wrapping the project. */
  topNames: Set<string>;
}

// Version control metadata, whatever the tool: with -buildvcs the go command runs that tool in
// the project, and a Mercurial or Git config can run commands of its own (hooks, fsmonitor…).
// Fossil's are files, the others folders; any entry with such a component is dropped.
const VCS_NAMES = new Set([".git", ".hg", ".svn", ".bzr", "_fossil_", ".fslckout"]);

// Editors, macOS and version control leave these behind; none of it is needed to grade.
const isJunk = (parts: string[]): boolean => {
  const last = parts.at(-1) ?? "";
  return (
    parts[0] === "__MACOSX" ||
    parts.some((part) => VCS_NAMES.has(part.toLowerCase())) ||
    last === ".DS_Store" ||
    last.startsWith("._") ||
    // kubebuilder's Makefile installs tools (tens of MiB, with absolute symlinks) into bin/,
    // at the root or inside the one folder that wraps the project.
    parts[0] === "bin" ||
    parts[1] === "bin"
  );
};

// The go command looks for go.work in every folder above the module and builds whatever its `use`
// lines name: a workspace anywhere could bring in code from outside the project.
const WORKSPACE_FILES = new Set(["go.work", "go.work.sum"]);

function refuseWorkspace(name: string, parts: string[]): void {
  if (!parts.some((part) => WORKSPACE_FILES.has(part.toLowerCase()))) return;
  throw new ArchiveRejected(
    "go_workspace",
    `The archive contains ${showName(name)}. Go workspaces are not graded: the project must build on its own, from its go.mod alone. Remove go.work and go.work.sum and upload again.`,
  );
}

/** Splits a stored name into components, refusing anything that could leave the tree. */
export function safeParts(name: string, maxDepth: number): string[] {
  const reject = (why: string) =>
    new ArchiveRejected("unsafe_path", `The archive entry ${showName(name)} ${why}; it was refused.`);
  if (name.includes("\0")) throw reject("contains a NUL character");
  if (name.includes("\\")) throw reject("contains a backslash");
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name)) throw reject("is an absolute path");
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw reject("climbs out of the project with '..'");
  if (parts.length > maxDepth) throw reject(`is nested deeper than ${maxDepth} folders`);
  return parts;
}

// Errors the learner's archive causes (two entries with one name, a file where a folder is
// needed); anything else from the file system is ours and propagates as a platform fault.
const CONFLICT_CODES = new Set(["EEXIST", "ENOTDIR", "EISDIR", "ENAMETOOLONG", "ELOOP"]);

/**
 * Writes entries under root and nowhere else. Files are created exclusively and never through a
 * symlink: symlinks are recorded and made only in finish(), after every file is written.
 */
export class TreeWriter {
  readonly #root: string;
  readonly #limits: ArchiveLimits;
  readonly #dirs = new Set<string>([""]);
  readonly #files = new Map<string, { size: number; mode: number }>();
  readonly #links: { rel: string; target: string }[] = [];
  readonly #kept = new Set<string>();
  readonly #topNames = new Set<string>();
  #seen = 0;
  #bytes = 0;

  constructor(root: string, limits: ArchiveLimits) {
    this.#root = root;
    this.#limits = limits;
  }

  async add(entry: ArchiveEntry): Promise<void> {
    // Skipped entries still cost work to read, so they count too, with room for a .git folder.
    if (++this.#seen > this.#limits.maxEntries * 10) this.#tooManyEntries();
    const parts = safeParts(entry.name, this.#limits.maxDepth);
    if (entry.kind === "unsupported") {
      throw new ArchiveRejected(
        "unsupported_entry",
        `The archive entry ${showName(entry.name)} is a ${entry.description ?? "special file"}; only files, folders and links are accepted.`,
      );
    }
    if (parts.length === 0 || isJunk(parts)) return;
    refuseWorkspace(entry.name, parts);
    const rel = parts.join("/");
    if (this.#kept.size >= this.#limits.maxEntries) this.#tooManyEntries();
    this.#kept.add(rel);
    this.#topNames.add(parts[0] as string);
    try {
      switch (entry.kind) {
        case "directory":
          return await this.#mkdirs(rel);
        case "file":
          return await this.#writeFile(rel, entry);
        case "hardlink":
          return await this.#copyHardLink(rel, entry);
        case "symlink":
          return this.#recordSymlink(rel, entry);
      }
    } catch (error) {
      throw this.#asConflict(error, entry.name);
    }
  }

  /** Creates the recorded symlinks, then proves each one resolves to something inside root. */
  async finish(): Promise<TreeSummary> {
    const ancestors = new Set<string>();
    for (const rel of this.#kept) {
      for (let i = rel.indexOf("/"); i !== -1; i = rel.indexOf("/", i + 1)) ancestors.add(rel.slice(0, i));
    }
    for (const link of this.#links) {
      if (ancestors.has(link.rel)) {
        throw new ArchiveRejected(
          "unsafe_link",
          `The archive has a symlink ${showName(link.rel)} and also entries inside it; it was refused.`,
        );
      }
    }
    for (const link of this.#links) {
      try {
        await this.#mkdirs(posix.dirname(link.rel));
        await symlink(link.target, this.#abs(link.rel));
      } catch (error) {
        throw this.#asConflict(error, link.rel);
      }
    }
    const realRoot = await realpath(this.#root);
    for (const link of this.#links) {
      const resolved = await realpath(this.#abs(link.rel)).catch(() => undefined);
      // A link to nothing (an editor's lock file, a loop) is useless, and something created later
      // could make it resolve anywhere: it is dropped rather than kept or held against the learner.
      if (resolved === undefined) await unlink(this.#abs(link.rel));
      else if (!(resolved === realRoot || resolved.startsWith(realRoot + sep)))
        throw this.#unsafeLink(link.rel, link.target, "outside the project");
    }
    return { files: this.#files.size, bytes: this.#bytes, topNames: this.#topNames };
  }

  #abs(rel: string): string {
    return rel === "" ? this.#root : join(this.#root, ...rel.split("/"));
  }

  // Every folder on the way is made here, so none of them can be a symlink.
  async #mkdirs(rel: string): Promise<void> {
    if (rel === "." || this.#dirs.has(rel)) return;
    await this.#mkdirs(posix.dirname(rel));
    await mkdir(this.#abs(rel), { mode: 0o755 });
    await chmod(this.#abs(rel), 0o755);
    this.#dirs.add(rel);
  }

  #checkSize(rel: string, fileBytes: number, extra: number): void {
    if (fileBytes > this.#limits.maxFileBytes) {
      throw new ArchiveRejected(
        "too_large",
        `The file ${showName(rel)} is larger than ${formatBytes(this.#limits.maxFileBytes)}; remove it (generated or binary files are not needed) and upload again.`,
      );
    }
    if (this.#bytes + extra > this.#limits.maxTotalBytes) {
      throw new ArchiveRejected(
        "too_large",
        `The archive unpacks to more than ${formatBytes(this.#limits.maxTotalBytes)}; remove generated or binary files and upload again.`,
      );
    }
  }

  async #writeFile(rel: string, entry: ArchiveEntry): Promise<void> {
    this.#checkSize(rel, entry.size, entry.size);
    await this.#mkdirs(posix.dirname(rel));
    const mode = entry.mode & 0o111 ? 0o755 : 0o644;
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    const handle = await open(this.#abs(rel), flags, mode);
    let written = 0;
    try {
      await handle.chmod(mode);
      for await (const chunk of entry.body ?? []) {
        written += chunk.length;
        this.#checkSize(rel, written, chunk.length);
        this.#bytes += chunk.length;
        for (let offset = 0; offset < chunk.length;) {
          offset += (await handle.write(chunk, offset)).bytesWritten;
        }
      }
    } finally {
      await handle.close();
    }
    this.#files.set(rel, { size: written, mode });
  }

  // A copy rather than a link: the tree shares no inode with anything, even inside itself.
  async #copyHardLink(rel: string, entry: ArchiveEntry): Promise<void> {
    const target = entry.linkTarget ?? "";
    const sourceRel = this.#extractedFile(target);
    const source = sourceRel === undefined ? undefined : this.#files.get(sourceRel);
    if (sourceRel === undefined || source === undefined) {
      throw this.#unsafeLink(rel, target, "which is not a file earlier in the archive", "hard link");
    }
    this.#checkSize(rel, source.size, source.size);
    await this.#mkdirs(posix.dirname(rel));
    await copyFile(this.#abs(sourceRel), this.#abs(rel), constants.COPYFILE_EXCL);
    await chmod(this.#abs(rel), source.mode);
    this.#bytes += source.size;
    this.#files.set(rel, source);
  }

  #extractedFile(name: string): string | undefined {
    try {
      const rel = safeParts(name, this.#limits.maxDepth).join("/");
      return this.#files.has(rel) ? rel : undefined;
    } catch {
      return undefined;
    }
  }

  #recordSymlink(rel: string, entry: ArchiveEntry): void {
    const target = entry.linkTarget ?? "";
    if (target === "" || target.includes("\0")) throw this.#unsafeLink(rel, target, "which is not a valid target");
    if (posix.isAbsolute(target)) throw this.#unsafeLink(rel, target, "an absolute path");
    const resolved = posix.normalize(posix.join(posix.dirname(rel), target));
    if (resolved === ".." || resolved.startsWith("../")) throw this.#unsafeLink(rel, target, "outside the project");
    this.#links.push({ rel, target });
  }

  #unsafeLink(rel: string, target: string, where: string, kind = "symlink"): ArchiveRejected {
    return new ArchiveRejected(
      "unsafe_link",
      `The archive entry ${showName(rel)} is a ${kind} to ${showName(target)}, ${where}; it was refused.`,
    );
  }

  #tooManyEntries(): never {
    throw new ArchiveRejected(
      "too_many_entries",
      `The archive has more than ${this.#limits.maxEntries} entries; upload only the project's sources.`,
    );
  }

  #asConflict(error: unknown, name: string): unknown {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code === undefined || !CONFLICT_CODES.has(code)) return error;
    const why =
      code === "ENAMETOOLONG"
        ? "has a name too long for the file system"
        : code === "ELOOP"
          ? "goes through a symlink"
          : "clashes with another entry of the same name (or a file where a folder should be)";
    return new ArchiveRejected("unsafe_path", `The archive entry ${showName(name)} ${why}; it was refused.`, {
      cause: error,
    });
  }
}
