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
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	databasev1 "github.com/example/postgres-operator/api/v1"
)

func TestNextBackupStep(t *testing.T) {
	now := time.Date(2026, time.January, 1, 12, 0, 0, 0, time.UTC)
	backup := func(phase databasev1.BackupPhase, conds ...metav1.Condition) *databasev1.Backup {
		return &databasev1.Backup{
			Spec:   databasev1.BackupSpec{DatabaseRef: corev1.LocalObjectReference{Name: "orders"}},
			Status: databasev1.BackupStatus{Phase: phase, Conditions: conds},
		}
	}
	inProgressSince := func(d time.Duration) metav1.Condition {
		return metav1.Condition{
			Type: ConditionBackupReady, Status: metav1.ConditionFalse, Reason: ReasonBackupInProgress,
			LastTransitionTime: metav1.NewTime(now.Add(-d)),
		}
	}
	db := func(phase databasev1.DatabasePhase) *databasev1.Database {
		d := &databasev1.Database{}
		d.Name = "orders"
		d.Status.Phase = phase
		return d
	}

	tests := []struct {
		name       string
		backup     *databasev1.Backup
		db         *databasev1.Database
		wantAction backupAction
		wantReason string
		wantAfter  time.Duration
	}{
		{"completed is left alone", backup(databasev1.BackupPhaseCompleted), nil, actLeaveAlone, "", 0},
		{"completed is left alone with a ready database", backup(databasev1.BackupPhaseCompleted), db(databasev1.DatabasePhaseReady), actLeaveAlone, "", 0},
		{"new, database missing", backup(""), nil, actWaitForDatabase, ReasonDatabaseNotFound, 10 * time.Second},
		{"new, database not ready", backup(""), db(databasev1.DatabasePhaseDeploying), actWaitForDatabase, ReasonDatabaseNotReady, 10 * time.Second},
		{"new, database phase unset", backup(""), db(""), actWaitForDatabase, ReasonDatabaseNotReady, 10 * time.Second},
		{"new, database ready", backup(""), db(databasev1.DatabasePhaseReady), actRunBackup, "", 0},
		{"pending, database ready", backup(databasev1.BackupPhasePending), db(databasev1.DatabasePhaseReady), actRunBackup, "", 0},
		{"failed is retried", backup(databasev1.BackupPhaseFailed), db(databasev1.DatabasePhaseReady), actRunBackup, "", 0},
		{"fresh in-progress polls", backup(databasev1.BackupPhaseInProgress, inProgressSince(time.Second)), db(databasev1.DatabasePhaseReady), actRequeue, "", 5 * time.Second},
		{"abandoned in-progress runs again", backup(databasev1.BackupPhaseInProgress, inProgressSince(time.Minute)), db(databasev1.DatabasePhaseReady), actRunBackup, "", 0},
		{"in-progress without condition runs again", backup(databasev1.BackupPhaseInProgress), db(databasev1.DatabasePhaseReady), actRunBackup, "", 0},
		{"abandoned in-progress still waits for its database", backup(databasev1.BackupPhaseInProgress, inProgressSince(time.Minute)), nil, actWaitForDatabase, ReasonDatabaseNotFound, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := nextBackupStep(tt.backup, tt.db, now)
			if got.Action != tt.wantAction || got.Reason != tt.wantReason || got.RequeueAfter != tt.wantAfter {
				t.Errorf("nextBackupStep = %+v, want action %d reason %q after %s", got, tt.wantAction, tt.wantReason, tt.wantAfter)
			}
			if got.Action == actWaitForDatabase && got.Message == "" {
				t.Error("a waiting Backup must say why")
			}
		})
	}
}

func TestBackupLocation(t *testing.T) {
	tests := []struct {
		ns, db string
		at     time.Time
		want   string
	}{
		{"default", "my-database", time.Date(2026, 11, 23, 16, 5, 9, 0, time.UTC), "s3://backups/default/my-database-20261123-160509.sql"},
		// The name is in UTC whatever the manager's local zone.
		{"team-a", "orders", time.Date(2026, 1, 2, 1, 0, 0, 0, time.FixedZone("CET", 3600)), "s3://backups/team-a/orders-20260102-000000.sql"},
	}
	for _, tt := range tests {
		if got := backupLocation(tt.ns, tt.db, tt.at); got != tt.want {
			t.Errorf("backupLocation(%q, %q, %v) = %q, want %q", tt.ns, tt.db, tt.at, got, tt.want)
		}
	}
}
