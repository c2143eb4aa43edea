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
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	databasev1 "github.com/example/postgres-operator/api/v1"
)

// DefaultPhaseDelay is the course's RequeueAfter between phases ("for
// visualization"). It rarely bites: each status write wakes the controller
// through its own watch long before the delay ends.
const DefaultPhaseDelay = 15 * time.Second

const (
	databaseFinalizer = "database.example.com/finalizer"

	// replicaPollInterval re-checks a StatefulSet that is not ready yet, in
	// case its readiness change is missed.
	replicaPollInterval = 5 * time.Second
	// backupPollInterval is how often a gated Database looks at its Backup:
	// it does not watch Backups, as in the course.
	backupPollInterval = 10 * time.Second
	// failedRetryDelay is the RequeueAfter of the Failed -> Pending step.
	failedRetryDelay = time.Minute
)

// DatabaseReconciler reconciles a Database object.
type DatabaseReconciler struct {
	client.Client
	Scheme *runtime.Scheme
	// Recorder writes events.k8s.io/v1 Events; nil disables events.
	Recorder events.EventRecorder
	// PhaseDelay is the RequeueAfter of each phase transition; zero means
	// DefaultPhaseDelay.
	PhaseDelay time.Duration
}

// +kubebuilder:rbac:groups=database.example.com,resources=databases,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=database.example.com,resources=databases/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=database.example.com,resources=databases/finalizers,verbs=update
// +kubebuilder:rbac:groups=database.example.com,resources=backups,verbs=get;list;watch
// +kubebuilder:rbac:groups=core,resources=secrets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=core,resources=services,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=apps,resources=statefulsets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=core,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile walks a Database through Pending -> Provisioning -> Configuring ->
// Deploying -> Verifying -> Ready, one phase per call.
func (r *DatabaseReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	db := &databasev1.Database{}
	if err := r.Get(ctx, req.NamespacedName, db); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("while getting Database %s: %w", req.NamespacedName, err)
	}

	if !db.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, db)
	}
	if err := r.ensureFinalizer(ctx, db); err != nil {
		return ctrl.Result{}, err
	}
	return r.reconcileWithStateMachine(ctx, db)
}

// reconcileWithStateMachine gates on the Backup first (Lab 8.2, Task 2.2),
// then runs the handler of the current phase.
func (r *DatabaseReconciler) reconcileWithStateMachine(ctx context.Context, db *databasev1.Database) (ctrl.Result, error) {
	phase := db.Status.Phase
	logf.FromContext(ctx).V(1).Info("Reconciling", "phase", phase)

	if backupGateApplies(phase) {
		ready, err := r.checkBackupStatus(ctx, db)
		if err != nil {
			return ctrl.Result{}, err
		}
		if !ready {
			return r.waitForBackup(ctx, db)
		}
	}

	switch phase {
	case "", databasev1.DatabasePhasePending:
		return r.handlePending(ctx, db)
	case databasev1.DatabasePhaseProvisioning:
		return r.handleProvisioning(ctx, db)
	case databasev1.DatabasePhaseConfiguring:
		return r.handleConfiguring(ctx, db)
	case databasev1.DatabasePhaseDeploying:
		return r.handleDeploying(ctx, db)
	case databasev1.DatabasePhaseVerifying:
		return r.handleVerifying(ctx, db)
	case databasev1.DatabasePhaseReady:
		return r.handleReady(ctx, db)
	case databasev1.DatabasePhaseFailed:
		return r.handleFailed(ctx, db)
	default:
		// Only reachable if the CRD's enum is bypassed; starting over is safe
		// because every step is idempotent.
		return r.handlePending(ctx, db)
	}
}

// ensureFinalizer adds the finalizer before any child exists, so a Database
// deleted mid-provisioning still has its children cleaned up.
func (r *DatabaseReconciler) ensureFinalizer(ctx context.Context, db *databasev1.Database) error {
	if !controllerutil.AddFinalizer(db, databaseFinalizer) {
		return nil
	}
	if err := r.Update(ctx, db); err != nil {
		return fmt.Errorf("while adding finalizer to Database %s: %w", db.Name, err)
	}
	return nil
}

// finalize deletes the children explicitly rather than leaving them to the
// garbage collector, so they are gone when the Database is (the course's
// cleanup), then releases the Database.
func (r *DatabaseReconciler) finalize(ctx context.Context, db *databasev1.Database) error {
	if !controllerutil.ContainsFinalizer(db, databaseFinalizer) {
		return nil
	}
	if err := r.deleteChildren(ctx, db); err != nil {
		return r.cleanupFailed(ctx, db, err)
	}
	controllerutil.RemoveFinalizer(db, databaseFinalizer)
	if err := r.Update(ctx, db); err != nil {
		return fmt.Errorf("while removing finalizer from Database %s: %w", db.Name, err)
	}
	recordEvent(r.Recorder, db, nil, eventNormal, "Deleted", "Finalize", "Deleted the children of Database %s", db.Name)
	return nil
}

// cleanupFailed keeps the finalizer, says why on the Ready condition (Lab 4.2,
// Exercise 4: the Database stays, and its conditions tell what blocks it) and
// returns cause so the controller retries with backoff.
func (r *DatabaseReconciler) cleanupFailed(ctx context.Context, db *databasev1.Database, cause error) error {
	if setNotReady(db, ReasonCleanupFailed, cause.Error()) {
		if err := r.writeStatus(ctx, db); err != nil {
			logf.FromContext(ctx).Error(err, "Could not report the failed cleanup")
		}
	}
	return fmt.Errorf("while cleaning up Database %s: %w", db.Name, cause)
}

// phaseDelay is the RequeueAfter of a phase transition.
func (r *DatabaseReconciler) phaseDelay() time.Duration {
	if r.PhaseDelay <= 0 {
		return DefaultPhaseDelay
	}
	return r.PhaseDelay
}

// SetupWithManager sets up the controller with the Manager. There is no
// predicate on the Database: its own status writes wake it, which is what
// makes the phases advance faster than PhaseDelay (observed in the course).
// Backups are not watched; a gated Database polls (backupPollInterval).
func (r *DatabaseReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&databasev1.Database{}).
		Owns(&corev1.Secret{}).
		Owns(&appsv1.StatefulSet{}).
		Owns(&corev1.Service{}).
		Named("database").
		Complete(r)
}
