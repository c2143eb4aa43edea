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

	corev1 "k8s.io/api/core/v1"

	databasev1 "github.com/example/postgres-operator/api/v1"
)

func TestCredentialsSecret(t *testing.T) {
	tests := []struct {
		name     string
		db       *databasev1.Database
		password string
		want     map[string]string
	}{
		{
			name:     "spec values",
			db:       newDatabase(nil),
			password: "s3cret",
			want:     map[string]string{"username": "admin", "password": "s3cret", "database": "mydb"},
		},
		{
			name: "defaults",
			db: newDatabase(func(db *databasev1.Database) {
				db.Spec.DatabaseName, db.Spec.Username = "", ""
			}),
			password: "other",
			want:     map[string]string{"username": "postgres", "password": "other", "database": "postgres"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := CredentialsSecret(tt.db, tt.password)
			if s.Name != "orders-credentials" || s.Namespace != "shop" {
				t.Errorf("secret is %s/%s, want shop/orders-credentials", s.Namespace, s.Name)
			}
			if s.Type != corev1.SecretTypeOpaque {
				t.Errorf("type = %q, want Opaque", s.Type)
			}
			if len(s.Data) != len(tt.want) {
				t.Errorf("keys = %v, want exactly %v", keys(s.Data), tt.want)
			}
			for k, v := range tt.want {
				if got := string(s.Data[k]); got != v {
					t.Errorf("data[%q] = %q, want %q", k, got, v)
				}
			}
			assertOwnedBy(t, s.OwnerReferences, tt.db)
		})
	}
}

func keys(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestNewPassword(t *testing.T) {
	seen := map[string]bool{}
	for range 20 {
		p, err := NewPassword()
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != PasswordLength {
			t.Errorf("len(%q) = %d, want %d", p, len(p), PasswordLength)
		}
		if strings.Trim(p, passwordAlphabet) != "" {
			t.Errorf("%q has characters outside the alphabet", p)
		}
		if seen[p] {
			t.Errorf("password %q repeated", p)
		}
		seen[p] = true
	}
}
