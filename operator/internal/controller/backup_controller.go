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

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	databasev1 "github.com/example/postgres-operator/api/v1"
)

// BackupFunc takes a backup of db at the given time and returns where it is
// stored.
type BackupFunc func(ctx context.Context, db *databasev1.Database, at time.Time) (location string, err error)

// BackupReconciler reconciles a Backup object.
type BackupReconciler struct {
	client.Client
	Scheme *runtime.Scheme
	// Recorder writes events.k8s.io/v1 Events; nil disables events.
	Recorder events.EventRecorder
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// TakeBackup performs the backup; nil means simulateBackup, the course's
	// Lab 8.2 behaviour (no Job, no pg_dump).
	TakeBackup BackupFunc
}

// +kubebuilder:rbac:groups=database.example.com,resources=backups,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=database.example.com,resources=backups/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=database.example.com,resources=backups/finalizers,verbs=update
// +kubebuilder:rbac:groups=database.example.com,resources=databases,verbs=get;list;watch
// +kubebuilder:rbac:groups=core,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile backs up the referenced Database once it is Ready, then leaves
// the Backup alone for good.
func (r *BackupReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	backup := &databasev1.Backup{}
	if err := r.Get(ctx, req.NamespacedName, backup); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("while getting Backup %s: %w", req.NamespacedName, err)
	}
	if backupSettled(backup) {
		return ctrl.Result{}, nil
	}

	db, err := r.databaseOf(ctx, backup)
	if err != nil {
		return ctrl.Result{}, err
	}

	decision := nextBackupStep(backup, db, r.now())
	switch decision.Action {
	case actRequeue:
		return ctrl.Result{RequeueAfter: decision.RequeueAfter}, nil
	case actWaitForDatabase:
		return r.waitForDatabase(ctx, backup, decision)
	case actRunBackup:
		return r.performBackup(ctx, db, backup)
	default:
		return ctrl.Result{}, nil
	}
}

// databaseOf returns the Backup's Database, or nil when there is none to
// back up. An empty name is "not found" rather than an error: the API
// accepts it, and erroring would retry it forever with backoff.
func (r *BackupReconciler) databaseOf(ctx context.Context, backup *databasev1.Backup) (*databasev1.Database, error) {
	name := backup.Spec.DatabaseRef.Name
	if name == "" {
		return nil, nil
	}
	db := &databasev1.Database{}
	err := r.Get(ctx, client.ObjectKey{Namespace: backup.Namespace, Name: name}, db)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("while getting Database %q for Backup %s: %w", name, backup.Name, err)
	}
	return db, nil
}

// waitForDatabase parks the Backup in Pending and polls.
func (r *BackupReconciler) waitForDatabase(ctx context.Context, backup *databasev1.Backup, d backupDecision) (ctrl.Result, error) {
	logf.FromContext(ctx).Info("Waiting for Database", "database", backup.Spec.DatabaseRef.Name, "reason", d.Reason)
	backup.Status.Phase = databasev1.BackupPhasePending
	changed := setBackupReady(backup, metav1.ConditionFalse, d.Reason, d.Message)
	if err := r.writeStatus(ctx, backup); err != nil {
		return ctrl.Result{}, err
	}
	if changed {
		recordEvent(r.Recorder, backup, nil, eventNormal, d.Reason, "WaitForDatabase", "%s", d.Message)
	}
	return ctrl.Result{RequeueAfter: d.RequeueAfter}, nil
}

func (r *BackupReconciler) writeStatus(ctx context.Context, backup *databasev1.Backup) error {
	if err := r.Status().Update(ctx, backup); err != nil {
		return fmt.Errorf("while updating status of Backup %s: %w", backup.Name, err)
	}
	return nil
}

func (r *BackupReconciler) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

// SetupWithManager sets up the controller with the Manager. Only Backups are
// watched: a Pending Backup polls its Database (databasePollInterval).
func (r *BackupReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&databasev1.Backup{}).
		Named("backup").
		Complete(r)
}
