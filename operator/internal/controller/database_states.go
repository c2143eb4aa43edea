/*
Copyright 2026.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package controller

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	databasev1 "github.com/example/postgres-operator/api/v1"
	"github.com/example/postgres-operator/internal/builder"
)

// One handler per phase. Each does its step, then moves the Database on with
// transition (RequeueAfter = phase delay) or parks it with a poll.

func (r *DatabaseReconciler) handlePending(ctx context.Context, db *databasev1.Database) (ctrl.Result, error) {
	return r.transition(ctx, db, databasev1.DatabasePhaseProvisioning, ReasonProvisioning,
		"Creating the credentials Secret and the StatefulSet")
}

func (r *DatabaseReconciler) handleProvisioning(ctx context.Context, db *databasev1.Database) (ctrl.Result, error) {
	if err := r.ensureSecret(ctx, db); err != nil {
		return r.fail(ctx, db, ReasonSecretFailed, err)
	}
	if err := r.ensureStatefulSet(ctx, db); err != nil {
		return r.fail(ctx, db, ReasonStatefulSetFailed, err)
	}
	return r.transition(ctx, db, databasev1.DatabasePhaseConfiguring, ReasonConfiguring, "Creating the Service")
}

func (r *DatabaseReconciler) handleConfiguring(ctx context.Context, db *databasev1.Database) (ctrl.Result, error) {
	if reprovision, res, err := r.reprovisionIfStale(ctx, db); reprovision {
		return res, err
	}
	if err := r.ensureService(ctx, db); err != nil {
		return r.fail(ctx, db, ReasonServiceFailed, err)
	}
	return r.transition(ctx, db, databasev1.DatabasePhaseDeploying, ReasonDeploying,
		"Waiting for the StatefulSet's replicas to become ready")
}

func (r *DatabaseReconciler) handleDeploying(ctx context.Context, db *databasev1.Database) (ctrl.Result, error) {
	if reprovision, res, err := r.reprovisionIfStale(ctx, db); reprovision {
		return res, err
	}
	sts := &appsv1.StatefulSet{}
	found, err := r.getChild(ctx, db, "StatefulSet", builder.StatefulSetName(db), sts)
	if err != nil {
		return ctrl.Result{}, err
	}
	if !found {
		return r.transition(ctx, db, databasev1.DatabasePhaseProvisioning, ReasonChildMissing,
			"The StatefulSet is missing; provisioning again")
	}

	want := builder.Replicas(db)
	if sts.Status.ReadyReplicas < want {
		message := fmt.Sprintf("Waiting for replicas: %d/%d ready", sts.Status.ReadyReplicas, want)
		setProgressing(db, metav1.ConditionTrue, ReasonWaitingForReplicas, message)
		if err := r.writeStatus(ctx, db); err != nil {
			return ctrl.Result{}, err
		}
		return ctrl.Result{RequeueAfter: replicaPollInterval}, nil
	}
	return r.transition(ctx, db, databasev1.DatabasePhaseVerifying, ReasonVerifying,
		fmt.Sprintf("%d/%d replicas ready; verifying", sts.Status.ReadyReplicas, want))
}

func (r *DatabaseReconciler) handleVerifying(ctx context.Context, db *databasev1.Database) (ctrl.Result, error) {
	if reprovision, res, err := r.reprovisionIfStale(ctx, db); reprovision {
		return res, err
	}
	missing, err := r.missingChild(ctx, db)
	if err != nil {
		return ctrl.Result{}, err
	}
	if missing != "" {
		return r.fail(ctx, db, ReasonVerificationFailed, fmt.Errorf("%s is missing", missing))
	}
	return r.markReady(ctx, db)
}

// handleReady only looks for drift: a spec change or a deleted child sends
// the Database back through Provisioning. Owned children wake it when they
// change, so there is no periodic requeue.
func (r *DatabaseReconciler) handleReady(ctx context.Context, db *databasev1.Database) (ctrl.Result, error) {
	if reprovision, res, err := r.reprovisionIfStale(ctx, db); reprovision {
		return res, err
	}
	missing, err := r.missingChild(ctx, db)
	if err != nil {
		return ctrl.Result{}, err
	}
	if missing != "" {
		return r.transition(ctx, db, databasev1.DatabasePhaseProvisioning, ReasonChildMissing,
			missing+" is missing; provisioning again")
	}
	return ctrl.Result{}, nil
}

// handleFailed starts over: every step is idempotent, and the course retries
// after a minute.
func (r *DatabaseReconciler) handleFailed(ctx context.Context, db *databasev1.Database) (ctrl.Result, error) {
	res, err := r.transition(ctx, db, databasev1.DatabasePhasePending, ReasonRetrying, "Retrying after a failure")
	if err != nil {
		return res, err
	}
	return ctrl.Result{RequeueAfter: failedRetryDelay}, nil
}

// reprovisionIfStale catches a spec change made after Provisioning applied
// the children: status.observedGeneration is written with every phase, so a
// later generation means the children lag behind the spec.
func (r *DatabaseReconciler) reprovisionIfStale(ctx context.Context, db *databasev1.Database) (bool, ctrl.Result, error) {
	if db.Status.ObservedGeneration == 0 || db.Status.ObservedGeneration == db.Generation {
		return false, ctrl.Result{}, nil
	}
	res, err := r.transition(ctx, db, databasev1.DatabasePhaseProvisioning, ReasonSpecChanged,
		fmt.Sprintf("Spec changed (generation %d); provisioning again", db.Generation))
	return true, res, err
}

func (r *DatabaseReconciler) markReady(ctx context.Context, db *databasev1.Database) (ctrl.Result, error) {
	from := db.Status.Phase
	db.Status.Phase = databasev1.DatabasePhaseReady
	db.Status.Ready = true
	db.Status.SecretName = builder.SecretName(db)
	db.Status.Endpoint = builder.Endpoint(db)
	setDatabaseCondition(db, ConditionReady, metav1.ConditionTrue, ReasonAllChecksPassed, "All checks passed")
	setProgressing(db, metav1.ConditionFalse, ReasonReconciliationComplete, "Reconciliation complete")
	if err := r.writeStatus(ctx, db); err != nil {
		return ctrl.Result{}, err
	}
	recordEvent(r.Recorder, db, nil, eventNormal, ReasonAllChecksPassed, "Reconcile",
		"Phase %s -> %s: serving at %s", phaseName(from), db.Status.Phase, db.Status.Endpoint)
	return ctrl.Result{RequeueAfter: r.phaseDelay()}, nil
}

// waitForBackup parks a gated Database and polls, because Backups are not
// watched.
func (r *DatabaseReconciler) waitForBackup(ctx context.Context, db *databasev1.Database) (ctrl.Result, error) {
	if waitingForBackup(db) {
		recordEvent(r.Recorder, db, nil, eventNormal, ReasonWaitingForBackup, "Reconcile",
			"%s (backup %q)", MessageWaitingForBackup, db.Spec.BackupRef.Name)
	}
	if err := r.writeStatus(ctx, db); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: backupPollInterval}, nil
}

// transition moves db to phase `to`, with Progressing=True and Ready=False.
func (r *DatabaseReconciler) transition(ctx context.Context, db *databasev1.Database, to databasev1.DatabasePhase, reason, message string) (ctrl.Result, error) {
	from := db.Status.Phase
	db.Status.Phase = to
	setProgressing(db, metav1.ConditionTrue, reason, message)
	setNotReady(db, reason, message)
	if err := r.writeStatus(ctx, db); err != nil {
		return ctrl.Result{}, err
	}
	recordEvent(r.Recorder, db, nil, eventNormal, reason, "Reconcile", "Phase %s -> %s: %s", phaseName(from), to, message)
	return ctrl.Result{RequeueAfter: r.phaseDelay()}, nil
}

// fail records cause on the Database instead of returning it, so the retry
// follows the Failed -> Pending path (and its delay) rather than the
// controller's error backoff.
func (r *DatabaseReconciler) fail(ctx context.Context, db *databasev1.Database, reason string, cause error) (ctrl.Result, error) {
	logf.FromContext(ctx).Error(cause, "Database failed", "reason", reason)
	from := db.Status.Phase
	db.Status.Phase = databasev1.DatabasePhaseFailed
	setNotReady(db, reason, cause.Error())
	setProgressing(db, metav1.ConditionFalse, reason, cause.Error())
	if err := r.writeStatus(ctx, db); err != nil {
		return ctrl.Result{}, err
	}
	recordEvent(r.Recorder, db, nil, eventWarning, reason, "Reconcile", "Phase %s -> %s: %s", phaseName(from), db.Status.Phase, cause.Error())
	return ctrl.Result{RequeueAfter: r.phaseDelay()}, nil
}

// writeStatus stamps the generation the status was computed from.
func (r *DatabaseReconciler) writeStatus(ctx context.Context, db *databasev1.Database) error {
	db.Status.ObservedGeneration = db.Generation
	if err := r.Status().Update(ctx, db); err != nil {
		return fmt.Errorf("while updating status of Database %s: %w", db.Name, err)
	}
	return nil
}

func phaseName(p databasev1.DatabasePhase) string {
	if p == "" {
		return "(none)"
	}
	return string(p)
}
