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

// Package builder turns a Database into the objects it owns. Every function
// here is pure (no client, no clock, no randomness) so the shape of each child
// is pinned by table-driven unit tests without a control plane.
package builder

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	databasev1 "github.com/example/postgres-operator/api/v1"
)

// PostgresPort is where the postgres container listens and the Service forwards.
const PostgresPort = 5432

// Defaults applied when the optional spec fields are empty; they match what the
// postgres image itself falls back to, so an omitted field means the same thing
// to the operator and to the image.
const (
	DefaultDatabaseName = "postgres"
	DefaultUsername     = "postgres"
	DefaultReplicas     = int32(1)
)

// Labels are shared by the StatefulSet, its pods, its claims and the Service
// selector; `app: database` and `database: <name>` are what the course's
// checks select on.
func Labels(db *databasev1.Database) map[string]string {
	return map[string]string{
		"app":      "database",
		"database": db.Name,
	}
}

// SecretName is the name of the credentials Secret of db.
func SecretName(db *databasev1.Database) string { return db.Name + "-credentials" }

// StatefulSetName is the name of the StatefulSet of db.
func StatefulSetName(db *databasev1.Database) string { return db.Name }

// ServiceName is the name of the Service of db.
func ServiceName(db *databasev1.Database) string { return db.Name }

// Endpoint is the in-cluster address clients use, published in status.endpoint.
func Endpoint(db *databasev1.Database) string {
	return fmt.Sprintf("%s.%s.svc.cluster.local:%d", ServiceName(db), db.Namespace, PostgresPort)
}

// DatabaseName is spec.databaseName or the image's default database.
func DatabaseName(db *databasev1.Database) string {
	if db.Spec.DatabaseName == "" {
		return DefaultDatabaseName
	}
	return db.Spec.DatabaseName
}

// Username is spec.username or the image's default superuser.
func Username(db *databasev1.Database) string {
	if db.Spec.Username == "" {
		return DefaultUsername
	}
	return db.Spec.Username
}

// Replicas is spec.replicas; the CRD defaults it, but objects built in Go
// (tests, older stored versions) may still carry nil.
func Replicas(db *databasev1.Database) int32 {
	if db.Spec.Replicas == nil {
		return DefaultReplicas
	}
	return *db.Spec.Replicas
}

// ownerReferences makes db the controller of a child, so the child is
// garbage-collected with db and its changes wake db's controller (Owns).
func ownerReferences(db *databasev1.Database) []metav1.OwnerReference {
	return []metav1.OwnerReference{
		*metav1.NewControllerRef(db, databasev1.GroupVersion.WithKind("Database")),
	}
}

// objectMeta is the metadata every child of db starts from.
func objectMeta(db *databasev1.Database, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:            name,
		Namespace:       db.Namespace,
		Labels:          Labels(db),
		OwnerReferences: ownerReferences(db),
	}
}
