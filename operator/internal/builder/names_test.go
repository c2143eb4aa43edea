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

package builder

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	databasev1 "github.com/example/postgres-operator/api/v1"
)

// newDatabase is the Database the builder tests start from; mutate tweaks it.
func newDatabase(mutate func(*databasev1.Database)) *databasev1.Database {
	db := &databasev1.Database{
		ObjectMeta: metav1.ObjectMeta{Name: "orders", Namespace: "shop", UID: types.UID("uid-1")},
		Spec: databasev1.DatabaseSpec{
			Image:        "postgres:14",
			Replicas:     ptr.To(int32(1)),
			DatabaseName: "mydb",
			Username:     "admin",
			Storage:      databasev1.StorageSpec{Size: "1Gi"},
		},
	}
	if mutate != nil {
		mutate(db)
	}
	return db
}

// assertOwnedBy fails unless refs make db the one controller of the object.
func assertOwnedBy(t *testing.T, refs []metav1.OwnerReference, db *databasev1.Database) {
	t.Helper()
	if len(refs) != 1 {
		t.Fatalf("want 1 owner reference, got %d", len(refs))
	}
	ref := refs[0]
	if ref.Kind != "Database" || ref.APIVersion != "database.example.com/v1" || ref.Name != db.Name || ref.UID != db.UID {
		t.Errorf("owner reference points at %s %s %s (%s), want Database %s (%s)", ref.APIVersion, ref.Kind, ref.Name, ref.UID, db.Name, db.UID)
	}
	if !ptr.Deref(ref.Controller, false) || !ptr.Deref(ref.BlockOwnerDeletion, false) {
		t.Errorf("owner reference must be a controller reference blocking owner deletion: %+v", ref)
	}
}

func TestNamesAndDefaults(t *testing.T) {
	tests := []struct {
		name         string
		db           *databasev1.Database
		wantEndpoint string
		wantSecret   string
		wantDB       string
		wantUser     string
		wantReplicas int32
	}{
		{
			name:         "fields set",
			db:           newDatabase(nil),
			wantEndpoint: "orders.shop.svc.cluster.local:5432",
			wantSecret:   "orders-credentials",
			wantDB:       "mydb",
			wantUser:     "admin",
			wantReplicas: 1,
		},
		{
			name: "optional fields empty fall back to the image's defaults",
			db: newDatabase(func(db *databasev1.Database) {
				db.Spec.DatabaseName, db.Spec.Username, db.Spec.Replicas = "", "", nil
			}),
			wantEndpoint: "orders.shop.svc.cluster.local:5432",
			wantSecret:   "orders-credentials",
			wantDB:       "postgres",
			wantUser:     "postgres",
			wantReplicas: 1,
		},
		{
			name:         "replicas taken from spec",
			db:           newDatabase(func(db *databasev1.Database) { db.Spec.Replicas = ptr.To(int32(3)) }),
			wantEndpoint: "orders.shop.svc.cluster.local:5432",
			wantSecret:   "orders-credentials",
			wantDB:       "mydb",
			wantUser:     "admin",
			wantReplicas: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Endpoint(tt.db); got != tt.wantEndpoint {
				t.Errorf("Endpoint = %q, want %q", got, tt.wantEndpoint)
			}
			if got := SecretName(tt.db); got != tt.wantSecret {
				t.Errorf("SecretName = %q, want %q", got, tt.wantSecret)
			}
			if got := DatabaseName(tt.db); got != tt.wantDB {
				t.Errorf("DatabaseName = %q, want %q", got, tt.wantDB)
			}
			if got := Username(tt.db); got != tt.wantUser {
				t.Errorf("Username = %q, want %q", got, tt.wantUser)
			}
			if got := Replicas(tt.db); got != tt.wantReplicas {
				t.Errorf("Replicas = %d, want %d", got, tt.wantReplicas)
			}
		})
	}
}
