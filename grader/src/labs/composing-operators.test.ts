import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import type { FinalVerdict } from "../engine/check.ts";
import { renderScenario } from "../engine/render.ts";
import { replayCheck } from "../engine/replay.ts";
import type { KubeObject, ProbeResult } from "../engine/trace.ts";
import { createTraceBuilder } from "../engine/trace-builder.ts";
import { rootCauses } from "../engine/causes.ts";
import {
  apiProbes,
  apiRun,
  gateRun,
  heldDatabaseRun,
  leftAloneRun,
  missingDatabaseRun,
  trustProbes,
  trustRun,
  walkthroughRun,
  type ScenarioRun,
} from "./composing-operators.traces.ts";
import { loadLab } from "./load.ts";

const lab = await loadLab("composing-operators");
const GRADER_PROBES = trustProbes();

/**
 * Every check of a scenario, replayed as the runner evaluates it: foreground checks until their
 * timeout, watches until the end; a passed check whose requirements did not pass is not earned.
 */
function grade(
  scenarioId: string,
  run: ScenarioRun,
  probes: Record<string, ProbeResult> = {},
): Map<string, FinalVerdict> {
  const scenario = renderScenario(lab, scenarioId, { namespace: "ns", attempt: "1" });
  if (run.steps.length !== scenario.steps.length)
    throw new Error(`run of ${scenarioId} has ${run.steps.length} step starts for ${scenario.steps.length} steps`);
  const verdicts = new Map<string, FinalVerdict>();
  const requires = new Map<string, string[]>();
  scenario.steps.forEach((step, i) => {
    if (step.action !== "checks" && step.action !== "watch") return;
    const since = run.steps[i]!;
    for (const check of step.checks) {
      const deadline = step.action === "watch" ? run.end : since + check.timeoutMs;
      // The grader's own probes answer as they do once its policies are in force, unless a test says otherwise.
      const probe = probes[check.id] ?? GRADER_PROBES[check.id];
      verdicts.set(
        check.id,
        replayCheck(check, run.trace, { namespace: "ns", since, deadline, ...(probe ? { probe } : {}) }),
      );
      requires.set(check.id, check.requires);
    }
  });
  for (const [id, needed] of requires) {
    const verdict = verdicts.get(id)!;
    const missing = needed.filter((r) => verdicts.get(r)?.status !== "passed");
    if (verdict.status === "passed" && missing.length > 0) {
      verdicts.set(id, {
        status: "failed",
        message: "not earned",
        expected: `${missing.join(", ")} passed`,
        actual: "not passed",
        decidedAt: verdict.decidedAt,
        evidence: verdict.evidence,
      });
    }
  }
  return verdicts;
}

function failedIds(verdicts: Map<string, FinalVerdict>): string[] {
  return [...verdicts]
    .filter(([, v]) => v.status === "failed")
    .map(([id]) => id)
    .sort();
}

function explain(verdicts: Map<string, FinalVerdict>): string {
  return [...verdicts]
    .filter(([, v]) => v.status === "failed")
    .map(([id, v]) => (v.status === "failed" ? `${id}: expected ${v.expected}; actual ${v.actual}` : id))
    .join("\n");
}

describe("lab composing-operators", () => {
  it("starts every check in exactly one scenario", () => {
    const started = lab.scenarios.flatMap((s) =>
      s.steps.flatMap((step) => ("checks" in step ? step.checks : "watch" in step ? step.watch : [])),
    );
    expect(started.sort()).toEqual(lab.checks.map((c) => c.id).sort());
  });

  it("has a check for every task of the lab", () => {
    expect(lab.tasks.map((t) => t.id)).toEqual([
      "1.2",
      "1.3",
      "1.4",
      "2.1",
      "2.2",
      "3.1",
      "3.2",
      "4.2",
      "4.3",
      "cleanup",
    ]);
  });

  // The course's own solution, as observed, must get full marks — advisory checks included; and
  // correct operators written differently must lose no required point.
  it.each([
    { name: "api", scenario: "api", run: apiRun(), probes: apiProbes() },
    {
      name: "a Backup waiting for a missing Database (which then passes through Failed)",
      scenario: "backup-waits-for-missing-database",
      run: missingDatabaseRun(),
    },
    {
      name: "a Backup meeting a Database held short of Ready",
      scenario: "backup-waits-while-database-not-ready",
      run: heldDatabaseRun(),
    },
    { name: "a completed Backup left alone", scenario: "completed-backup-left-alone", run: leftAloneRun() },
    {
      name: "a Database gated on a missing, then pending Backup (phase unset while gated)",
      scenario: "database-waits-for-backup",
      run: gateRun(),
    },
    {
      name: "a forged Backup status the policy keeps as written",
      scenario: "database-trusts-condition",
      run: trustRun(),
    },
    { name: "the walkthrough (PVCs left behind)", scenario: "walkthrough", run: walkthroughRun() },
    {
      name: "the walkthrough with a Backup created after the Database is Ready",
      scenario: "walkthrough",
      run: walkthroughRun({ backupAfterReady: true }),
    },
  ])("gives the course's solution full marks: $name", ({ scenario, run, probes }) => {
    const verdicts = grade(scenario, run, probes);
    expect(explain(verdicts)).toBe("");
    expect(verdicts.size).toBeGreaterThan(0);
  });

  it.each([
    {
      name: "a completed Backup's condition rewritten without a new backup",
      scenario: "completed-backup-left-alone",
      run: leftAloneRun({ touchesCompleted: true }),
    },
    {
      name: "a gate that watches Backups and proceeds at once",
      scenario: "database-waits-for-backup",
      run: gateRun({ watchesBackups: true }),
    },
    {
      name: "children with names of the learner's own",
      scenario: "walkthrough",
      run: walkthroughRun({ ownNames: true }),
    },
  ])("loses no required point for a correct variation: $name", ({ scenario, run }) => {
    const verdicts = grade(scenario, run);
    const required = new Set(lab.checks.filter((c) => c.severity === "required").map((c) => c.id));
    expect(failedIds(verdicts).filter((id) => required.has(id))).toEqual([]);
  });

  it("accepts a backup stored elsewhere, with only the advisory format check failing", () => {
    expect(failedIds(grade("backup-waits-for-missing-database", missingDatabaseRun({ ownLocation: true })))).toEqual([
      "backup-location-format",
    ]);
  });

  it.each([
    {
      name: "a Backup that completes without waiting for its Database",
      scenario: "backup-waits-for-missing-database",
      run: missingDatabaseRun({ ignoresDatabase: true }),
      failed: [
        "backup-never-completed-early",
        "backup-pending-then-completed",
        "backup-pending-without-database",
        "backup-reason-database-not-found",
      ],
    },
    {
      name: "a Backup that completes once its Database exists, Ready or not",
      scenario: "backup-waits-while-database-not-ready",
      run: heldDatabaseRun({ ignoresReadiness: true }),
      failed: ["backup-pending-while-database-not-ready", "backup-waits-while-database-not-ready"],
    },
    {
      name: "a Backup that never polls again after Pending",
      scenario: "backup-waits-for-missing-database",
      run: missingDatabaseRun({ noRequeue: true }),
      failed: [
        "backup-completed-fields",
        "backup-location-format",
        "backup-pending-then-completed",
        "backup-ready-condition",
      ],
    },
    {
      name: "a Backup controller that re-runs completed backups",
      scenario: "completed-backup-left-alone",
      run: leftAloneRun({ rerunsCompleted: true }),
      failed: ["completed-backup-left-alone"],
    },
    {
      name: "a Completed write from a stale copy (the Backup stays InProgress)",
      scenario: "completed-backup-left-alone",
      run: leftAloneRun({ staleConflict: true }),
      failed: ["backup-of-ready-database-completes", "completed-backup-left-alone"],
    },
    {
      name: "an idle Backup controller meeting a missing Database (its safety is not earned)",
      scenario: "backup-waits-for-missing-database",
      run: missingDatabaseRun({ idle: true }),
      failed: [
        "backup-completed-fields",
        "backup-location-format",
        "backup-never-completed-early",
        "backup-pending-then-completed",
        "backup-pending-without-database",
        "backup-ready-condition",
        "backup-reason-database-not-found",
      ],
    },
    {
      name: "an idle Backup controller meeting a Database that is not Ready",
      scenario: "backup-waits-while-database-not-ready",
      run: heldDatabaseRun({ idle: true }),
      failed: ["backup-pending-while-database-not-ready", "backup-waits-while-database-not-ready"],
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
      failed: ["gated-database-proceeds"],
    },
    {
      name: "a gate's Backup stuck InProgress after a stale write: charged to Task 1.4 as well",
      scenario: "database-waits-for-backup",
      run: gateRun({ staleConflict: true }),
      failed: ["gate-backup-completes", "gated-database-proceeds"],
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
      failed: ["careful-database-waits", "database-trusts-condition-not-phase"],
    },
    {
      name: "an idle Database controller beside a forged Backup (its safety is not earned)",
      scenario: "database-trusts-condition",
      run: trustRun({ idle: true }),
      failed: ["careful-database-waits", "database-trusts-condition-not-phase"],
    },
    {
      name: "a finalizer that is never removed",
      scenario: "walkthrough",
      run: walkthroughRun({ keepsFinalizer: true }),
      failed: ["cleanup-database-removed"],
    },
    {
      name: "a child without owner reference, left behind",
      scenario: "walkthrough",
      run: walkthroughRun({ noOwnerReferences: true }),
      failed: ["cleanup-database-removed"],
    },
  ])("catches $name", ({ scenario, run, failed }) => {
    expect(failedIds(grade(scenario, run))).toEqual(failed);
  });

  it("names the root cause when a gated Database waits on a Backup stuck InProgress", () => {
    const run = gateRun({ staleConflict: true });
    const scenario = renderScenario(lab, "database-waits-for-backup", { namespace: "ns", attempt: "1" });
    const check = scenario.steps
      .flatMap((s) => (s.action === "checks" ? s.checks : []))
      .find((c) => c.id === "gated-database-proceeds")!;
    expect(rootCauses(check.waitsFor, run.trace, "ns", run.end).join("\n")).toMatch(
      /^Backup inventory-backup never reached phase Completed with BackupReady=True: it stayed phase=InProgress BackupReady=False\/BackupInProgress from 10\.3 s .*\(Task 1\.4\); the operator logged at 10\.3 s: INFO Conflict updating backup status/,
    );
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
    {
      name: "retention without minimum and default",
      flaws: { bareRetention: true },
      failed: ["admission-defaults-retention", "admission-rejects-retention-zero", "backup-schema-retention"],
    },
    { name: "no status subresource", flaws: { noStatusSubresource: true }, failed: ["backup-crd-status-subresource"] },
    {
      name: "no backups rbac for the cache",
      flaws: { noBackupRbac: true },
      failed: ["operator-can-list-backups", "operator-can-watch-backups"],
    },
    { name: "no backupRef on Database", flaws: { noBackupRef: true }, failed: ["database-crd-backupref"] },
  ])("catches an API with $name", ({ flaws, failed }) => {
    expect(failedIds(grade("api", apiRun(flaws), apiProbes(flaws)))).toEqual(failed);
  });

  it("tells a learner what went wrong with a phase-trusting gate", () => {
    const verdict = grade("database-trusts-condition", trustRun({ trustsPhase: true })).get(
      "database-trusts-condition-not-phase",
    );
    expect(verdict?.status).toBe("failed");
    if (verdict?.status !== "failed") return;
    expect(verdict.actual).toMatch(
      /^Database careful-db was phase=\w+.* while Backup forged-backup was phase=Completed/,
    );
    expect(verdict.evidence.timeline.some((row) => row.kind === "Backup" && row.summary === "phase=Completed")).toBe(
      true,
    );
  });
});
