import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { startManager } from "./manager.ts";

/** A stand-in manager binary: a shell script that ignores the flags it is given and prints `script`. */
function fakeManager(script: string) {
  const dir = mkdtempSync(join(tmpdir(), "manager-"));
  const binary = join(dir, "manager");
  writeFileSync(binary, `#!/bin/sh\n${script}\n`);
  chmodSync(binary, 0o755);
  return { binary, dir };
}

const run = async (script: string, maxLogBytes?: number) => {
  const { binary, dir } = fakeManager(script);
  const manager = startManager({
    binary,
    kubeconfigPath: "/dev/null",
    args: [],
    workDir: dir,
    logFile: join(dir, "manager.log"),
    clock: () => 0,
    env: { PATH: "/usr/bin:/bin" },
    ...(maxLogBytes ? { maxLogBytes } : {}),
  });
  const exit = await manager.exited;
  await new Promise((r) => setTimeout(r, 50));
  return { manager, exit, file: readFileSync(join(dir, "manager.log"), "utf8") };
};

describe("startManager's log", () => {
  test("lines from stdout and stderr are kept in order of arrival, in memory and on disk", async () => {
    const { manager, exit, file } = await run("echo one; echo two >&2");
    expect(exit.code).toBe(0);
    expect(manager.logs.map((l) => [l.stream, l.text])).toEqual(
      expect.arrayContaining([
        ["stdout", "one"],
        ["stderr", "two"],
      ]),
    );
    expect(file.split("\n").sort()).toEqual(["", "one", "two"]);
  });

  test("a flood is cut at the budget and the manager still runs to its end", async () => {
    const { manager, exit, file } = await run("yes flood | head -c 2000000; echo done", 10_000);
    expect(exit.code).toBe(0);
    const kept = manager.logs.reduce((n, l) => n + l.text.length + 1, 0);
    expect(kept).toBeLessThan(10_000 + 200);
    expect(manager.logs.at(-1)!.text).toMatch(/passed 10000 bytes; the rest was not kept/);
    expect(manager.logs.some((l) => l.text === "done")).toBe(false);
    expect(file.length).toBeLessThan(10_000 + 200);
  });

  test("a line without end is cut at 64 KiB instead of growing without bound", async () => {
    const { manager, exit } = await run("head -c 300000 /dev/zero | tr '\\\\0' x; echo; echo after");
    expect(exit.code).toBe(0);
    expect(Math.max(...manager.logs.map((l) => l.text.length))).toBeLessThanOrEqual(64 * 1024);
    expect(manager.logs.at(-1)!.text).toBe("after");
  });
});
