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
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	databasev1 "github.com/example/postgres-operator/api/v1"
)

// Condition types. Ready and Progressing follow the Kubernetes API
// conventions; BackupReady is the cross-operator signal of Lab 8.2 that a
// Database with a backupRef waits for.
const (
	ConditionReady       = "Ready"
	ConditionProgressing = "Progressing"
	ConditionBackupReady = "BackupReady"
)

// Reasons a Database's conditions carry. The ones the course names
// (WaitingForReplicas, AllChecksPassed, ReconciliationComplete,
// WaitingForBackup) are matched by the grader and must not be renamed.
const (
	ReasonProvisioning           = "Provisioning"
	ReasonConfiguring            = "Configuring"
	ReasonDeploying              = "Deploying"
	ReasonWaitingForReplicas     = "WaitingForReplicas"
	ReasonVerifying              = "Verifying"
	ReasonAllChecksPassed        = "AllChecksPassed"
	ReasonReconciliationComplete = "ReconciliationComplete"
	ReasonWaitingForBackup       = "WaitingForBackup"
	ReasonSpecChanged            = "SpecChanged"
	ReasonChildMissing           = "ChildMissing"
	ReasonRetrying               = "Retrying"
	ReasonSecretFailed           = "SecretCreationFailed"
	ReasonStatefulSetFailed      = "StatefulSetCreationFailed"
	ReasonServiceFailed          = "ServiceCreationFailed"
	ReasonVerificationFailed     = "VerificationFailed"
	ReasonCleanupFailed          = "CleanupFailed"
)

// Reasons a Backup's BackupReady condition carries, all named by Lab 8.2.
const (
	ReasonDatabaseNotFound = "DatabaseNotFound"
	ReasonDatabaseNotReady = "DatabaseNotReady"
	ReasonBackupInProgress = "BackupInProgress"
	ReasonBackupCompleted  = "BackupCompleted"
	ReasonBackupFailed     = "BackupFailed"
)

// Messages the lab prints verbatim.
const (
	MessageWaitingForBackup = "Waiting for backup to be ready"
	MessageBackupCompleted  = "Backup completed successfully"
)

// setDatabaseCondition records a condition against the generation it was
// computed from, so a reader can tell a stale condition from a current one.
// It reports whether the condition changed, which callers use to emit an
// Event once per transition instead of once per poll.
func setDatabaseCondition(db *databasev1.Database, condType string, status metav1.ConditionStatus, reason, message string) bool {
	return meta.SetStatusCondition(&db.Status.Conditions, metav1.Condition{
		Type:               condType,
		Status:             status,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: db.Generation,
	})
}

// setProgressing is the condition every phase transition updates.
func setProgressing(db *databasev1.Database, status metav1.ConditionStatus, reason, message string) bool {
	return setDatabaseCondition(db, ConditionProgressing, status, reason, message)
}

// setNotReady keeps Ready=False (with the current step as reason) on every
// phase before Ready, so a client never sees a stale Ready=True while the
// Database is being re-provisioned.
func setNotReady(db *databasev1.Database, reason, message string) bool {
	db.Status.Ready = false
	return setDatabaseCondition(db, ConditionReady, metav1.ConditionFalse, reason, message)
}

// setBackupReady sets the Backup's only condition, BackupReady.
func setBackupReady(backup *databasev1.Backup, status metav1.ConditionStatus, reason, message string) bool {
	return meta.SetStatusCondition(&backup.Status.Conditions, metav1.Condition{
		Type:               ConditionBackupReady,
		Status:             status,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: backup.Generation,
	})
}
