import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import type { FinalVerdict } from "../engine/check.ts";
import { renderScenario } from "../engine/render.ts";
import { replayCheck } from "../engine/replay.ts";
import type { KubeObject, ProbeResult } from "../engine/trace.ts";
import { createTraceBuilder } from "../engine/trace-builder.ts";
import {
  apiProbes,
  apiRun,
  backupWaitsRun,
  gateRun,
  trustRun,
  walkthroughRun,
  type ScenarioRun,
} from "./composing-operators.traces.ts";
import { loadLab } from "./load.ts";

const lab = await loadLab("composing-operators");

/** Every check of a scenario, replayed as the runner evaluates it: foreground checks until their timeout, watches until the end. */
function grade(scenarioId: string, run: ScenarioRun, probes: Record<string, ProbeResult> = {}): Map<string, FinalVerdict> {
  const scenario = renderScenario(lab, scenarioId, { namespace: "ns", attempt: "1" });
  const verdicts = new Map<string, FinalVerdict>();
  scenario.steps.forEach((step, i) => {
    if (step.action !== "checks" && step.action !== "watch") return;
    const since = run.steps[i];
    if (since === undefined) throw new Error(`run of ${scenarioId} has no start for step ${i}`);
    for (const check of step.checks) {
      const deadline = step.action === "watch" ? run.end : since + check.timeoutMs;
      const probe = probes[check.id];
      verdicts.set(check.id, replayCheck(check, run.trace, { namespace: "ns", since, deadline, ...(probe ? { probe } : {}) }));
    }
  });
  return verdicts;
}

function failedIds(verdicts: Map<string, FinalVerdict>): string[] {
  return [...verdicts].filter(([, v]) => v.status === "failed").map(([id]) => id).sort();
}

function explain(verdicts: Map<string, FinalVerdict>): string {
  return [...verdicts]
    .filter(([, v]) => v.status === "failed")
    .map(([id, v]) => (v.status === "failed" ? `${id}: expected ${v.expected}; actual ${v.actual}` : id))
    .join("\n");
}

describe("lab composing-operators", () => {
  it("starts every check in exactly one scenario", () => {
    const started = lab.scenarios.flatMap((s) => s.steps.flatMap((step) => ("checks" in step ? step.checks : "watch" in step ? step.watch : [])));
    expect(started.sort()).toEqual(lab.checks.map((c) => c.id).sort());
  });

  it("has a check for every task of the lab", () => {
    expect(lab.tasks.map((t) => t.id)).toEqual(["1.2", "1.3", "1.4", "2.1", "2.2", "3.1", "3.2", "4.2", "4.3", "cleanup"]);
  });

  // The course's own solution, as observed, must get full marks — advisory checks included.
  it.each([
    { name: "api", scenario: "api", run: apiRun(), probes: apiProbes() },
    { name: "a Backup waiting for its Database (the Database passes through Failed)", scenario: "backup-waits-for-database", run: backupWaitsRun() },
    { name: "a Database gated on a Backup (phase unset while gated)", scenario: "database-waits-for-backup", run: gateRun() },
    { name: "a forged Backup status the operator leaves alone", scenario: "database-trusts-condition", run: trustRun() },
    { name: "a forged Backup status rewritten at the next poll", scenario: "database-trusts-condition", run: trustRun({ rewritesForgedStatus: true }) },
    { name: "the walkthrough (PVCs left behind)", scenario: "walkthrough", run: walkthroughRun() },
    { name: "the walkthrough with a Backup created after the Database is Ready", scenario: "walkthrough", run: walkthroughRun({ backupAfterReady: true }) },
  ])("gives the course's solution full marks: $name", ({ scenario, run, probes }) => {
    const verdicts = grade(scenario, run, probes);
    expect(explain(verdicts)).toBe("");
    expect(verdicts.size).toBeGreaterThan(0);
  });

  it.each([
    {
      name: "a Backup that completes without waiting for its Database",
      scenario: "backup-waits-for-database",
      run: backupWaitsRun({ ignoresDatabase: true }),
      failed: ["backup-never-completed-early", "backup-pending-then-completed", "backup-pending-without-database", "backup-reason-database-not-found", "backup-waits-while-database-not-ready"],
    },
    {
      name: "a Backup that completes once its Database exists, Ready or not",
      scenario: "backup-waits-for-database",
      run: backupWaitsRun({ ignoresReadiness: true }),
      failed: ["backup-never-completed-early", "backup-waits-while-database-not-ready"],
    },
    {
      name: "a Backup that never polls again after Pending",
      scenario: "backup-waits-for-database",
      run: backupWaitsRun({ noRequeue: true }),
      failed: ["backup-completed-fields", "backup-pending-then-completed", "backup-ready-condition", "completed-backup-left-alone"],
    },
    {
      name: "a Backup controller that re-runs completed backups",
      scenario: "backup-waits-for-database",
      run: backupWaitsRun({ rerunsCompleted: true }),
      failed: ["completed-backup-left-alone"],
    },
    {
      name: "a Database controller without the backup gate",
      scenario: "database-waits-for-backup",
      run: gateRun({ noGate: true }),
      failed: ["backup-wait-logged", "gated-database-not-provisioned-early", "gated-database-waits-for-backup"],
    },
    {
      name: "a gate that never re-checks",
      scenario: "database-waits-for-backup",
      run: gateRun({ noRequeue: true }),
      failed: ["backup-wait-logged", "gated-database-proceeds"],
    },
    {
      name: "an operator denied access to Backups",
      scenario: "database-waits-for-backup",
      run: gateRun({ forbidden: true }),
      failed: ["operator-no-forbidden-errors"],
    },
    {
      name: "a gate that trusts the phase (Task 2.2's version)",
      scenario: "database-trusts-condition",
      run: trustRun({ trustsPhase: true }),
      failed: ["database-trusts-condition-not-phase"],
    },
    {
      name: "a finalizer that is never removed",
      scenario: "walkthrough",
      run: walkthroughRun({ keepsFinalizer: true }),
      failed: ["cleanup-database-removed"],
    },
    {
      name: "children without owner references",
      scenario: "walkthrough",
      run: walkthroughRun({ noOwnerReferences: true }),
      failed: ["cleanup-database-removed"],
    },
  ])("catches $name", ({ scenario, run, failed }) => {
    expect(failedIds(grade(scenario, run))).toEqual(failed);
  });

  it("passes the CRD checks on the CRDs controller-gen generated for operator/", async () => {
    const t = createTraceBuilder().at(0);
    for (const plural of ["backups", "databases"]) {
      const file = new URL(`../../../operator/config/crd/bases/database.example.com_${plural}.yaml`, import.meta.url);
      t.add(parse(await readFile(file, "utf8")) as KubeObject);
    }
    const verdicts = grade("api", { trace: t.trace(), steps: [10], end: 40_010 }, apiProbes());
    expect(explain(verdicts)).toBe("");
  });

  it.each([
    { name: "retention without minimum and default", flaws: { bareRetention: true }, failed: ["admission-defaults-retention", "admission-rejects-retention-zero", "backup-schema-retention"] },
    { name: "no status subresource", flaws: { noStatusSubresource: true }, failed: ["backup-crd-status-subresource"] },
    { name: "no backups rbac for the cache", flaws: { noBackupRbac: true }, failed: ["operator-can-list-backups", "operator-can-watch-backups"] },
    { name: "no backupRef on Database", flaws: { noBackupRef: true }, failed: ["database-crd-backupref"] },
  ])("catches an API with $name", ({ flaws, failed }) => {
    expect(failedIds(grade("api", apiRun(flaws), apiProbes(flaws)))).toEqual(failed);
  });

  it("tells a learner what went wrong with a phase-trusting gate", () => {
    const verdict = grade("database-trusts-condition", trustRun({ trustsPhase: true })).get("database-trusts-condition-not-phase");
    expect(verdict?.status).toBe("failed");
    if (verdict?.status !== "failed") return;
    expect(verdict.actual).toMatch(/^Database careful-db was phase=\w+.* while Backup forged-backup was phase=Completed/);
    expect(verdict.evidence.timeline.some((row) => row.kind === "Backup" && row.summary === "phase=Completed")).toBe(true);
  });
});
