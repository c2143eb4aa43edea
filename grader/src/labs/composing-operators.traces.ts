import type { KubeObject, ProbeResult, Trace } from "../engine/trace.ts";
import { condition, createTraceBuilder, kubeObject, type TraceBuilder } from "../engine/trace-builder.ts";

/**
 * Traces of Lab 8.2's scenarios as the course's own solution produces them (timings from the
 * reference-operator facts, "Observed" section), with switches for the mistakes learners make.
 * Each comes with the time each scenario step started and when the scenario ended.
 */
export interface ScenarioRun {
  trace: Trace;
  /** Start of each step, in the scenario's step order (ms). */
  steps: number[];
  end: number;
}

const FINALIZER = "database.example.com/finalizer";
const DATABASE_SPEC = { image: "postgres:14", replicas: 1, databaseName: "db", username: "admin", storage: { size: "1Gi" } };

type Status = Record<string, unknown>;

interface DatabaseOptions {
  backupRef?: string;
  /** requested: deletionTimestamp set, finalizer still there; finalized: the finalizer removed. */
  deletion?: "requested" | "finalized";
}

export function database(name: string, status?: Status, options: DatabaseOptions = {}): KubeObject {
  const spec = options.backupRef ? { ...DATABASE_SPEC, backupRef: { name: options.backupRef } } : DATABASE_SPEC;
  return kubeObject("Database", name, {
    spec,
    ...(status ? { status } : {}),
    metadata: {
      finalizers: options.deletion === "finalized" ? [] : [FINALIZER],
      ...(options.deletion ? { deletionTimestamp: "2026-01-01T00:10:00Z" } : {}),
    },
  });
}

export function backup(name: string, databaseName: string, status?: Status): KubeObject {
  return kubeObject("Backup", name, { spec: { databaseRef: { name: databaseName }, retention: 5 }, ...(status ? { status } : {}) });
}

export const pendingBackup = (reason: "DatabaseNotFound" | "DatabaseNotReady"): Status => ({
  phase: "Pending",
  conditions: [condition("BackupReady", "False", reason)],
});
export const completedBackup = (namespace: string, databaseName: string): Status => ({
  phase: "Completed",
  backupTime: "2026-01-01T00:00:10Z",
  backupLocation: `s3://backups/${namespace}/${databaseName}-20260101-000010.sql`,
  conditions: [condition("BackupReady", "True", "BackupCompleted", "Backup completed successfully")],
});
const waitingForBackup: Status = { conditions: [condition("Progressing", "False", "WaitingForBackup", "Waiting for backup to be ready")] };

/** The Database controller's walk to Ready (unset → Provisioning → … → Ready), children included. */
export function provision(
  t: TraceBuilder,
  name: string,
  start: number,
  options: { backupRef?: string; failOnce?: boolean; /** The pod becomes Ready only then (its volume is held back). */ readyAt?: number } = {},
): number {
  const db = (status?: Status) => database(name, status, options.backupRef ? { backupRef: options.backupRef } : {});
  let at = start;
  t.at(at).modify(db({ phase: "Provisioning" }));
  t.at((at += 2)).add(kubeObject("Secret", `${name}-credentials`, {}, "v1"));
  t.at((at += 1)).add(kubeObject("StatefulSet", name, { status: { readyReplicas: 0 } }, "apps/v1"));
  if (options.failOnce) {
    // Observed: a stale cache read fails the StatefulSet create; Failed → Pending → … recovers.
    t.at((at += 5)).modify(db({ phase: "Failed" })).at((at += 100)).modify(db({ phase: "Pending" })).at((at += 5)).modify(db({ phase: "Provisioning" }));
  }
  t.at((at += 5)).modify(db({ phase: "Configuring" }));
  t.at((at += 1)).add(kubeObject("Service", name, {}, "v1"));
  t.at((at += 5)).modify(db({ phase: "Deploying", conditions: [condition("Progressing", "True", "WaitingForReplicas")] }));
  at = Math.max(at + 300, options.readyAt ?? 0);
  t.at(at).modify(kubeObject("StatefulSet", name, { status: { readyReplicas: 1 } }, "apps/v1"));
  t.at((at += 5)).modify(db({ phase: "Verifying" }));
  t.at((at += 5)).modify(db({ phase: "Ready", ready: true, conditions: [condition("Ready", "True", "AllChecksPassed")] }));
  return at;
}

export interface BackupFlaws {
  /** Backs up without waiting for the Database at all. */
  ignoresDatabase?: boolean;
  /** Backs up as soon as the Database exists, Ready or not (reacting to the Database's creation). */
  ignoresReadiness?: boolean;
  /** Sets Pending but never requeues. */
  noRequeue?: boolean;
  /** Takes a new backup at every poll instead of leaving a Completed Backup alone. */
  rerunsCompleted?: boolean;
}

/** Scenario backup-waits-for-database. */
export function backupWaitsRun(flaws: BackupFlaws = {}, ns = "ns"): ScenarioRun {
  // Steps: watch 0, apply Backup 100, checks 200, apply Database 300, 25 s hold 400, release the volume 25 400,
  // checks 25 500, left-alone window from 40 200.
  const t = createTraceBuilder();
  const b = (status?: Status) => backup("orders-backup", "orders", status);
  const complete = (at: number) => t.at(at).modify(b({ phase: "InProgress", conditions: [condition("BackupReady", "False", "BackupInProgress")] })).at(at + 6).modify(b(completedBackup(ns, "orders")));
  t.at(100).add(b());
  if (flaws.ignoresDatabase) t.at(110).modify(b(completedBackup(ns, "orders")));
  else t.at(110).modify(b(pendingBackup("DatabaseNotFound")));
  t.at(300).add(database("orders"));
  // The Database exists from 300 but its volume is held back until the grader releases it at 25 400.
  const ready = provision(t, "orders", 305, { failOnce: true, readyAt: 25_600 });
  const polls = [10_110, 20_110, 30_110];
  if (flaws.ignoresReadiness) complete(polls[0]!);
  else if (!flaws.ignoresDatabase && !flaws.noRequeue) {
    t.at(polls[0]!).modify(b(pendingBackup("DatabaseNotReady")));
    complete(polls.find((p) => p > ready)!);
  }
  if (flaws.rerunsCompleted) {
    t.at(45_116).modify(b({ ...completedBackup(ns, "orders"), backupTime: "2026-01-01T00:00:45Z" }));
    t.at(55_116).modify(b({ ...completedBackup(ns, "orders"), backupTime: "2026-01-01T00:00:55Z" }));
  }
  return { trace: t.trace(), steps: [0, 100, 200, 300, 400, 25_400, 25_500, 40_200], end: 80_000 };
}

export interface GateFlaws {
  /** Provisions a Database without looking at its backupRef. */
  noGate?: boolean;
  /** Waits for the Backup but never requeues, so it waits forever. */
  noRequeue?: boolean;
  /** Lacks RBAC for Backups: logs "forbidden" while its cache tries to list them. */
  forbidden?: boolean;
}

/** Scenario database-waits-for-backup. */
export function gateRun(flaws: GateFlaws = {}, ns = "ns"): ScenarioRun {
  const t = createTraceBuilder();
  const b = (status?: Status) => backup("inventory-backup", "inventory", status);
  t.at(100).add(b()).at(110).modify(b(pendingBackup("DatabaseNotFound")));
  if (flaws.forbidden) t.log('E reflector.go: "backups.database.example.com is forbidden: User cannot list resource"');
  t.at(300).add(database("inventory-copy", undefined, { backupRef: "inventory-backup" }));
  if (flaws.noGate) {
    provision(t, "inventory-copy", 310, { backupRef: "inventory-backup" });
  } else {
    t.at(310).modify(database("inventory-copy", waitingForBackup, { backupRef: "inventory-backup" }));
    t.log('INFO Waiting for backup condition to be ready {"backup": "inventory-backup"}');
    if (!flaws.noRequeue) t.at(10_310).log('INFO Waiting for backup condition to be ready {"backup": "inventory-backup"}');
  }
  t.at(10_400).add(database("inventory"));
  provision(t, "inventory", 10_410);
  t.at(20_110).modify(b({ phase: "InProgress" })).at(20_116).modify(b(completedBackup(ns, "inventory")));
  if (!flaws.noGate && !flaws.noRequeue) provision(t, "inventory-copy", 20_310, { backupRef: "inventory-backup" });
  return { trace: t.trace(), steps: [0, 100, 200, 300, 400, 10_400, 10_500], end: 30_000 };
}

export interface TrustFlaws {
  /** The Task 2.2 gate: trusts phase Completed instead of BackupReady=True. */
  trustsPhase?: boolean;
  /** The Backup controller rewrites the forged status at its next poll (as the reference operator does). */
  rewritesForgedStatus?: boolean;
}

/** Scenario database-trusts-condition. */
export function trustRun(flaws: TrustFlaws = {}): ScenarioRun {
  const t = createTraceBuilder();
  const b = (status?: Status) => backup("forged-backup", "missing-database", status);
  t.at(100).add(b()).at(110).modify(b(pendingBackup("DatabaseNotFound")));
  t.at(305).modify(b({ phase: "Completed" }));
  t.at(500).add(database("careful-db", undefined, { backupRef: "forged-backup" }));
  if (flaws.trustsPhase) provision(t, "careful-db", 510, { backupRef: "forged-backup" });
  else t.at(510).modify(database("careful-db", waitingForBackup, { backupRef: "forged-backup" }));
  if (flaws.rewritesForgedStatus) t.at(10_110).modify(b(pendingBackup("DatabaseNotFound")));
  return { trace: t.trace(), steps: [100, 200, 300, 400, 500, 600], end: 30_600 };
}

export interface CleanupFlaws {
  /** The Backup is created after the Database is Ready (observed: it never shows Pending). */
  backupAfterReady?: boolean;
  /** The finalizer is never removed. */
  keepsFinalizer?: boolean;
  /** Children lack owner references, so nothing removes the StatefulSet. */
  noOwnerReferences?: boolean;
}

/** Scenario walkthrough (Tasks 4.2-4.3 and Cleanup). */
export function walkthroughRun(flaws: CleanupFlaws = {}, ns = "ns"): ScenarioRun {
  const t = createTraceBuilder();
  const b = (status?: Status) => backup("my-database-backup", "my-database", status);
  t.at(100).add(database("my-database"));
  const ready = provision(t, "my-database", 110);
  const created = flaws.backupAfterReady ? ready + 50 : 150;
  t.at(created).add(b());
  if (flaws.backupAfterReady) {
    t.at(created + 11).modify(b({ phase: "InProgress" })).at(created + 16).modify(b(completedBackup(ns, "my-database")));
  } else {
    t.at(160).modify(b(pendingBackup("DatabaseNotReady")));
    t.at(10_160).modify(b({ phase: "InProgress" })).at(10_165).modify(b(completedBackup(ns, "my-database")));
  }
  const readyDb = { phase: "Ready", ready: true };
  t.at(10_200).modify(database("my-database", readyDb, { deletion: "requested" }));
  if (!flaws.keepsFinalizer) {
    const finalized = database("my-database", readyDb, { deletion: "finalized" });
    t.at(10_210).modify(finalized).delete(finalized);
    t.at(10_300).delete(kubeObject("Secret", "my-database-credentials", {}, "v1"));
    if (!flaws.noOwnerReferences) t.at(10_301).delete(kubeObject("StatefulSet", "my-database", {}, "apps/v1"));
    t.at(10_302).delete(kubeObject("Service", "my-database", {}, "v1"));
  }
  t.at(10_400).delete(b(completedBackup(ns, "my-database")));
  return { trace: t.trace(), steps: [100, 150, 200, 10_200, 10_250, 10_400, 10_500], end: 10_600 };
}

export interface ApiFlaws {
  /** Retention without its Minimum and default markers. */
  bareRetention?: boolean;
  /** The subresource:status marker was dropped. */
  noStatusSubresource?: boolean;
  /** The Database controller's backups rbac marker is missing (and no other grants it). */
  noBackupRbac?: boolean;
  /** Task 2.1 not done: Database has no backupRef. */
  noBackupRef?: boolean;
}

function crd(plural: string, kind: string, version: Record<string, unknown>): KubeObject {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.database.example.com` },
    spec: { group: "database.example.com", names: { kind, plural }, scope: "Namespaced", versions: [{ name: "v1", served: true, storage: true, ...version }] },
  };
}

/** The CRDs as the course's markers generate them (Backup with its extra Schedule and Last Backup columns). */
export function apiCrds(flaws: ApiFlaws = {}): KubeObject[] {
  const retention = flaws.bareRetention ? { type: "integer" } : { type: "integer", minimum: 1, default: 5 };
  const backups = crd("backups", "Backup", {
    ...(flaws.noStatusSubresource ? {} : { subresources: { status: {} } }),
    additionalPrinterColumns: [
      { name: "Phase", type: "string", jsonPath: ".status.phase" },
      { name: "Database", type: "string", jsonPath: ".spec.databaseRef.name" },
      { name: "Schedule", type: "string", jsonPath: ".spec.schedule" },
      { name: "Last Backup", type: "date", jsonPath: ".status.backupTime" },
      { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
    ],
    schema: {
      openAPIV3Schema: {
        type: "object",
        properties: {
          spec: {
            type: "object",
            required: ["databaseRef"],
            properties: {
              databaseRef: { type: "object", properties: { name: { type: "string", default: "" } }, "x-kubernetes-map-type": "atomic" },
              retention,
              schedule: { type: "string" },
            },
          },
          status: { type: "object", properties: { phase: { type: "string", enum: ["Pending", "InProgress", "Completed", "Failed"] } } },
        },
      },
    },
  });
  const backupRef = { type: "object", properties: { name: { type: "string", default: "" } } };
  const databases = crd("databases", "Database", {
    subresources: { status: {} },
    schema: {
      openAPIV3Schema: {
        type: "object",
        properties: { spec: { type: "object", required: ["image", "storage"], properties: { image: { type: "string" }, ...(flaws.noBackupRef ? {} : { backupRef }) } } },
      },
    },
  });
  return [backups, databases];
}

/** What the API server answers to the lab's dry-run applies and access reviews for those CRDs and that RBAC. */
export function apiProbes(flaws: ApiFlaws = {}, ns = "ns"): Record<string, ProbeResult> {
  const accepted = (spec: Record<string, unknown>): ProbeResult => ({
    kind: "admission",
    at: 50,
    accepted: true,
    message: "",
    object: { ...backup("default-retention", "some-database"), spec },
  });
  const access = (allowed: boolean): ProbeResult => ({ kind: "access", at: 50, allowed, reason: allowed ? "RBAC: allowed by ClusterRoleBinding" : "" });
  return {
    "admission-rejects-retention-zero": flaws.bareRetention
      ? accepted({ databaseRef: { name: "some-database" }, retention: 0 })
      : { kind: "admission", at: 50, accepted: false, message: `Backup.database.example.com "retention-zero" is invalid: spec.retention: Invalid value: 0: spec.retention in body should be greater than or equal to 1 (namespace ${ns})` },
    "admission-rejects-missing-databaseref": { kind: "admission", at: 50, accepted: false, message: 'Backup.database.example.com "no-database-ref" is invalid: spec.databaseRef: Required value' },
    "admission-defaults-retention": accepted(flaws.bareRetention ? { databaseRef: { name: "some-database" } } : { databaseRef: { name: "some-database" }, retention: 5 }),
    "operator-can-get-backups": access(true),
    "operator-can-list-backups": access(!flaws.noBackupRbac),
    "operator-can-watch-backups": access(!flaws.noBackupRbac),
  };
}

/** Scenario api: the CRDs were installed before the scenario started. */
export function apiRun(flaws: ApiFlaws = {}): ScenarioRun {
  const t = createTraceBuilder().at(0);
  for (const object of apiCrds(flaws)) t.add(object);
  return { trace: t.trace(), steps: [10], end: 40_010 };
}
