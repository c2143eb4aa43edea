import { describe, expect, test } from "vitest";
import { durationText, retryAfterSeconds, windowDecision } from "./sliding-window.ts";

describe("windowDecision", () => {
  test.each([
    { name: "an empty window", remaining: [], limit: 3, expected: { allowed: true } },
    { name: "one place left", remaining: [900, 100], limit: 3, expected: { allowed: true } },
    {
      name: "full: wait until the oldest of the window expires",
      remaining: [900, 100, 500],
      limit: 3,
      expected: { allowed: false, retryAfterMs: 100 },
    },
    {
      name: "over full (the limit was lowered): wait until enough expire that one place is free",
      remaining: [900, 100, 500, 700, 300],
      limit: 3,
      expected: { allowed: false, retryAfterMs: 500 },
    },
    { name: "a limit of one", remaining: [250], limit: 1, expected: { allowed: false, retryAfterMs: 250 } },
    {
      name: "a hit expiring this instant never makes a negative wait",
      remaining: [-3, 40],
      limit: 2,
      expected: { allowed: false, retryAfterMs: 0 },
    },
  ])("$name", ({ remaining, limit, expected }) => {
    expect(windowDecision(remaining, limit)).toEqual(expected);
  });
});

describe("durationText", () => {
  test.each([
    [0, "1 second"],
    [1, "1 second"],
    [40_000, "40 seconds"],
    [59_001, "1 minute"],
    [61_000, "2 minutes"],
    [12 * 60_000, "12 minutes"],
    [3_600_000, "1 hour"],
    [3_900_000, "1 hour 5 minutes"],
    [2 * 3_600_000 + 60_000, "2 hours 1 minute"],
  ])("%d ms is %s", (ms, text) => {
    expect(durationText(ms)).toBe(text);
  });

  test.each([
    [0, 1],
    [1, 1],
    [1000, 1],
    [1001, 2],
    [899_500, 900],
  ])("Retry-After of %d ms is %d s", (ms, seconds) => {
    expect(retryAfterSeconds(ms)).toBe(seconds);
  });
});
