import { mkdirSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildKey, createManagerCache, type BuildInputs } from "./manager-cache.ts";

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), "manager-cache-project-"));
  mkdirSync(join(dir, "cmd"));
  mkdirSync(join(dir, "bin"));
  writeFileSync(join(dir, "go.mod"), "module example.com/op\n");
  writeFileSync(join(dir, "cmd", "main.go"), "package main\nfunc main() {}\n");
  return dir;
}

const inputs = (dir: string, extra: Partial<BuildInputs> = {}): BuildInputs => ({
  projectDir: dir,
  goVersion: "go1.26.8",
  args: ["build", "-trimpath", "-o", "./cmd"],
  env: { CGO_ENABLED: "0" },
  ...extra,
});

describe("buildKey", () => {
  it("is the same for the same inputs, whatever else the folder holds", async () => {
    const dir = project();
    const before = await buildKey(inputs(dir));
    writeFileSync(join(dir, "bin", "manager"), "an old build");
    writeFileSync(join(dir, "cmd", "main_test.go"), "package main\n");
    writeFileSync(join(dir, "README.md"), "notes");
    expect(await buildKey(inputs(dir))).toBe(before);
  });

  it.each<[string, (dir: string) => Partial<BuildInputs>]>([
    ["a source file's content", (dir) => (writeFileSync(join(dir, "cmd", "main.go"), "package main\n"), {})],
    ["a new source file", (dir) => (writeFileSync(join(dir, "cmd", "extra.go"), "package main\n"), {})],
    ["go.mod", (dir) => (writeFileSync(join(dir, "go.mod"), "module example.com/other\n"), {})],
    [
      "an overlay of a file",
      () => {
        const file = join(mkdtempSync(join(tmpdir(), "overlay-")), "main.go");
        writeFileSync(file, "package main\nfunc main() { println() }\n");
        return { overlay: { "cmd/main.go": file } };
      },
    ],
    ["the Go release", () => ({ goVersion: "go1.26.9" })],
    ["the build flags", () => ({ args: ["build", "-race", "-o", "./cmd"] })],
    ["GOFLAGS", () => ({ env: { CGO_ENABLED: "0", GOFLAGS: "-tags=debug" } })],
  ])("changes with %s", async (_, change) => {
    const dir = project();
    const before = await buildKey(inputs(dir));
    expect(await buildKey(inputs(dir, change(dir)))).not.toBe(before);
  });
});

describe("createManagerCache", () => {
  it("gives back what it kept, and nothing for inputs it never saw", async () => {
    const dir = mkdtempSync(join(tmpdir(), "manager-cache-"));
    const cache = createManagerCache(dir, 1024);
    const built = join(mkdtempSync(join(tmpdir(), "built-")), "manager");
    writeFileSync(built, "manager one");
    await cache.store("one", built);
    const out = join(mkdtempSync(join(tmpdir(), "out-")), "manager");
    expect(await cache.restore("one", out)).toBe(true);
    expect(readFileSync(out, "utf8")).toBe("manager one");
    expect(await cache.restore("two", join(dirname(out), "other"))).toBe(false);
  });

  it("drops the least recently used managers above its size", async () => {
    const dir = mkdtempSync(join(tmpdir(), "manager-cache-"));
    const cache = createManagerCache(dir, 25);
    const scratch = mkdtempSync(join(tmpdir(), "built-"));
    for (const [i, key] of ["old", "used", "new"].entries()) {
      const built = join(scratch, key);
      writeFileSync(built, "0123456789");
      await cache.store(key, built);
      const at = new Date(Date.now() - (10 - i) * 60_000);
      utimesSync(join(dir, key, "manager"), at, at);
    }
    // Reading "used" makes it the most recent; storing one more pushes the total past 25 bytes.
    expect(await cache.restore("used", join(scratch, "restored"))).toBe(true);
    const built = join(scratch, "newest");
    writeFileSync(built, "0123456789");
    await cache.store("newest", built);
    expect(readdirSync(dir).sort()).toEqual(["newest", "used"]);
  });
});
