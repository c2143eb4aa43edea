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

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/intstr"

	databasev1 "github.com/example/postgres-operator/api/v1"
)

func TestService(t *testing.T) {
	tests := []struct {
		name string
		db   *databasev1.Database
	}{
		{name: "one replica", db: newDatabase(nil)},
		{name: "other name", db: newDatabase(func(db *databasev1.Database) { db.Name = "billing" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := Service(tt.db)
			if svc.Name != tt.db.Name || svc.Namespace != tt.db.Namespace {
				t.Errorf("service is %s/%s, want %s/%s", svc.Namespace, svc.Name, tt.db.Namespace, tt.db.Name)
			}
			if svc.Spec.Type != corev1.ServiceTypeClusterIP {
				t.Errorf("type = %q, want ClusterIP", svc.Spec.Type)
			}
			want := []corev1.ServicePort{{
				Name: "postgres", Protocol: corev1.ProtocolTCP, Port: 5432, TargetPort: intstr.FromString("postgres"),
			}}
			if !equality.Semantic.DeepEqual(svc.Spec.Ports, want) {
				t.Errorf("ports = %+v, want %+v", svc.Spec.Ports, want)
			}
			wantSelector := map[string]string{"app": "database", "database": tt.db.Name}
			if !equality.Semantic.DeepEqual(svc.Spec.Selector, wantSelector) {
				t.Errorf("selector = %v, want %v", svc.Spec.Selector, wantSelector)
			}
			assertOwnedBy(t, svc.OwnerReferences, tt.db)
		})
	}
}
