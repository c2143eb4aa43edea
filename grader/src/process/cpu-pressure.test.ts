import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCpuWaitedMs, readCpuWaitedMs } from "./cpu-pressure.ts";

describe("reading the host's CPU pressure", () => {
  it("takes the cumulative 'some' stall, in ms", () => {
    const text =
      "some avg10=47.64 avg60=30.32 avg300=9.70 total=33457453\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
    expect(parseCpuWaitedMs(text)).toBe(33457.453);
  });

  it("is unknown for text without it, or where the file is missing", () => {
    expect(parseCpuWaitedMs("full avg10=0.00 avg60=0.00 avg300=0.00 total=5\n")).toBeUndefined();
    expect(readCpuWaitedMs(join(tmpdir(), "no-such-pressure-file"))).toBeUndefined();
  });

  it("reads a pressure file", () => {
    const file = join(mkdtempSync(join(tmpdir(), "psi-")), "cpu");
    writeFileSync(file, "some avg10=1.00 avg60=1.00 avg300=1.00 total=2000\n");
    expect(readCpuWaitedMs(file)).toBe(2);
  });
});
