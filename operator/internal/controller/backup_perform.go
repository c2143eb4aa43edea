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

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	databasev1 "github.com/example/postgres-operator/api/v1"
)

// backupTimeLayout is the <YYYYMMDD-HHMMSS> part of a backup's file name.
const backupTimeLayout = "20060102-150405"

// backupLocation is where the backup of database dbName in namespace ns taken
// at t is stored: s3://backups/<ns>/<db>-<YYYYMMDD-HHMMSS>.sql (UTC).
func backupLocation(ns, dbName string, t time.Time) string {
	return fmt.Sprintf("s3://backups/%s/%s-%s.sql", ns, dbName, t.UTC().Format(backupTimeLayout))
}

// simulateBackup is Lab 8.2's backup: it only names the location. Lab 8.3
// replaces it with a pg_dump Job.
func simulateBackup(_ context.Context, db *databasev1.Database, at time.Time) (string, error) {
	return backupLocation(db.Namespace, db.Name, at), nil
}

// performBackup writes InProgress before the backup and Completed after it,
// both in this one reconcile: a watcher sees the two versions milliseconds
// apart, as with the course's controller.
func (r *BackupReconciler) performBackup(ctx context.Context, db *databasev1.Database, backup *databasev1.Backup) (ctrl.Result, error) {
	backup.Status.Phase = databasev1.BackupPhaseInProgress
	setBackupReady(backup, metav1.ConditionFalse, ReasonBackupInProgress,
		fmt.Sprintf("Backing up Database %q", db.Name))
	if err := r.writeStatus(ctx, backup); err != nil {
		return ctrl.Result{}, err
	}
	recordEvent(r.Recorder, backup, db, eventNormal, ReasonBackupInProgress, "Backup", "Backing up Database %s", db.Name)

	at := r.now()
	take := r.TakeBackup
	if take == nil {
		take = simulateBackup
	}
	location, err := take(ctx, db, at)
	if err != nil {
		return r.failBackup(ctx, db, backup, err)
	}

	backup.Status.Phase = databasev1.BackupPhaseCompleted
	backup.Status.BackupTime = &metav1.Time{Time: at}
	backup.Status.BackupLocation = location
	setBackupReady(backup, metav1.ConditionTrue, ReasonBackupCompleted, MessageBackupCompleted)
	if err := r.writeStatus(ctx, backup); err != nil {
		return ctrl.Result{}, err
	}
	recordEvent(r.Recorder, backup, db, eventNormal, ReasonBackupCompleted, "Backup", "Backup of Database %s stored at %s", db.Name, location)
	return ctrl.Result{}, nil
}

// failBackup records the error on the Backup and retries it after the
// Database poll interval; Failed is not terminal.
func (r *BackupReconciler) failBackup(ctx context.Context, db *databasev1.Database, backup *databasev1.Backup, cause error) (ctrl.Result, error) {
	logf.FromContext(ctx).Error(cause, "Backup failed", "database", db.Name)
	backup.Status.Phase = databasev1.BackupPhaseFailed
	setBackupReady(backup, metav1.ConditionFalse, ReasonBackupFailed, cause.Error())
	if err := r.writeStatus(ctx, backup); err != nil {
		return ctrl.Result{}, err
	}
	recordEvent(r.Recorder, backup, db, eventWarning, ReasonBackupFailed, "Backup", "Backup of Database %s failed: %v", db.Name, cause)
	return ctrl.Result{RequeueAfter: databasePollInterval}, nil
}
