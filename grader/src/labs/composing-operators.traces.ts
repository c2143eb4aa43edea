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
const DATABASE_SPEC = {
  image: "postgres:14",
  replicas: 1,
  databaseName: "db",
  username: "admin",
  storage: { size: "1Gi" },
};

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
  return kubeObject("Backup", name, {
    spec: { databaseRef: { name: databaseName }, retention: 5 },
    ...(status ? { status } : {}),
  });
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
const waitingForBackup: Status = {
  conditions: [condition("Progressing", "False", "WaitingForBackup", "Waiting for backup to be ready")],
};

/** The Database controller's walk to Ready (unset → Provisioning → … → Ready), children included. */
export function provision(
  t: TraceBuilder,
  name: string,
  start: number,
  options: {
    backupRef?: string;
    failOnce?: boolean;
    /** Its pod never runs (a quota of no pods): it stays Deploying. */ neverReady?: boolean;
  } = {},
): number {
  const db = (status?: Status) => database(name, status, options.backupRef ? { backupRef: options.backupRef } : {});
  let at = start;
  t.at(at).modify(db({ phase: "Provisioning" }));
  t.at((at += 2)).add(kubeObject("Secret", `${name}-credentials`, {}, "v1"));
  t.at((at += 1)).add(kubeObject("StatefulSet", name, { status: { readyReplicas: 0 } }, "apps/v1"));
  if (options.failOnce) {
    // Observed: a stale cache read fails the StatefulSet create; Failed → Pending → … recovers.
    t.at((at += 5))
      .modify(db({ phase: "Failed" }))
      .at((at += 100))
      .modify(db({ phase: "Pending" }))
      .at((at += 5))
      .modify(db({ phase: "Provisioning" }));
  }
  t.at((at += 5)).modify(db({ phase: "Configuring" }));
  t.at((at += 1)).add(kubeObject("Service", name, {}, "v1"));
  t.at((at += 5)).modify(
    db({ phase: "Deploying", conditions: [condition("Progressing", "True", "WaitingForReplicas")] }),
  );
  if (options.neverReady) return Number.POSITIVE_INFINITY;
  at += 300;
  t.at(at).modify(kubeObject("StatefulSet", name, { status: { readyReplicas: 1 } }, "apps/v1"));
  t.at((at += 5)).modify(db({ phase: "Verifying" }));
  t.at((at += 5)).modify(
    db({ phase: "Ready", ready: true, conditions: [condition("Ready", "True", "AllChecksPassed")] }),
  );
  return at;
}

export interface BackupFlaws {
  /** Backs up without waiting for the Database at all. */
  ignoresDatabase?: boolean;
  /** Backs up as soon as the Database exists, Ready or not. */
  ignoresReadiness?: boolean;
  /** Sets Pending but never requeues. */
  noRequeue?: boolean;
  /** Takes a new backup at every poll instead of leaving a Completed Backup alone. */
  rerunsCompleted?: boolean;
  /** Rewrites a Completed Backup's condition message now and then, without taking a new backup. */
  touchesCompleted?: boolean;
  /** Writes Completed from a stale copy: the write conflicts and the Backup stays InProgress for good. */
  staleConflict?: boolean;
  /** Its controllers do nothing at all. */
  idle?: boolean;
  /** Stores backups elsewhere than the solution's s3://backups/… */
  ownLocation?: boolean;
}

const inProgress: Status = { phase: "InProgress", conditions: [condition("BackupReady", "False", "BackupInProgress")] };

/** The Backup controller backing up: InProgress, then Completed 6 ms later (or stuck, with its conflict logged). */
function backUp(
  t: TraceBuilder,
  b: (status?: Status) => KubeObject,
  at: number,
  completed: Status,
  flaws: BackupFlaws,
): void {
  t.at(at).modify(b(inProgress));
  if (flaws.staleConflict) {
    t.log(`INFO Conflict updating backup status, requeuing {"backup": "${b().metadata.name}"}`);
    return;
  }
  t.at(at + 6).modify(b(completed));
}

const located = (ns: string, db: string, flaws: BackupFlaws): Status =>
  flaws.ownLocation
    ? { ...completedBackup(ns, db), backupLocation: `gs://pg-backups/${ns}/${db}/1767225610.dump` }
    : completedBackup(ns, db);

/** Scenario backup-waits-for-missing-database. */
export function missingDatabaseRun(flaws: BackupFlaws = {}, ns = "ns"): ScenarioRun {
  // Steps: watch 0, apply Backup 100, checks 200, apply Database 300, checks 400.
  const t = createTraceBuilder();
  const b = (status?: Status) => backup("orders-backup", "orders", status);
  t.at(100).add(b());
  if (flaws.ignoresDatabase) t.at(110).modify(b(located(ns, "orders", flaws)));
  else if (!flaws.idle) t.at(110).modify(b(pendingBackup("DatabaseNotFound")));
  t.at(300).add(database("orders"));
  // Observed: a stale cache read may fail the StatefulSet create; Failed → Pending → … recovers.
  if (!flaws.idle) provision(t, "orders", 305, { failOnce: true });
  if (!flaws.ignoresDatabase && !flaws.noRequeue && !flaws.idle)
    backUp(t, b, 10_110, located(ns, "orders", flaws), flaws);
  return { trace: t.trace(), steps: [0, 100, 200, 300, 400], end: 30_000 };
}

/** Scenario backup-waits-while-database-not-ready: the namespace's quota keeps the Database's pod from ever running. */
export function heldDatabaseRun(flaws: BackupFlaws = {}, ns = "ns"): ScenarioRun {
  // Steps: apply quota 0, apply Database 100, apply Backup 200, checks 300, checks (12 s window) 400.
  const t = createTraceBuilder();
  const b = (status?: Status) => backup("payments-backup", "payments", status);
  t.at(0).add(kubeObject("ResourceQuota", "no-pods", { spec: { hard: { pods: "0" } } }, "v1"));
  t.at(100).add(database("payments"));
  if (!flaws.idle) provision(t, "payments", 105, { neverReady: true });
  t.at(200).add(b());
  if (flaws.ignoresReadiness || flaws.ignoresDatabase) backUp(t, b, 210, located(ns, "payments", flaws), flaws);
  else if (!flaws.idle) t.at(210).modify(b(pendingBackup("DatabaseNotReady")));
  return { trace: t.trace(), steps: [0, 100, 200, 300, 400], end: 12_400 };
}

/** Scenario completed-backup-left-alone: a Ready Database, then its Backup. */
export function leftAloneRun(flaws: BackupFlaws = {}, ns = "ns"): ScenarioRun {
  // Steps: apply Database 0, checks 100, apply Backup 1 000, checks 1 100, checks (12 s window) 1 200.
  const t = createTraceBuilder();
  const b = (status?: Status) => backup("ledger-backup", "ledger", status);
  t.at(0).add(database("ledger"));
  if (!flaws.idle) provision(t, "ledger", 5);
  t.at(1_000).add(b());
  if (!flaws.idle) backUp(t, b, 1_011, located(ns, "ledger", flaws), flaws);
  if (flaws.rerunsCompleted) {
    t.at(11_017)
      .modify(b(inProgress))
      .at(11_023)
      .modify(b({ ...located(ns, "ledger", flaws), backupTime: "2026-01-01T00:00:21Z" }));
  }
  if (flaws.touchesCompleted) {
    const done = located(ns, "ledger", flaws);
    t.at(6_000).modify(
      b({
        ...done,
        conditions: [condition("BackupReady", "True", "BackupCompleted", "Backup completed and verified")],
      }),
    );
  }
  return { trace: t.trace(), steps: [0, 100, 1_000, 1_100, 1_200], end: 13_200 };
}

export interface GateFlaws {
  /** Provisions a Database without looking at its backupRef. */
  noGate?: boolean;
  /** Waits for the Backup but never requeues, so it waits forever. */
  noRequeue?: boolean;
  /** Lacks RBAC for Backups: logs "forbidden" while its cache tries to list them. */
  forbidden?: boolean;
  /** The Backup controller's stale write: the gate's Backup stays InProgress for good. */
  staleConflict?: boolean;
  /** The Database controller watches Backups and proceeds the moment its Backup completes. */
  watchesBackups?: boolean;
}

/** Scenario database-waits-for-backup: D2 gated on B before B exists; B waits for D1; D1 becomes Ready. */
export function gateRun(flaws: GateFlaws = {}, ns = "ns"): ScenarioRun {
  // Steps: watch 0, watch 0, apply D2 100, checks 200, apply B 300, apply D1 400, checks 500.
  const t = createTraceBuilder();
  const b = (status?: Status) => backup("inventory-backup", "inventory", status);
  if (flaws.forbidden)
    t.log(
      'E reflector.go: "backups.database.example.com is forbidden: User \\"system:serviceaccount:p:m\\" cannot list resource \\"backups\\""',
    );
  t.at(100).add(database("inventory-copy", undefined, { backupRef: "inventory-backup" }));
  if (flaws.noGate) {
    provision(t, "inventory-copy", 110, { backupRef: "inventory-backup" });
  } else {
    t.at(110).modify(database("inventory-copy", waitingForBackup, { backupRef: "inventory-backup" }));
    t.log('INFO Backup not found, waiting {"backup": "inventory-backup"}');
  }
  t.at(300)
    .add(b())
    .at(310)
    .modify(b(pendingBackup("DatabaseNotFound")));
  t.at(400).add(database("inventory"));
  provision(t, "inventory", 405);
  backUp(t, b, 10_310, completedBackup(ns, "inventory"), flaws);
  if (flaws.noGate || flaws.noRequeue || flaws.staleConflict)
    return { trace: t.trace(), steps: [0, 0, 100, 200, 300, 400, 500], end: 240_500 };
  // The gate's polls: at 10 110 the Backup is still Pending; at 20 110 it has completed (or at once, when watched).
  t.at(10_110).log('INFO Waiting for backup condition to be ready {"backup": "inventory-backup"}');
  provision(t, "inventory-copy", flaws.watchesBackups ? 10_320 : 20_110, { backupRef: "inventory-backup" });
  return { trace: t.trace(), steps: [0, 0, 100, 200, 300, 400, 500], end: 21_000 };
}

export interface TrustFlaws {
  /** The Task 2.2 gate: trusts phase Completed instead of BackupReady=True. */
  trustsPhase?: boolean;
  /** Its controllers do nothing at all. */
  idle?: boolean;
}

/** The grader's dry-run probe of its freeze policy, refused: the policy is in force. */
export function trustProbes(ns = "ns"): Record<string, ProbeResult> {
  return {
    "status-freeze-in-force": {
      kind: "admission",
      at: 10,
      accepted: false,
      message: `configmaps "labgrader-refusal-probe" is forbidden: ValidatingAdmissionPolicy '${ns}-frozen-backup' with binding '${ns}-frozen-backup' denied request: labgrader refuses this write: it keeps the forged Backup's status as the grader wrote it, to see what the Database does with it`,
    },
  };
}

/** Scenario database-trusts-condition: the forged Backup cannot be rewritten by any ServiceAccount. */
export function trustRun(flaws: TrustFlaws = {}): ScenarioRun {
  // Steps: apply policy 0, checks 10, apply B 100, patch 200, checks 300, apply D 400, checks 500.
  const t = createTraceBuilder();
  const b = (status?: Status) => backup("forged-backup", "missing-database", status);
  // The Backup controller's Pending write is refused by the grader's policy: no version of it.
  t.at(100).add(b());
  t.at(205).modify(b({ phase: "Completed" }));
  t.at(400).add(database("careful-db", undefined, { backupRef: "forged-backup" }));
  if (flaws.trustsPhase) provision(t, "careful-db", 410, { backupRef: "forged-backup" });
  else if (!flaws.idle) t.at(410).modify(database("careful-db", waitingForBackup, { backupRef: "forged-backup" }));
  return { trace: t.trace(), steps: [0, 10, 100, 200, 300, 400, 500], end: 17_500 };
}

export interface CleanupFlaws {
  /** The Backup is created after the Database is Ready (observed: it never shows Pending). */
  backupAfterReady?: boolean;
  /** The finalizer is never removed. */
  keepsFinalizer?: boolean;
  /** The StatefulSet lacks its owner reference, and the finalizer does not delete it either. */
  noOwnerReferences?: boolean;
  /** Children with names of the learner's own. */
  ownNames?: boolean;
}

/** Scenario walkthrough (Tasks 4.2-4.3 and Cleanup). */
export function walkthroughRun(flaws: CleanupFlaws = {}, ns = "ns"): ScenarioRun {
  const t = createTraceBuilder();
  const b = (status?: Status) => backup("my-database-backup", "my-database", status);
  const owned = {
    ownerReferences: [
      {
        apiVersion: "database.example.com/v1",
        kind: "Database",
        name: "my-database",
        uid: "uid-Database-my-database",
        controller: true,
      },
    ],
  };
  const names = flaws.ownNames
    ? { secret: "my-database-auth", sts: "my-database-pg", svc: "my-database-db" }
    : { secret: "my-database-credentials", sts: "my-database", svc: "my-database" };
  t.at(100).add(database("my-database"));
  t.at(105).modify(database("my-database", { phase: "Provisioning" }));
  t.at(107).add(kubeObject("Secret", names.secret, { metadata: owned }, "v1"));
  t.at(108).add(
    kubeObject(
      "StatefulSet",
      names.sts,
      { status: { readyReplicas: 0 }, metadata: flaws.noOwnerReferences ? {} : owned },
      "apps/v1",
    ),
  );
  t.at(113).modify(database("my-database", { phase: "Configuring" }));
  t.at(114).add(kubeObject("Service", names.svc, { metadata: owned }, "v1"));
  t.at(119).modify(database("my-database", { phase: "Deploying" }));
  t.at(419).modify(
    kubeObject(
      "StatefulSet",
      names.sts,
      { status: { readyReplicas: 1 }, metadata: flaws.noOwnerReferences ? {} : owned },
      "apps/v1",
    ),
  );
  t.at(429).modify(
    database("my-database", {
      phase: "Ready",
      ready: true,
      conditions: [condition("Ready", "True", "AllChecksPassed")],
    }),
  );
  const ready = 429;
  const created = flaws.backupAfterReady ? ready + 50 : 150;
  t.at(created).add(b());
  if (flaws.backupAfterReady) {
    t.at(created + 11)
      .modify(b({ phase: "InProgress" }))
      .at(created + 16)
      .modify(b(completedBackup(ns, "my-database")));
  } else {
    t.at(160).modify(b(pendingBackup("DatabaseNotReady")));
    t.at(10_160)
      .modify(b({ phase: "InProgress" }))
      .at(10_165)
      .modify(b(completedBackup(ns, "my-database")));
  }
  const readyDb = { phase: "Ready", ready: true };
  t.at(10_200).modify(database("my-database", readyDb, { deletion: "requested" }));
  if (!flaws.keepsFinalizer) {
    const finalized = database("my-database", readyDb, { deletion: "finalized" });
    t.at(10_210).modify(finalized).delete(finalized);
    // The garbage collector removes what names my-database as its owner.
    t.at(10_300).delete(kubeObject("Secret", names.secret, { metadata: owned }, "v1"));
    if (!flaws.noOwnerReferences)
      t.at(10_301).delete(kubeObject("StatefulSet", names.sts, { metadata: owned }, "apps/v1"));
    t.at(10_302).delete(kubeObject("Service", names.svc, { metadata: owned }, "v1"));
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
    spec: {
      group: "database.example.com",
      names: { kind, plural },
      scope: "Namespaced",
      versions: [{ name: "v1", served: true, storage: true, ...version }],
    },
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
              databaseRef: {
                type: "object",
                properties: { name: { type: "string", default: "" } },
                "x-kubernetes-map-type": "atomic",
              },
              retention,
              schedule: { type: "string" },
            },
          },
          status: {
            type: "object",
            properties: { phase: { type: "string", enum: ["Pending", "InProgress", "Completed", "Failed"] } },
          },
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
        properties: {
          spec: {
            type: "object",
            required: ["image", "storage"],
            properties: { image: { type: "string" }, ...(flaws.noBackupRef ? {} : { backupRef }) },
          },
        },
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
  const access = (allowed: boolean): ProbeResult => ({
    kind: "access",
    at: 50,
    allowed,
    reason: allowed ? "RBAC: allowed by ClusterRoleBinding" : "",
  });
  return {
    "admission-rejects-retention-zero": flaws.bareRetention
      ? accepted({ databaseRef: { name: "some-database" }, retention: 0 })
      : {
          kind: "admission",
          at: 50,
          accepted: false,
          message: `Backup.database.example.com "retention-zero" is invalid: spec.retention: Invalid value: 0: spec.retention in body should be greater than or equal to 1 (namespace ${ns})`,
        },
    "admission-rejects-missing-databaseref": {
      kind: "admission",
      at: 50,
      accepted: false,
      message: 'Backup.database.example.com "no-database-ref" is invalid: spec.databaseRef: Required value',
    },
    "admission-defaults-retention": accepted(
      flaws.bareRetention
        ? { databaseRef: { name: "some-database" } }
        : { databaseRef: { name: "some-database" }, retention: 5 },
    ),
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
