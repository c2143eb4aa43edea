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

// DatabasePhase is a step of the Database state machine.
// +kubebuilder:validation:Enum=Pending;Provisioning;Configuring;Deploying;Verifying;Ready;Failed
type DatabasePhase string

// The phases in the order a healthy Database walks them; Failed returns to Pending.
const (
	DatabasePhasePending      DatabasePhase = "Pending"
	DatabasePhaseProvisioning DatabasePhase = "Provisioning"
	DatabasePhaseConfiguring  DatabasePhase = "Configuring"
	DatabasePhaseDeploying    DatabasePhase = "Deploying"
	DatabasePhaseVerifying    DatabasePhase = "Verifying"
	DatabasePhaseReady        DatabasePhase = "Ready"
	DatabasePhaseFailed       DatabasePhase = "Failed"
)

// StorageSpec sizes the PersistentVolumeClaim each PostgreSQL replica gets.
type StorageSpec struct {
	// size of each replica's data volume, e.g. "1Gi" or "500Mi".
	// +kubebuilder:validation:Required
	// +kubebuilder:validation:Pattern=`^[0-9]+(Gi|Mi)$`
	Size string `json:"size"`

	// storageClass for the data volumes; the cluster default when empty.
	// +optional
	StorageClass string `json:"storageClass,omitempty"`
}

// DatabaseSpec defines the desired state of Database.
type DatabaseSpec struct {
	// image is the PostgreSQL container image.
	// +kubebuilder:validation:Required
	// +kubebuilder:default="postgres:14"
	Image string `json:"image"`

	// replicas is the number of PostgreSQL pods.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10
	// +kubebuilder:default=1
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// databaseName is the database created on first start (POSTGRES_DB).
	// +kubebuilder:validation:Required
	DatabaseName string `json:"databaseName"`

	// username is the superuser created on first start (POSTGRES_USER).
	// +kubebuilder:validation:Required
	Username string `json:"username"`

	// storage configures the data volume of each replica.
	// +kubebuilder:validation:Required
	Storage StorageSpec `json:"storage"`

	// resources are the compute requirements of the postgres container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`

	// backupRef names a Backup in the same namespace that must report
	// BackupReady=True before the Database is provisioned (Lab 8.2).
	// +optional
	BackupRef *corev1.LocalObjectReference `json:"backupRef,omitempty"`
}

// DatabaseStatus defines the observed state of Database.
type DatabaseStatus struct {
	// phase is the current step of the provisioning state machine.
	// +optional
	Phase DatabasePhase `json:"phase,omitempty"`

	// ready is true once every check of the Verifying phase passed.
	// +optional
	Ready bool `json:"ready,omitempty"`

	// endpoint is the in-cluster host:port clients connect to.
	// +optional
	Endpoint string `json:"endpoint,omitempty"`

	// secretName is the Secret holding username, password and database.
	// +optional
	SecretName string `json:"secretName,omitempty"`

	// conditions are Ready and Progressing.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the metadata.generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Phase",type="string",JSONPath=".status.phase"
// +kubebuilder:printcolumn:name="Replicas",type="integer",JSONPath=".spec.replicas"
// +kubebuilder:printcolumn:name="Ready",type="boolean",JSONPath=".status.ready"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"

// Database is the Schema for the databases API.
type Database struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is a standard object metadata
	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`

	// spec defines the desired state of Database
	// +required
	Spec DatabaseSpec `json:"spec"`

	// status defines the observed state of Database
	// +optional
	Status DatabaseStatus `json:"status,omitzero"`
}

// +kubebuilder:object:root=true

// DatabaseList contains a list of Database.
type DatabaseList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitzero"`
	Items           []Database `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Database{}, &DatabaseList{})
}
