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
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	databasev1 "github.com/example/postgres-operator/api/v1"
)

// Service is the ClusterIP Service `<db>` behind status.endpoint.
func Service(db *databasev1.Database) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: objectMeta(db, ServiceName(db)),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: Labels(db),
			Ports: []corev1.ServicePort{{
				Name:       "postgres",
				Protocol:   corev1.ProtocolTCP,
				Port:       PostgresPort,
				TargetPort: intstr.FromString("postgres"),
			}},
		},
	}
}
