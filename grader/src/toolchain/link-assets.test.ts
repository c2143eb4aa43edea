import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readlinkSync, symlinkSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { linkAssets } from "./build.ts";

const run = promisify(execFile);
const binaries = { etcd: "/opt/bin/etcd", "kube-apiserver": "/opt/bin/kube-apiserver" } as Parameters<
  typeof linkAssets
>[1];

describe("envtest's asset links", () => {
  it("points each link at its binary, replacing a stale one", () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "labgrader-assets-"));
    mkdirSync(join(cacheDir, "toolchain", "envtest"), { recursive: true });
    symlinkSync("/old/etcd", join(cacheDir, "toolchain", "envtest", "etcd"));
    const dir = linkAssets({ cacheDir, env: {}, log: () => undefined }, binaries);
    expect(readlinkSync(join(dir, "etcd"))).toBe("/opt/bin/etcd");
    expect(readlinkSync(join(dir, "kube-apiserver"))).toBe("/opt/bin/kube-apiserver");
    expect(readdirSync(dir).sort()).toEqual(["etcd", "kube-apiserver"]);
  });

  it("survives several processes linking at once (workers starting together)", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "labgrader-assets-"));
    const script = `import { linkAssets } from ${JSON.stringify(join(import.meta.dirname, "build.ts"))};
for (let i = 0; i < 200; i++) linkAssets({ cacheDir: ${JSON.stringify(cacheDir)}, env: {}, log: () => undefined }, i % 2 ? ${JSON.stringify(binaries)} : { etcd: "/other/etcd", "kube-apiserver": "/other/kube-apiserver" });`;
    await Promise.all(Array.from({ length: 6 }, () => run(process.execPath, ["--input-type=module", "-e", script])));
    const dir = join(cacheDir, "toolchain", "envtest");
    expect(readdirSync(dir).sort()).toEqual(["etcd", "kube-apiserver"]);
    // Six Node processes: on a busy 2-core host their start alone can take longer than vitest's 5 s default.
  }, 60_000);
});
