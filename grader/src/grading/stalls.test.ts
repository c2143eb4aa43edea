import { describe, expect, it } from "vitest";
import type { LogLine } from "../engine/trace.ts";
import type { ManagerExit, RunningManager } from "../runner/manager.ts";
import { forbiddenListOrWatch, watchForStalls } from "./stalls.ts";

const FORBIDDEN_LINE =
  'E1205 reflector.go:200] "Failed to watch" err="failed to list *v1.Backup: backups.database.example.com is forbidden: User \\"system:serviceaccount:ops:manager\\" cannot list resource \\"backups\\" in API group \\"database.example.com\\" at the cluster scope"';

/** A manager that never exits and prints what the test tells it to. */
function manager(): RunningManager & { print(text: string, at: number): void } {
  const logs: LogLine[] = [];
  const listeners: ((line: LogLine) => void)[] = [];
  return {
    logs,
    onLog: (listener) => void listeners.push(listener),
    exited: new Promise<ManagerExit>(() => undefined),
    stop: async () => ({ code: 0, signal: null, at: 0 }),
    print(text, at) {
      const line: LogLine = { at, stream: "stderr", text };
      logs.push(line);
      for (const l of listeners) l(line);
    },
  };
}

const outcome = (stalled: Promise<string>, ms: number) =>
  Promise.race([stalled, new Promise((r) => setTimeout(() => r("still waiting"), ms))]);

describe("stalls", () => {
  it("reads the refused permission from client-go's log line", () => {
    expect(forbiddenListOrWatch(FORBIDDEN_LINE)).toEqual({
      verb: "list",
      resource: "backups",
      group: "database.example.com",
    });
    expect(forbiddenListOrWatch("Reconciling")).toBeUndefined();
  });

  it("stops waiting when a 403 is still a 403 at the end of the grace period", async () => {
    const m = manager();
    const findings: string[] = [];
    const watch = watchForStalls(
      m,
      (f) => findings.push(f),
      async () => true,
      20,
    );
    m.print(FORBIDDEN_LINE, 1_000);
    expect(await outcome(watch.stalled, 2_000)).toMatch(
      /does not let it list backups.database.example.com \(403 in its log at 1.0 s, still refused/,
    );
    expect(findings).toEqual([expect.stringMatching(/cannot list backups.database.example.com \(403 at 1.0 s\)/)]);
  });

  it("keeps waiting when the refusal did not last (the binding was seen a moment later)", async () => {
    const m = manager();
    const findings: string[] = [];
    let asked = 0;
    const watch = watchForStalls(
      m,
      (f) => findings.push(f),
      async () => (asked++, false),
      20,
    );
    m.print(FORBIDDEN_LINE, 1_000);
    expect(await outcome(watch.stalled, 200)).toBe("still waiting");
    expect(asked).toBe(1);
    expect(findings).toEqual([]);
    // A new 403 later starts a new grace period.
    m.print(FORBIDDEN_LINE, 5_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(asked).toBe(2);
    watch.disarm();
  });
});
