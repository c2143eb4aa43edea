import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { createProgress, estimateText, formatDuration, progressLine } from "./progress.ts";

describe("formatDuration", () => {
  test.each([
    [0, "0 s"],
    [499, "0 s"],
    [45_000, "45 s"],
    [59_600, "1 min 00 s"],
    [185_000, "3 min 05 s"],
    [3_599_000, "59 min 59 s"],
    [3_720_000, "1 h 02 min"],
    [-5_000, "0 s"],
  ])("%d ms is %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe("estimateText", () => {
  test.each([
    { name: "no last build: no estimate", elapsed: 10_000, last: undefined, text: undefined },
    {
      name: "under the last build: what is left",
      elapsed: 130_000,
      last: 432_000,
      text: "about 5 min 02 s left (the last build took 7 min 12 s)",
    },
    { name: "just started", elapsed: 0, last: 60_000, text: "about 1 min 00 s left (the last build took 1 min 00 s)" },
    {
      name: "past the last build: no negative time left",
      elapsed: 500_000,
      last: 432_000,
      text: "longer than the last build (7 min 12 s)",
    },
  ])("$name", ({ elapsed, last, text }) => {
    expect(estimateText(elapsed, last)).toBe(text);
  });
});

describe("progressLine", () => {
  test.each([
    { what: "building etcd v3.6.16", elapsed: 42_000, last: undefined, line: "building etcd v3.6.16: 42 s" },
    {
      what: "building etcd v3.6.16",
      elapsed: 130_000,
      last: 192_000,
      line: "building etcd v3.6.16: 2 min 10 s, about 1 min 02 s left (the last build took 3 min 12 s)",
    },
  ])("$line", ({ what, elapsed, last, line }) => {
    expect(progressLine(what, elapsed, last)).toBe(line);
  });
});

describe("createProgress", () => {
  let clock = 0;
  beforeEach(() => {
    vi.useFakeTimers();
    clock = 0;
  });
  afterEach(() => vi.useRealTimers());
  const advance = (ms: number) => {
    clock += ms;
    vi.advanceTimersByTime(ms);
  };

  test("without a terminal: a plain line every 30 s while the work runs, none after it ended", () => {
    const lines: string[] = [];
    const progress = createProgress({ log: (l) => lines.push(l) }, { now: () => clock });
    const task = progress.start("building kwok v0.8.0", 100_000);
    advance(29_000);
    expect(lines).toEqual([]);
    advance(1_000);
    advance(30_000);
    expect(lines).toEqual([
      "building kwok v0.8.0: 30 s, about 1 min 10 s left (the last build took 1 min 40 s)",
      "building kwok v0.8.0: 1 min 00 s, about 40 s left (the last build took 1 min 40 s)",
    ]);
    expect(task.end()).toBe(60_000);
    advance(90_000);
    expect(lines).toHaveLength(2);
    expect(task.end()).toBe(60_000);
  });

  test("on a terminal: one line drawn in place every second, showing every running task, cleared when the last ends", () => {
    const drawn: string[] = [];
    const logged: string[] = [];
    const progress = createProgress({ log: (l) => logged.push(l), live: (l) => drawn.push(l) }, { now: () => clock });
    const go = progress.start("building etcd");
    expect(drawn.at(-1)).toBe("building etcd: 0 s");
    advance(2_000);
    expect(drawn.at(-1)).toBe("building etcd: 2 s");
    const debootstrap = progress.start("root filesystems");
    advance(1_000);
    expect(drawn.at(-1)).toBe("building etcd: 3 s · root filesystems: 1 s");
    go.end();
    expect(drawn.at(-1)).toBe("root filesystems: 1 s");
    debootstrap.end();
    expect(drawn.at(-1)).toBe("");
    const count = drawn.length;
    advance(5_000);
    expect(drawn).toHaveLength(count);
    expect(logged).toEqual([]);
  });
});
