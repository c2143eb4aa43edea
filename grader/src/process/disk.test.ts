import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { describeShortage, freeDiskBytes, saysDiskFull, shortOfDisk } from "./disk.ts";

describe("saysDiskFull", () => {
  it.each([
    ["go: writing stat cache: write /root/.cache/go-build/x: no space left on device", true],
    ["/usr/local/go/pkg/tool/linux_amd64/link: flushing $WORK/b001/exe/a.out: write: No space left on device", true],
    ["open /home/u/.cache: disk quota exceeded", true],
    ["./internal/controller/database_controller.go:41:2: undefined: ctrl", false],
    ["signal: killed", false],
  ])("%s → %s", (output, full) => {
    expect(saysDiskFull(output)).toBe(full);
  });
});

describe("shortOfDisk", () => {
  it("names the first folder whose filesystem has less than asked, with what it has", async () => {
    const free = await freeDiskBytes(tmpdir());
    expect(free).toBeGreaterThan(0);
    const short = await shortOfDisk(["/nonexistent/labgrader", tmpdir()], free! * 2);
    expect(short?.path).toBe(tmpdir());
    expect(short!.freeBytes).toBeGreaterThan(0);
    expect(describeShortage(short!)).toMatch(/MiB of disk left where it grades/);
  });

  it("says nothing when every filesystem has room, or cannot be read", async () => {
    expect(await shortOfDisk([tmpdir()], 1)).toBeUndefined();
    expect(await shortOfDisk(["/nonexistent/labgrader"], Number.MAX_SAFE_INTEGER)).toBeUndefined();
  });
});
