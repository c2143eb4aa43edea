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

	databasev1 "github.com/example/postgres-operator/api/v1"
)

// Keys of the credentials Secret; the StatefulSet's env and any client read them.
const (
	SecretKeyUsername = "username"
	SecretKeyPassword = "password"
	SecretKeyDatabase = "database"
)

// CredentialsSecret is the Secret `<db>-credentials`. The password is an
// argument so the builder stays deterministic; see NewPassword.
func CredentialsSecret(db *databasev1.Database, password string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: objectMeta(db, SecretName(db)),
		Type:       corev1.SecretTypeOpaque,
		Data: map[string][]byte{
			SecretKeyUsername: []byte(Username(db)),
			SecretKeyPassword: []byte(password),
			SecretKeyDatabase: []byte(DatabaseName(db)),
		},
	}
}
