import { afterEach, describe, expect, it, vi } from "vitest";
import type { KubeClient } from "./client.ts";
import { createRecorder, HOST_SAMPLE_INTERVAL_MS } from "./recorder.ts";

// No cluster answers: only the host readings are under test.
const unreachable = {
  resource: () => Promise.reject(new Error("no cluster here")),
} as unknown as KubeClient;

describe("the recorder's readings of the host", () => {
  afterEach(() => vi.useRealTimers());

  it("reads the host's CPU pressure into the trace at start and every interval, until stopped", () => {
    vi.useFakeTimers();
    let clock = 0;
    let waited = 100;
    const recorder = createRecorder(
      unreachable,
      [],
      () => clock,
      () => (waited += 40),
    );
    recorder.ready.catch(() => undefined);
    for (let i = 0; i < 3; i++) {
      clock += HOST_SAMPLE_INTERVAL_MS;
      vi.advanceTimersByTime(HOST_SAMPLE_INTERVAL_MS);
    }
    recorder.stop();
    vi.advanceTimersByTime(5 * HOST_SAMPLE_INTERVAL_MS);
    expect(recorder.trace.host).toEqual([
      { at: 0, cpuWaitedMs: 140 },
      { at: 5_000, cpuWaitedMs: 180 },
      { at: 10_000, cpuWaitedMs: 220 },
      { at: 15_000, cpuWaitedMs: 260 },
    ]);
  });

  it("records no readings where the host cannot be read", () => {
    vi.useFakeTimers();
    const recorder = createRecorder(
      unreachable,
      [],
      () => 0,
      () => undefined,
    );
    recorder.ready.catch(() => undefined);
    vi.advanceTimersByTime(3 * HOST_SAMPLE_INTERVAL_MS);
    recorder.stop();
    expect(recorder.trace.host).toBeUndefined();
  });
});
