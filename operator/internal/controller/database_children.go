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

package controller

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	databasev1 "github.com/example/postgres-operator/api/v1"
	"github.com/example/postgres-operator/internal/builder"
)

// The children are built by internal/builder; this file only talks to the
// API server. "Already exists" counts as success everywhere: the manager's
// cache can lag behind a create it made a moment ago, and treating that as a
// failure sends the Database through Failed for nothing (seen in the course).

// ensureSecret creates the credentials Secret once and never rewrites it, so
// the password stays stable across reconciles and restarts.
func (r *DatabaseReconciler) ensureSecret(ctx context.Context, db *databasev1.Database) error {
	found, err := r.getChild(ctx, db, "Secret", builder.SecretName(db), &corev1.Secret{})
	if err != nil || found {
		return err
	}
	password, err := builder.NewPassword()
	if err != nil {
		return err
	}
	return r.createChild(ctx, builder.CredentialsSecret(db, password), "Secret")
}

// ensureStatefulSet creates the StatefulSet or brings its mutable fields in
// line with the spec.
func (r *DatabaseReconciler) ensureStatefulSet(ctx context.Context, db *databasev1.Database) error {
	desired, err := builder.StatefulSet(db)
	if err != nil {
		return fmt.Errorf("while building StatefulSet: %w", err)
	}
	existing := &appsv1.StatefulSet{}
	found, err := r.getChild(ctx, db, "StatefulSet", desired.Name, existing)
	if err != nil {
		return err
	}
	if !found {
		return r.createChild(ctx, desired, "StatefulSet")
	}
	if !builder.MergeStatefulSet(existing, desired) {
		return nil
	}
	if err := r.Update(ctx, existing); err != nil {
		return fmt.Errorf("while updating StatefulSet %s: %w", existing.Name, err)
	}
	return nil
}

// ensureService creates the Service; its fields never depend on the spec.
func (r *DatabaseReconciler) ensureService(ctx context.Context, db *databasev1.Database) error {
	found, err := r.getChild(ctx, db, "Service", builder.ServiceName(db), &corev1.Service{})
	if err != nil || found {
		return err
	}
	return r.createChild(ctx, builder.Service(db), "Service")
}

// child is one object provisioning creates, addressed by kind for messages.
type child struct {
	kind string
	name string
	obj  client.Object
}

// children lists db's children in the order they are deleted: the Service
// first so clients stop reaching pods that are about to go.
func children(db *databasev1.Database) []child {
	return []child{
		{"Service", builder.ServiceName(db), &corev1.Service{}},
		{"StatefulSet", builder.StatefulSetName(db), &appsv1.StatefulSet{}},
		{"Secret", builder.SecretName(db), &corev1.Secret{}},
	}
}

// missingChild names the first child that does not exist, or "" if all do.
func (r *DatabaseReconciler) missingChild(ctx context.Context, db *databasev1.Database) (string, error) {
	for _, c := range children(db) {
		found, err := r.getChild(ctx, db, c.kind, c.name, c.obj)
		if err != nil {
			return "", err
		}
		if !found {
			return c.kind + " " + c.name, nil
		}
	}
	return "", nil
}

// deleteChildren removes what provisioning created. PVCs made from the claim
// template are left alone, as Kubernetes does by default, so data survives an
// accidental delete.
func (r *DatabaseReconciler) deleteChildren(ctx context.Context, db *databasev1.Database) error {
	for _, c := range children(db) {
		c.obj.SetNamespace(db.Namespace)
		c.obj.SetName(c.name)
		err := r.Delete(ctx, c.obj, client.PropagationPolicy("Background"))
		if client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("while deleting %s %s: %w", c.kind, c.name, err)
		}
	}
	return nil
}

func (r *DatabaseReconciler) getChild(ctx context.Context, db *databasev1.Database, kind, name string, obj client.Object) (bool, error) {
	err := r.Get(ctx, client.ObjectKey{Namespace: db.Namespace, Name: name}, obj)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("while getting %s %s: %w", kind, name, err)
	}
	return true, nil
}

func (r *DatabaseReconciler) createChild(ctx context.Context, obj client.Object, kind string) error {
	err := r.Create(ctx, obj)
	if err == nil || apierrors.IsAlreadyExists(err) {
		return nil
	}
	return fmt.Errorf("while creating %s %s: %w", kind, obj.GetName(), err)
}
