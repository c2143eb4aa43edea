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

// This file is the Database's side of Lab 8.2's coordination: whether the
// Backup named by spec.backupRef lets provisioning start. It is kept on its
// own so a variant of the decision can be swapped in with `go build -overlay`.
// Symbols: backupGateApplies, checkBackupStatus, backupIsReady.

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	databasev1 "github.com/example/postgres-operator/api/v1"
)

// backupGateApplies limits the gate to the phases before any child exists
// (unset counts as Pending): a Database that is already serving must not be
// taken down because its Backup was deleted or re-run later.
func backupGateApplies(phase databasev1.DatabasePhase) bool {
	switch phase {
	case "", databasev1.DatabasePhasePending, databasev1.DatabasePhaseProvisioning:
		return true
	default:
		return false
	}
}

// checkBackupStatus reports whether db may proceed: true when it names no
// Backup, or when the named Backup is ready. A missing Backup is waited for,
// not an error, because the learner may create it after the Database.
func (r *DatabaseReconciler) checkBackupStatus(ctx context.Context, db *databasev1.Database) (bool, error) {
	if db.Spec.BackupRef == nil {
		return true, nil
	}
	logger := logf.FromContext(ctx)
	name := db.Spec.BackupRef.Name
	if name == "" {
		logger.Info("backupRef has no name, waiting")
		return false, nil
	}

	backup := &databasev1.Backup{}
	err := r.Get(ctx, client.ObjectKey{Namespace: db.Namespace, Name: name}, backup)
	if apierrors.IsNotFound(err) {
		logger.Info("Backup not found, waiting", "backup", name)
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("while getting Backup %q: %w", name, err)
	}

	if !backupIsReady(backup) {
		logger.Info("Waiting for backup condition to be ready", "backup", name,
			"condition", meta.FindStatusCondition(backup.Status.Conditions, ConditionBackupReady))
		return false, nil
	}
	return true, nil
}

// backupIsReady trusts the BackupReady condition, never status.phase: the
// condition is the contract between the two controllers (Task 3.2), while a
// phase may be written by anything, e.g. a restored object or a test fixture
// that says Completed without the Backup controller having run.
func backupIsReady(backup *databasev1.Backup) bool {
	return meta.IsStatusConditionTrue(backup.Status.Conditions, ConditionBackupReady)
}

// waitingForBackup is the status a gated Database shows. The phase is left as
// it is (unset on a new Database), as the course's controller does.
func waitingForBackup(db *databasev1.Database) bool {
	return setProgressing(db, metav1.ConditionFalse, ReasonWaitingForBackup, MessageWaitingForBackup)
}
