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

// This file is the Backup controller's decision: what a Backup does next,
// given its own status and its Database's. It is pure (the clock is an
// argument) and kept on its own so a variant can be swapped in with
// `go build -overlay`. Symbols: backupAction, backupDecision, backupSettled,
// nextBackupStep and the interval constants.

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"

	databasev1 "github.com/example/postgres-operator/api/v1"
)

const (
	// databasePollInterval is how often a Pending Backup looks at its
	// Database again: coordination is by polling, Databases are not watched.
	databasePollInterval = 10 * time.Second
	// inProgressPollInterval re-checks a Backup seen InProgress, which is
	// normally a stale cache read of one that already completed.
	inProgressPollInterval = 5 * time.Second
	// inProgressTimeout is how long an InProgress Backup may sit before it is
	// taken to be abandoned (the manager stopped mid-backup) and run again.
	inProgressTimeout = 30 * time.Second
)

// backupAction is what the Backup controller does next.
type backupAction int

const (
	// actLeaveAlone: no write, no requeue.
	actLeaveAlone backupAction = iota
	// actRequeue: no write, look again after RequeueAfter.
	actRequeue
	// actWaitForDatabase: phase Pending, BackupReady=False with Reason.
	actWaitForDatabase
	// actRunBackup: InProgress, back up, then Completed (or Failed).
	actRunBackup
)

// backupDecision is nextBackupStep's answer.
type backupDecision struct {
	Action       backupAction
	Reason       string
	Message      string
	RequeueAfter time.Duration
}

// backupSettled is true for a Backup that must never be touched again. It is
// checked before the Database is read, so a Completed Backup costs nothing.
func backupSettled(backup *databasev1.Backup) bool {
	return backup.Status.Phase == databasev1.BackupPhaseCompleted
}

// nextBackupStep decides for backup, whose Database is db (nil when it does
// not exist or the reference is empty). A Failed Backup is retried like a new
// one: the simulated backup is idempotent.
func nextBackupStep(backup *databasev1.Backup, db *databasev1.Database, now time.Time) backupDecision {
	if backupSettled(backup) {
		return backupDecision{Action: actLeaveAlone}
	}
	if backup.Status.Phase == databasev1.BackupPhaseInProgress && !inProgressAbandoned(backup, now) {
		return backupDecision{Action: actRequeue, RequeueAfter: inProgressPollInterval}
	}
	if db == nil {
		return backupDecision{
			Action:       actWaitForDatabase,
			Reason:       ReasonDatabaseNotFound,
			Message:      fmt.Sprintf("Database %q not found", backup.Spec.DatabaseRef.Name),
			RequeueAfter: databasePollInterval,
		}
	}
	if db.Status.Phase != databasev1.DatabasePhaseReady {
		return backupDecision{
			Action:       actWaitForDatabase,
			Reason:       ReasonDatabaseNotReady,
			Message:      fmt.Sprintf("Database %q is not ready (phase %q)", db.Name, db.Status.Phase),
			RequeueAfter: databasePollInterval,
		}
	}
	return backupDecision{Action: actRunBackup}
}

// inProgressAbandoned dates an InProgress Backup by its BackupInProgress
// condition; without one nothing vouches for a running backup, so it is run.
func inProgressAbandoned(backup *databasev1.Backup, now time.Time) bool {
	cond := meta.FindStatusCondition(backup.Status.Conditions, ConditionBackupReady)
	if cond == nil || cond.Reason != ReasonBackupInProgress {
		return true
	}
	return now.Sub(cond.LastTransitionTime.Time) >= inProgressTimeout
}
