import { Registry } from "prom-client";
import { describe, expect, test } from "vitest";
import { registerCountedHistogram } from "./counted-histogram.ts";

describe("registerCountedHistogram", () => {
  test("renders counted series as a Prometheus histogram: cumulative buckets, +Inf, sum and count per series", async () => {
    const registry = new Registry();
    registerCountedHistogram(registry, {
      name: "demo_seconds",
      help: "demo",
      buckets: [1, 10],
      read: async () => [
        { labels: { lab: "a", phase: "building" }, cumulative: [0, 2], count: 3, sum: 42.5 },
        { labels: { lab: "b", phase: "checking" }, cumulative: [1, 1], count: 1, sum: 0.25 },
      ],
    });
    const lines = (await registry.metrics()).split("\n");
    expect(lines).toContain("# TYPE demo_seconds histogram");
    expect(lines).toContain('demo_seconds_bucket{le="1",lab="a",phase="building"} 0');
    expect(lines).toContain('demo_seconds_bucket{le="10",lab="a",phase="building"} 2');
    expect(lines).toContain('demo_seconds_bucket{le="+Inf",lab="a",phase="building"} 3');
    expect(lines).toContain('demo_seconds_sum{lab="a",phase="building"} 42.5');
    expect(lines).toContain('demo_seconds_count{lab="a",phase="building"} 3');
    expect(lines).toContain('demo_seconds_bucket{le="1",lab="b",phase="checking"} 1');
    expect(lines).toContain('demo_seconds_count{lab="b",phase="checking"} 1');
  });

  test("reads afresh on every scrape, and an empty read is a histogram without series", async () => {
    const registry = new Registry();
    let count = 0;
    registerCountedHistogram(registry, {
      name: "fresh_seconds",
      help: "fresh",
      buckets: [1],
      read: async () => (count === 0 ? [] : [{ labels: {}, cumulative: [count], count, sum: count }]),
    });
    expect(await registry.metrics()).not.toContain("fresh_seconds_count");
    count = 2;
    expect((await registry.metrics()).split("\n")).toContain("fresh_seconds_count 2");
  });
});
