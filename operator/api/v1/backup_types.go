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

package v1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BackupPhase is a step of a Backup's life.
// +kubebuilder:validation:Enum=Pending;InProgress;Completed;Failed
type BackupPhase string

// A Backup waits in Pending for its Database, runs in InProgress and ends in
// Completed (terminal) or Failed (retried).
const (
	BackupPhasePending    BackupPhase = "Pending"
	BackupPhaseInProgress BackupPhase = "InProgress"
	BackupPhaseCompleted  BackupPhase = "Completed"
	BackupPhaseFailed     BackupPhase = "Failed"
)

// BackupSpec defines the desired state of Backup.
type BackupSpec struct {
	// databaseRef names the Database, in the same namespace, to back up.
	// +kubebuilder:validation:Required
	DatabaseRef corev1.LocalObjectReference `json:"databaseRef"`

	// schedule is a cron schedule for automated backups; Lab 8.2 records it
	// but never acts on it.
	// +optional
	Schedule string `json:"schedule,omitempty"`

	// retention is the number of backups to keep.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=5
	// +optional
	Retention int `json:"retention,omitempty"`
}

// BackupStatus defines the observed state of Backup.
type BackupStatus struct {
	// phase is where the backup is in its life.
	// +optional
	Phase BackupPhase `json:"phase,omitempty"`

	// backupTime is when the backup was taken.
	// +optional
	BackupTime *metav1.Time `json:"backupTime,omitempty"`

	// backupLocation is where the backup is stored.
	// +optional
	BackupLocation string `json:"backupLocation,omitempty"`

	// conditions carry BackupReady, the signal a Database with a backupRef waits for.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Phase",type="string",JSONPath=".status.phase"
// +kubebuilder:printcolumn:name="Database",type="string",JSONPath=".spec.databaseRef.name"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"

// Backup is the Schema for the backups API.
type Backup struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is a standard object metadata
	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`

	// spec defines the desired state of Backup
	// +required
	Spec BackupSpec `json:"spec"`

	// status defines the observed state of Backup
	// +optional
	Status BackupStatus `json:"status,omitzero"`
}

// +kubebuilder:object:root=true

// BackupList contains a list of Backup.
type BackupList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitzero"`
	Items           []Backup `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Backup{}, &BackupList{})
}
