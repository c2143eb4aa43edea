import { describe, expect, it } from "vitest";
import type { FinalVerdict } from "../engine/check.ts";
import { renderScenario, type RenderedCheck } from "../engine/render.ts";
import { replayCheck } from "../engine/replay.ts";
import { createTraceBuilder, kubeObject } from "../engine/trace-builder.ts";
import { loadLab } from "./load.ts";

const lab = await loadLab("advanced-patterns");

function checkOf(scenarioId: string, checkId: string): RenderedCheck {
  const scenario = renderScenario(lab, scenarioId, { namespace: "ns", attempt: "1" });
  for (const step of scenario.steps) {
    if (step.action !== "checks" && step.action !== "watch") continue;
    const found = step.checks.find((c) => c.id === checkId);
    if (found) return found;
  }
  throw new Error(`scenario ${scenarioId} starts no check ${checkId}`);
}

const database = (name: string, phase?: string, ready = false) =>
  kubeObject("Database", name, {
    spec: { image: "postgres:14", replicas: 1, storage: { size: "1Gi" } },
    ...(phase ? { status: { phase, ready } } : {}),
  });

const statefulSet = (name: string, readyReplicas: number) =>
  kubeObject("StatefulSet", name, { spec: { replicas: 1 }, status: { readyReplicas } }, "apps/v1");

/** test-db's phases, one status write every `gapMs`, judged as the walkthrough judges them. */
function phasesVerdict(phases: string[], gapMs = 300): FinalVerdict {
  const t = createTraceBuilder().at(0).add(database("test-db"));
  phases.forEach((phase, i) => t.at((i + 1) * gapMs).modify(database("test-db", phase, phase === "Ready")));
  const check = checkOf("walkthrough", "test-db-phases-in-order");
  return replayCheck(check, t.trace(), { namespace: "ns", since: 0, deadline: check.timeoutMs });
}

const WALK = ["Provisioning", "Configuring", "Deploying", "Verifying", "Ready"];

describe("lab advanced-patterns: the phases of test-db", () => {
  it.each([
    { name: "the course's own code (no Pending, 0.3 s a phase)", phases: WALK },
    { name: "Pending first, as the lab page shows", phases: ["Pending", ...WALK] },
    {
      name: "a detour through Failed after a stale cache read",
      phases: ["Provisioning", "Failed", "Pending", ...WALK],
    },
    { name: "each phase held for the lab's 15 s requeue", phases: WALK, gapMs: 15_000 },
  ])("accepts $name", ({ phases, gapMs }) => {
    expect(phasesVerdict(phases, gapMs).status).toBe("passed");
  });

  it.each([
    { name: "Configuring skipped", phases: ["Provisioning", "Deploying", "Verifying", "Ready"] },
    { name: "the Lab 3.3 Reconcile still in place (Task 1.3 left out)", phases: ["Pending", "Creating", "Ready"] },
  ])("refuses $name, saying which phases it saw", ({ phases }) => {
    const verdict = phasesVerdict(phases);
    expect(verdict.status).toBe("failed");
    if (verdict.status === "failed") expect(verdict.actual).toBe(`it went ${phases.join(" → ")}`);
  });

  it("decides a Database stuck in Verifying 30 s after its last change, not at the 2 min timeout", () => {
    const verdict = phasesVerdict(["Provisioning", "Configuring", "Deploying", "Verifying"]);
    expect(verdict.status).toBe("failed");
    expect(verdict.decidedAt).toBe(4 * 300 + 30_000);
  });
});

describe("lab advanced-patterns: a Database whose pods cannot run", () => {
  const check = checkOf("held", "held-db-waits-in-deploying");
  const held = (after: string[]) => {
    const t = createTraceBuilder().at(0).add(statefulSet("held-db", 0)).add(database("held-db", "Deploying"));
    after.forEach((phase, i) => t.at(100 * (i + 1)).modify(database("held-db", phase, phase === "Ready")));
    return replayCheck(check, t.trace(), { namespace: "ns", since: 50, deadline: 50 + check.timeoutMs });
  };

  it("passes while it waits in Deploying", () => {
    expect(held([]).status).toBe("passed");
  });

  it.each([["Verifying"], ["Verifying", "Ready"]])("fails when it moves on to %s", (...phases) => {
    expect(held(phases).status).toBe("failed");
  });
});
