import { describe, expect, it } from "vitest";
import { cpuContention } from "./host.ts";
import type { Trace } from "./trace.ts";

const withReadings = (readings: [at: number, cpuWaitedMs: number][]): Trace => ({
  entries: [],
  events: [],
  logs: [],
  host: readings.map(([at, cpuWaitedMs]) => ({ at, cpuWaitedMs })),
});

describe("the host's CPU contention over a window", () => {
  it.each([
    [
      "half the time waited",
      [
        [0, 100],
        [10_000, 5_100],
        [20_000, 10_100],
      ],
      0,
      20_000,
      0.5,
    ],
    [
      "only readings inside the window count",
      [
        [0, 0],
        [10_000, 10_000],
        [30_000, 12_000],
      ],
      5_000,
      40_000,
      0.1,
    ],
    [
      "never more than all of it",
      [
        [0, 0],
        [10_000, 30_000],
      ],
      0,
      10_000,
      1,
    ],
    [
      "an idle host",
      [
        [0, 7],
        [60_000, 7],
      ],
      0,
      60_000,
      0,
    ],
  ] as const)("%s", (_, readings, from, to, share) => {
    expect(cpuContention(withReadings(readings.map((r) => [...r])), from, to)).toBeCloseTo(share);
  });

  it.each([
    ["no readings (a kernel without PSI)", { entries: [], events: [], logs: [] }],
    [
      "readings less than 10 s apart",
      withReadings([
        [0, 0],
        [9_000, 9_000],
      ]),
    ],
  ])("is unknown with %s", (_, trace) => {
    expect(cpuContention(trace, 0, 60_000)).toBeUndefined();
  });
});
