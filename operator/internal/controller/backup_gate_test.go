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

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	databasev1 "github.com/example/postgres-operator/api/v1"
)

func TestBackupIsReady(t *testing.T) {
	cond := func(status metav1.ConditionStatus, reason string) metav1.Condition {
		return metav1.Condition{Type: ConditionBackupReady, Status: status, Reason: reason}
	}
	tests := []struct {
		name   string
		status databasev1.BackupStatus
		want   bool
	}{
		{"no status", databasev1.BackupStatus{}, false},
		{"phase Completed without the condition", databasev1.BackupStatus{Phase: databasev1.BackupPhaseCompleted}, false},
		{"phase Completed, condition False", databasev1.BackupStatus{
			Phase:      databasev1.BackupPhaseCompleted,
			Conditions: []metav1.Condition{cond(metav1.ConditionFalse, ReasonBackupInProgress)},
		}, false},
		{"condition Unknown", databasev1.BackupStatus{
			Conditions: []metav1.Condition{cond(metav1.ConditionUnknown, "Checking")},
		}, false},
		{"another condition True", databasev1.BackupStatus{
			Conditions: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Done"}},
		}, false},
		{"BackupReady True", databasev1.BackupStatus{
			Phase:      databasev1.BackupPhaseCompleted,
			Conditions: []metav1.Condition{cond(metav1.ConditionTrue, ReasonBackupCompleted)},
		}, true},
		{"BackupReady True whatever the phase", databasev1.BackupStatus{
			Phase:      databasev1.BackupPhasePending,
			Conditions: []metav1.Condition{cond(metav1.ConditionTrue, ReasonBackupCompleted)},
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := backupIsReady(&databasev1.Backup{Status: tt.status}); got != tt.want {
				t.Errorf("backupIsReady = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBackupGateApplies(t *testing.T) {
	tests := []struct {
		phase databasev1.DatabasePhase
		want  bool
	}{
		{"", true},
		{databasev1.DatabasePhasePending, true},
		{databasev1.DatabasePhaseProvisioning, true},
		{databasev1.DatabasePhaseConfiguring, false},
		{databasev1.DatabasePhaseDeploying, false},
		{databasev1.DatabasePhaseVerifying, false},
		{databasev1.DatabasePhaseReady, false},
		{databasev1.DatabasePhaseFailed, false},
	}
	for _, tt := range tests {
		if got := backupGateApplies(tt.phase); got != tt.want {
			t.Errorf("backupGateApplies(%q) = %v, want %v", tt.phase, got, tt.want)
		}
	}
}
