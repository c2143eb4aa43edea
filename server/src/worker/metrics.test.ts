import { mkdtempSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hostCapacity } from "../../../grader/src/grading/capacity.ts";
import { freePort } from "../../../grader/src/process/ports.ts";
import { buildOutcome, createWorkerMetrics, serveWorkerMetrics } from "./metrics.ts";

describe("buildOutcome", () => {
  test.each([
    { build: { ok: true, timedOut: false }, expected: "built" },
    { build: { ok: false, timedOut: false }, expected: "failed" },
    { build: { ok: false, timedOut: true }, expected: "timed_out" },
  ])("$expected", ({ build, expected }) => {
    expect(buildOutcome(build)).toBe(expected);
  });
});

describe("the worker's metrics endpoint", () => {
  const capacity = hostCapacity({
    cacheDir: mkdtempSync(join(tmpdir(), "worker-metrics-")),
    gradeSlots: 3,
    buildSlots: 1,
  });
  const metrics = createWorkerMetrics(capacity);
  let port = 0;
  let server: Server | undefined;
  beforeAll(async () => {
    port = await freePort();
    server = await serveWorkerMetrics(metrics.registry, port, () => undefined);
  });
  afterAll(() => new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined))));

  test("counts builds by lab and outcome, and the host's grade slots in use (clusters running or starting)", async () => {
    const lease = await capacity.grades.acquire("attempt 1234");
    metrics.buildFinished("composing-operators", { ok: true, timedOut: false, durationMs: 3_200 });
    metrics.buildFinished("composing-operators", { ok: true, timedOut: false, durationMs: 95_000 });
    metrics.buildFinished("composing-operators", { ok: false, timedOut: true, durationMs: 300_000 });
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      const lines = (await res.text()).split("\n");
      const built =
        'labgrader_operator_build_duration_seconds_bucket{le="LE",lab="composing-operators",outcome="built"}';
      expect(lines).toContain(`${built.replace("LE", "2")} 0`);
      expect(lines).toContain(`${built.replace("LE", "5")} 1`);
      expect(lines).toContain(`${built.replace("LE", "120")} 2`);
      expect(lines).toContain(
        'labgrader_operator_build_duration_seconds_count{lab="composing-operators",outcome="timed_out"} 1',
      );
      expect(lines).toContain('labgrader_host_slots_held{pool="grades"} 1');
      expect(lines).toContain('labgrader_host_slots_held{pool="builds"} 0');
      expect(lines).toContain('labgrader_host_slots_size{pool="grades"} 3');
    } finally {
      await lease.release();
    }
    const after = (await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).split("\n");
    expect(after).toContain('labgrader_host_slots_held{pool="grades"} 0');
  });

  test("answers only GET /metrics", async () => {
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`, { method: "POST" })).status).toBe(404);
  });

  test("listens on loopback only: the host's other addresses refuse", async () => {
    expect((server?.address() as AddressInfo).address).toBe("127.0.0.1");
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a !== undefined && a.family === "IPv4" && !a.internal)
      .map((a) => a!.address);
    for (const address of others) {
      await expect(
        fetch(`http://${address}:${port}/metrics`, { signal: AbortSignal.timeout(5_000) }),
      ).rejects.toThrow();
    }
  });
});
