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
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	databasev1 "github.com/example/postgres-operator/api/v1"
)

// Where the data volume is mounted, and PGDATA below it: the image refuses to
// initdb into a non-empty mount root (lost+found on many volumes).
const (
	DataVolumeName = "data"
	DataMountPath  = "/var/lib/postgresql/data"
	PGDataPath     = DataMountPath + "/pgdata"
	ContainerName  = "postgres"
)

// StatefulSet is the StatefulSet `<db>`: one postgres container per replica,
// credentials from the Secret, one claim `data` per pod. The pod passes Pod
// Security "baseline": no host namespaces, host paths, privileged mode or
// added capabilities.
func StatefulSet(db *databasev1.Database) (*appsv1.StatefulSet, error) {
	claim, err := dataClaim(db)
	if err != nil {
		return nil, err
	}
	replicas := Replicas(db)
	return &appsv1.StatefulSet{
		ObjectMeta: objectMeta(db, StatefulSetName(db)),
		Spec: appsv1.StatefulSetSpec{
			ServiceName: ServiceName(db),
			Replicas:    &replicas,
			Selector:    &metav1.LabelSelector{MatchLabels: Labels(db)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: Labels(db)},
				Spec: corev1.PodSpec{
					SecurityContext: &corev1.PodSecurityContext{
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					Containers: []corev1.Container{postgresContainer(db)},
				},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{claim},
		},
	}, nil
}

func postgresContainer(db *databasev1.Database) corev1.Container {
	return corev1.Container{
		Name:  ContainerName,
		Image: db.Spec.Image,
		Ports: []corev1.ContainerPort{{
			Name:          "postgres",
			ContainerPort: PostgresPort,
			Protocol:      corev1.ProtocolTCP,
		}},
		Env: []corev1.EnvVar{
			secretEnv(db, "POSTGRES_DB", SecretKeyDatabase),
			secretEnv(db, "POSTGRES_USER", SecretKeyUsername),
			secretEnv(db, "POSTGRES_PASSWORD", SecretKeyPassword),
			{Name: "PGDATA", Value: PGDataPath},
		},
		Resources:    db.Spec.Resources,
		VolumeMounts: []corev1.VolumeMount{{Name: DataVolumeName, MountPath: DataMountPath}},
		ReadinessProbe: &corev1.Probe{
			ProbeHandler: corev1.ProbeHandler{
				Exec: &corev1.ExecAction{
					Command: []string{"pg_isready", "-U", Username(db), "-d", DatabaseName(db)},
				},
			},
			InitialDelaySeconds: 5,
			PeriodSeconds:       10,
		},
	}
}

func secretEnv(db *databasev1.Database, name, key string) corev1.EnvVar {
	return corev1.EnvVar{
		Name: name,
		ValueFrom: &corev1.EnvVarSource{
			SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: SecretName(db)},
				Key:                  key,
			},
		},
	}
}

func dataClaim(db *databasev1.Database) (corev1.PersistentVolumeClaim, error) {
	size, err := resource.ParseQuantity(db.Spec.Storage.Size)
	if err != nil {
		return corev1.PersistentVolumeClaim{}, fmt.Errorf("while parsing spec.storage.size %q: %w", db.Spec.Storage.Size, err)
	}
	claim := corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: DataVolumeName, Labels: Labels(db)},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceStorage: size},
			},
		},
	}
	if db.Spec.Storage.StorageClass != "" {
		class := db.Spec.Storage.StorageClass
		claim.Spec.StorageClassName = &class
	}
	return claim, nil
}

// MergeStatefulSet copies onto existing the fields a spec change may move
// (replicas, image, resources) and reports whether anything changed. The
// selector and claim templates are immutable, and the rest of the live object
// carries server defaults that a blind overwrite would fight on every pass.
func MergeStatefulSet(existing, desired *appsv1.StatefulSet) bool {
	changed := false
	if !equality.Semantic.DeepEqual(existing.Spec.Replicas, desired.Spec.Replicas) {
		existing.Spec.Replicas = desired.Spec.Replicas
		changed = true
	}
	want := desired.Spec.Template.Spec.Containers[0]
	for i := range existing.Spec.Template.Spec.Containers {
		have := &existing.Spec.Template.Spec.Containers[i]
		if have.Name != want.Name {
			continue
		}
		if have.Image != want.Image {
			have.Image = want.Image
			changed = true
		}
		if !equality.Semantic.DeepEqual(have.Resources, want.Resources) {
			have.Resources = want.Resources
			changed = true
		}
	}
	return changed
}
