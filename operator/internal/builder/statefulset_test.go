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
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"k8s.io/utils/ptr"

	databasev1 "github.com/example/postgres-operator/api/v1"
)

func TestStatefulSet(t *testing.T) {
	limits := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
	}
	tests := []struct {
		name         string
		db           *databasev1.Database
		wantReplicas int32
		wantSize     string
		wantClass    *string
		wantProbe    []string
	}{
		{
			name:         "minimal",
			db:           newDatabase(nil),
			wantReplicas: 1,
			wantSize:     "1Gi",
			wantProbe:    []string{"pg_isready", "-U", "admin", "-d", "mydb"},
		},
		{
			name: "replicas, storage class and resources",
			db: newDatabase(func(db *databasev1.Database) {
				db.Spec.Replicas = ptr.To(int32(3))
				db.Spec.Storage = databasev1.StorageSpec{Size: "500Mi", StorageClass: "fast"}
				db.Spec.Resources = limits
				db.Spec.Image = "postgres:16"
			}),
			wantReplicas: 3,
			wantSize:     "500Mi",
			wantClass:    ptr.To("fast"),
			wantProbe:    []string{"pg_isready", "-U", "admin", "-d", "mydb"},
		},
		{
			name: "defaults for user and database",
			db: newDatabase(func(db *databasev1.Database) {
				db.Spec.Replicas, db.Spec.Username, db.Spec.DatabaseName = nil, "", ""
			}),
			wantReplicas: 1,
			wantSize:     "1Gi",
			wantProbe:    []string{"pg_isready", "-U", "postgres", "-d", "postgres"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sts, err := StatefulSet(tt.db)
			if err != nil {
				t.Fatal(err)
			}
			if sts.Name != tt.db.Name || sts.Namespace != tt.db.Namespace {
				t.Errorf("statefulset is %s/%s, want %s/%s", sts.Namespace, sts.Name, tt.db.Namespace, tt.db.Name)
			}
			assertOwnedBy(t, sts.OwnerReferences, tt.db)
			if got := ptr.Deref(sts.Spec.Replicas, -1); got != tt.wantReplicas {
				t.Errorf("replicas = %d, want %d", got, tt.wantReplicas)
			}
			if sts.Spec.ServiceName != tt.db.Name {
				t.Errorf("serviceName = %q, want %q", sts.Spec.ServiceName, tt.db.Name)
			}

			labels := map[string]string{"app": "database", "database": tt.db.Name}
			for what, got := range map[string]map[string]string{
				"metadata.labels":          sts.Labels,
				"selector":                 sts.Spec.Selector.MatchLabels,
				"template.metadata.labels": sts.Spec.Template.Labels,
			} {
				if !equality.Semantic.DeepEqual(got, labels) {
					t.Errorf("%s = %v, want %v", what, got, labels)
				}
			}

			c := onlyContainer(t, sts)
			if c.Name != "postgres" || c.Image != tt.db.Spec.Image {
				t.Errorf("container %q image %q, want postgres image %q", c.Name, c.Image, tt.db.Spec.Image)
			}
			if len(c.Ports) != 1 || c.Ports[0].Name != "postgres" || c.Ports[0].ContainerPort != 5432 {
				t.Errorf("ports = %+v, want postgres:5432", c.Ports)
			}
			assertEnv(t, c, tt.db.Name+"-credentials")
			if !equality.Semantic.DeepEqual(c.Resources, tt.db.Spec.Resources) {
				t.Errorf("resources = %+v, want %+v", c.Resources, tt.db.Spec.Resources)
			}
			if c.ReadinessProbe == nil || !equality.Semantic.DeepEqual(c.ReadinessProbe.Exec.Command, tt.wantProbe) {
				t.Errorf("readiness probe = %+v, want exec %v", c.ReadinessProbe, tt.wantProbe)
			}
			wantMount := []corev1.VolumeMount{{Name: "data", MountPath: "/var/lib/postgresql/data"}}
			if !equality.Semantic.DeepEqual(c.VolumeMounts, wantMount) {
				t.Errorf("volumeMounts = %+v, want %+v", c.VolumeMounts, wantMount)
			}

			if len(sts.Spec.VolumeClaimTemplates) != 1 {
				t.Fatalf("want one volumeClaimTemplate, got %d", len(sts.Spec.VolumeClaimTemplates))
			}
			claim := sts.Spec.VolumeClaimTemplates[0]
			if claim.Name != "data" {
				t.Errorf("claim name = %q, want data", claim.Name)
			}
			if got := claim.Spec.Resources.Requests[corev1.ResourceStorage]; got.String() != tt.wantSize {
				t.Errorf("claim size = %s, want %s", got.String(), tt.wantSize)
			}
			if !equality.Semantic.DeepEqual(claim.Spec.StorageClassName, tt.wantClass) {
				t.Errorf("storageClassName = %v, want %v", ptr.Deref(claim.Spec.StorageClassName, "<nil>"), ptr.Deref(tt.wantClass, "<nil>"))
			}
			if !equality.Semantic.DeepEqual(claim.Spec.AccessModes, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}) {
				t.Errorf("accessModes = %v, want [ReadWriteOnce]", claim.Spec.AccessModes)
			}

			assertPodSecurity(t, sts, psaapi.LevelBaseline)
		})
	}
}

func TestStatefulSetRejectsBadSize(t *testing.T) {
	db := newDatabase(func(db *databasev1.Database) { db.Spec.Storage.Size = "lots" })
	if _, err := StatefulSet(db); err == nil || !strings.Contains(err.Error(), "spec.storage.size") {
		t.Fatalf("want an error naming spec.storage.size, got %v", err)
	}
}

func onlyContainer(t *testing.T, sts *appsv1.StatefulSet) corev1.Container {
	t.Helper()
	if n := len(sts.Spec.Template.Spec.Containers); n != 1 {
		t.Fatalf("want one container, got %d", n)
	}
	return sts.Spec.Template.Spec.Containers[0]
}

// assertEnv checks the variables the postgres image reads on first start.
func assertEnv(t *testing.T, c corev1.Container, secret string) {
	t.Helper()
	fromSecret := map[string]string{"POSTGRES_DB": "database", "POSTGRES_USER": "username", "POSTGRES_PASSWORD": "password"}
	seen := map[string]bool{}
	for _, e := range c.Env {
		seen[e.Name] = true
		if key, ok := fromSecret[e.Name]; ok {
			ref := e.ValueFrom
			if ref == nil || ref.SecretKeyRef == nil || ref.SecretKeyRef.Name != secret || ref.SecretKeyRef.Key != key {
				t.Errorf("%s must come from secret %s key %s, got %+v", e.Name, secret, key, e.ValueFrom)
			}
		}
		if e.Name == "PGDATA" && !strings.HasPrefix(e.Value, "/var/lib/postgresql/data") {
			t.Errorf("PGDATA = %q, want it on the data volume", e.Value)
		}
	}
	for _, name := range []string{"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD", "PGDATA"} {
		if !seen[name] {
			t.Errorf("env %s missing", name)
		}
	}
}

// assertPodSecurity runs the pod template through the same checks the Pod
// Security admission plugin applies to the pods the StatefulSet will create.
func assertPodSecurity(t *testing.T, sts *appsv1.StatefulSet, level psaapi.Level) {
	t.Helper()
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	lv := psaapi.LevelVersion{Level: level, Version: psaapi.LatestVersion()}
	for _, r := range evaluator.EvaluatePod(lv, &sts.Spec.Template.ObjectMeta, &sts.Spec.Template.Spec) {
		if !r.Allowed {
			t.Errorf("pod template violates Pod Security %q: %s (%s)", level, r.ForbiddenReason, r.ForbiddenDetail)
		}
	}
}

func TestMergeStatefulSet(t *testing.T) {
	tests := []struct {
		name        string
		change      func(*databasev1.Database)
		wantChanged bool
	}{
		{name: "same spec", change: func(*databasev1.Database) {}, wantChanged: false},
		{name: "replicas", change: func(db *databasev1.Database) { db.Spec.Replicas = ptr.To(int32(2)) }, wantChanged: true},
		{name: "image", change: func(db *databasev1.Database) { db.Spec.Image = "postgres:16" }, wantChanged: true},
		{
			name: "resources",
			change: func(db *databasev1.Database) {
				db.Spec.Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}
			},
			wantChanged: true,
		},
		{
			// Claim templates are immutable on a StatefulSet: a size change
			// must not produce an update the API server would reject.
			name:        "storage size only",
			change:      func(db *databasev1.Database) { db.Spec.Storage.Size = "5Gi" },
			wantChanged: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			existing, err := StatefulSet(newDatabase(nil))
			if err != nil {
				t.Fatal(err)
			}
			// A field the API server defaults must survive the merge.
			existing.Spec.Template.Spec.Containers[0].TerminationMessagePath = "/dev/termination-log"
			desired, err := StatefulSet(newDatabase(tt.change))
			if err != nil {
				t.Fatal(err)
			}

			if got := MergeStatefulSet(existing, desired); got != tt.wantChanged {
				t.Errorf("changed = %v, want %v", got, tt.wantChanged)
			}
			if *existing.Spec.Replicas != *desired.Spec.Replicas {
				t.Errorf("replicas = %d, want %d", *existing.Spec.Replicas, *desired.Spec.Replicas)
			}
			have, want := existing.Spec.Template.Spec.Containers[0], desired.Spec.Template.Spec.Containers[0]
			if have.Image != want.Image || !equality.Semantic.DeepEqual(have.Resources, want.Resources) {
				t.Errorf("container not merged: image %q resources %+v, want %q %+v", have.Image, have.Resources, want.Image, want.Resources)
			}
			if have.TerminationMessagePath != "/dev/termination-log" {
				t.Errorf("server-defaulted field lost: %q", have.TerminationMessagePath)
			}
			if got := existing.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests[corev1.ResourceStorage]; got.String() != "1Gi" {
				t.Errorf("claim template changed to %s", got.String())
			}
		})
	}
}
