import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, test } from "vitest";
import { lastBuildPath, readLastBuild, recordLastBuild } from "./last-builds.ts";

describe("last builds", () => {
  test("a recorded build is read back per group, beside the stamps", () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "last-builds-"));
    expect(readLastBuild(cacheDir, "kubernetes")).toBeUndefined();
    recordLastBuild(cacheDir, "kubernetes", {
      durationMs: 432_000,
      version: "v1.36.3",
      finishedAt: "2026-12-01T10:00:00.000Z",
    });
    recordLastBuild(cacheDir, "etcd", {
      durationMs: 61_000,
      version: "v3.6.16",
      finishedAt: "2026-12-01T10:01:00.000Z",
    });
    expect(readLastBuild(cacheDir, "kubernetes")?.durationMs).toBe(432_000);
    expect(readLastBuild(cacheDir, "etcd")?.durationMs).toBe(61_000);
    expect(dirname(lastBuildPath(cacheDir, "etcd"))).toBe(join(cacheDir, "toolchain", "stamps"));
  });

  test("a damaged record gives no estimate rather than a wrong one", () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "last-builds-"));
    mkdirSync(join(cacheDir, "toolchain", "stamps"), { recursive: true });
    writeFileSync(lastBuildPath(cacheDir, "kwok"), '{"durationMs": -3');
    expect(readLastBuild(cacheDir, "kwok")).toBeUndefined();
    writeFileSync(lastBuildPath(cacheDir, "kwok"), JSON.stringify({ durationMs: -3, finishedAt: "x" }));
    expect(readLastBuild(cacheDir, "kwok")).toBeUndefined();
  });
});
