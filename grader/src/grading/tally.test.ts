import { describe, expect, it } from "vitest";
import type { CheckSpec } from "../engine/lab.ts";
import type { RenderedCheck } from "../engine/render.ts";
import { createTally } from "./tally.ts";

const spec = (id: string, requires?: string[]): CheckSpec =>
  ({
    id,
    task: "1.4",
    type: "expect",
    title: `the ${id} check`,
    points: 1,
    severity: "required",
    timeout: "30s",
    hint: "look",
    params: {},
    ...(requires ? { requires } : {}),
  }) as CheckSpec;

const rendered = (s: CheckSpec): RenderedCheck => ({
  id: s.id,
  task: s.task,
  type: s.type,
  title: s.title,
  hint: s.hint,
  points: s.points,
  severity: s.severity,
  timeoutMs: 30_000,
  clusterLevel: false,
  params: {},
  requires: s.requires ?? [],
  waitsFor: [],
});

const specs = [spec("witness"), spec("other"), spec("never-early", ["witness"])];
const [witness, other] = specs.map(rendered);

/** Whether the promise settles within a few turns of the event loop. */
async function settled(p: Promise<string>): Promise<string | undefined> {
  return Promise.race([p, new Promise<undefined>((r) => setTimeout(() => r(undefined), 20))]);
}

describe("a tally's word on failed requirements", () => {
  it("settles once a required check fails, naming it, and not for a pass, an error or another check", async () => {
    const tally = createTally(specs, () => undefined);
    const waiting = tally.whenAnyFailed(["witness"]);
    tally.record(other!, { status: "aborted", reason: "the manager exited", decidedAt: 5 }, {});
    expect(await settled(waiting)).toBeUndefined();
    tally.record(witness!, { status: "aborted", reason: "the manager exited", decidedAt: 9 }, {});
    expect(await settled(waiting)).toBe('"the witness check", failed');
  });

  it("settles at once for a requirement that already failed", async () => {
    const tally = createTally(specs, () => undefined);
    tally.record(witness!, { status: "aborted", reason: "the manager exited", decidedAt: 9 }, {});
    expect(await settled(tally.whenAnyFailed(["other", "witness"]))).toBe('"the witness check", failed');
  });

  it("never settles for a requirement the platform could not decide", async () => {
    const tally = createTally(specs, () => undefined);
    const waiting = tally.whenAnyFailed(["witness"]);
    tally.record(witness!, { status: "error", reason: "the API server answered 503", decidedAt: 9 }, {});
    expect(await settled(waiting)).toBeUndefined();
    expect(await settled(tally.whenAnyFailed(["witness"]))).toBeUndefined();
  });
});
