import { lstat, open, realpath } from "node:fs/promises";
import { join, posix, sep } from "node:path";
import { ArchiveRejected, showName } from "./limits.ts";
import { goModLookup, goModString, type GoModDirective } from "./go-mod.ts";
import { compareGoVersions, goLineVersion, showGoVersion, toolchainVersion, type GoVersion } from "./go-version.ts";

/** What a project's go.mod may ask of the go command that builds it. */
export interface GoPolicy {
  /** The toolchain that builds submissions, as `go env GOVERSION` prints it (go1.26.8). */
  goVersion: string;
}

// A go.mod is tiny; reading more than this would only serve an attacker.
const MAX_GO_MOD_BYTES = 256 * 1024;

/** A regular file's text (a symlink, a folder or nothing is undefined); too large is refused. */
export async function readGoModFile(path: string, tooLarge: () => Error): Promise<string | undefined> {
  const info = await lstat(path).catch(() => undefined);
  if (!info?.isFile()) return undefined;
  if (info.size > MAX_GO_MOD_BYTES) throw tooLarge();
  return readHead(path, MAX_GO_MOD_BYTES);
}

/** At most the first `max` bytes of a file, as text: what a check needs of a file a learner sent. */
export async function readHead(path: string, max: number): Promise<string> {
  const handle = await open(path, "r");
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(max), 0, max, 0);
    return buffer.subarray(0, bytesRead).toString("utf8");
  } finally {
    await handle.close();
  }
}

interface Host {
  name: string;
  version: GoVersion;
}

function refuseGoLine(file: string, line: number, written: string, why: string, host: Host): never {
  throw new ArchiveRejected(
    "go_version",
    `${file} line ${line} (${showName(written)}) ${why}, but submissions are built with ${host.name} and no other Go is downloaded. Set the go line to ${showGoVersion(host.version)} or lower, remove the toolchain line, and upload again.`,
  );
}

/**
 * Go and toolchain lines newer than the host's would make the go command fetch another toolchain
 * (or fail); one we cannot read is refused rather than guessed at.
 */
function checkGoLines(text: string, file: string, host: Host, readToolchain: boolean): void {
  for (const { value, line } of goModLookup(text, "go")) {
    const version = goLineVersion(value);
    if (version === undefined) refuseGoLine(file, line, `go ${value}`, "is not a Go version such as 1.26.0", host);
    if (compareGoVersions(version, host.version) > 0)
      refuseGoLine(file, line, `go ${value}`, "asks for a newer Go", host);
  }
  // A dependency's toolchain line is ignored by the go command; only the main module's counts.
  if (!readToolchain) return;
  for (const { value, line } of goModLookup(text, "toolchain")) {
    if (value === "default") continue;
    const version = toolchainVersion(value);
    if (version === undefined)
      refuseGoLine(file, line, `toolchain ${value}`, "is not a Go toolchain such as go1.26.0", host);
    if (compareGoVersions(version, host.version) > 0)
      refuseGoLine(file, line, `toolchain ${value}`, "asks for a newer Go", host);
  }
}

// modfile.IsDirectoryPath: what the go command takes for a folder rather than a module path.
const isDirectoryPath = (path: string) => path === "." || path === ".." || /^\.\.?[/\\]|^[/\\]|^[A-Za-z]:/.test(path);

/**
 * What a replace directive (`replace a [v] => b [v]`) points at: a folder, or a module path with a
 * version, which is fetched like any dependency (folder undefined).
 */
function replacement(directive: GoModDirective): { folder?: string; written: string } {
  const { args, line } = directive;
  const arrow = args[1] === "=>" ? 1 : 2;
  if (args.length < arrow + 2 || args.length > arrow + 3 || args[arrow] !== "=>") {
    throw new ArchiveRejected(
      "not_a_project",
      `The project's go.mod line ${line} is not a replace directive the go command can read (\`replace module/path [v1.2.3] => other/module v1.4\` or \`=> ./folder\`); fix it and upload again.`,
    );
  }
  const target = goModString(args[arrow + 1] as string, line);
  const written = `${goModString(args[0] as string, line)} => ${args.slice(arrow + 1).join(" ")}`;
  // The go command refuses a folder with a version and a module path without one; both count as folders here.
  const versioned = args.length === arrow + 3;
  return versioned && !isDirectoryPath(target) ? { written } : { folder: target, written };
}

const inside = (root: string, path: string) => path === root || path.startsWith(root + sep);

/** Whether a project-relative path leaves root, lexically or through a symlink; path is where it resolves, if it exists. */
async function folderInside(root: string, folder: string): Promise<{ path?: string; outside: boolean }> {
  const relative = posix.normalize(folder);
  if (posix.isAbsolute(folder) || /^[A-Za-z]:|\\/.test(folder) || relative === ".." || relative.startsWith("../"))
    return { outside: true };
  // Symlinks were proven to stay inside when unpacked; this holds even if that ever changes.
  const path = await realpath(join(root, relative)).catch(() => undefined);
  return path === undefined || inside(root, path) ? { path, outside: false } : { outside: true };
}

/**
 * Refuses a go.mod that would build anything but the project: a replace pointing at a folder
 * outside it (the grader's own reference operator, say) or a Go newer than the host's. Replacement
 * folders inside the project are read too, since their go lines count as well.
 */
export async function checkGoContainment(
  dir: string,
  goMod: string,
  directives: GoModDirective[],
  policy: GoPolicy,
): Promise<void> {
  const version = toolchainVersion(policy.goVersion);
  if (version === undefined)
    throw new Error(
      `the configured Go version ${JSON.stringify(policy.goVersion)} is not a toolchain name such as go1.26.8`,
    );
  const host = { name: policy.goVersion, version };
  checkGoLines(goMod, "go.mod", host, true);
  const root = await realpath(dir);
  for (const directive of directives.filter((d) => d.verb === "replace")) {
    const { folder, written } = replacement(directive);
    if (folder === undefined) continue;
    const modPath = posix.join(posix.normalize(folder), "go.mod");
    const target = await folderInside(root, folder);
    const modFile = target.path === undefined ? undefined : await folderInside(root, modPath);
    if (target.outside || modFile?.outside) {
      throw new ArchiveRejected(
        "local_replace",
        `go.mod line ${directive.line} replaces a module with a folder outside the project (${showName(`replace ${written}`)}). The project must build from what you upload: remove the line, or replace with a published version (\`=> module/path v1.2.3\`) or a folder inside the project (\`=> ./third_party/x\`).`,
      );
    }
    const tooLarge = () =>
      new ArchiveRejected(
        "not_a_project",
        `${showName(modPath)} is implausibly large; a go.mod needs only a few lines.`,
      );
    const text = modFile?.path === undefined ? undefined : await readGoModFile(modFile.path, tooLarge);
    if (text !== undefined) checkGoLines(text, showName(modPath), host, false);
  }
}
