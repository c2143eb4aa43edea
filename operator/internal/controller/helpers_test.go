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
	"fmt"
	"sync/atomic"
	"time"

	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	databasev1 "github.com/example/postgres-operator/api/v1"
)

const testNamespace = "default"

var nameCounter atomic.Int64

// uniqueName keeps specs independent: envtest has no garbage collector and
// namespaces never finish deleting, so every spec uses fresh names.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, nameCounter.Add(1))
}

func keyOf(name string) types.NamespacedName {
	return types.NamespacedName{Namespace: testNamespace, Name: name}
}

// createDatabase creates the Lab 4.2 Database, changed by mutate.
func createDatabase(name string, mutate func(*databasev1.Database)) *databasev1.Database {
	db := &databasev1.Database{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNamespace},
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
	Expect(k8sClient.Create(ctx, db)).To(Succeed())
	return db
}

func getDatabase(name string) *databasev1.Database {
	db := &databasev1.Database{}
	Expect(k8sClient.Get(ctx, keyOf(name), db)).To(Succeed())
	return db
}

// setDatabasePhase writes status directly, standing in for a Database
// controller that is not running.
func setDatabasePhase(name string, phase databasev1.DatabasePhase) {
	db := getDatabase(name)
	db.Status.Phase = phase
	Expect(k8sClient.Status().Update(ctx, db)).To(Succeed())
}

// createBackup creates a Backup of dbName and then writes status, standing in
// for a Backup controller that is not running.
func createBackup(name, dbName string, status *databasev1.BackupStatus) *databasev1.Backup {
	b := &databasev1.Backup{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNamespace},
		Spec:       databasev1.BackupSpec{DatabaseRef: corev1.LocalObjectReference{Name: dbName}},
	}
	Expect(k8sClient.Create(ctx, b)).To(Succeed())
	if status != nil {
		b.Status = *status
		Expect(k8sClient.Status().Update(ctx, b)).To(Succeed())
	}
	return b
}

func getBackup(name string) *databasev1.Backup {
	b := &databasev1.Backup{}
	Expect(k8sClient.Get(ctx, keyOf(name), b)).To(Succeed())
	return b
}

// expectCondition asserts type/status/reason and returns the condition for
// further checks.
func expectCondition(conds []metav1.Condition, condType string, status metav1.ConditionStatus, reason string) *metav1.Condition {
	c := meta.FindStatusCondition(conds, condType)
	ExpectWithOffset(1, c).NotTo(BeNil(), "condition %s missing from %+v", condType, conds)
	ExpectWithOffset(1, c.Status).To(Equal(status), "condition %s: %+v", condType, c)
	ExpectWithOffset(1, c.Reason).To(Equal(reason), "condition %s: %+v", condType, c)
	return c
}

// newDatabaseReconciler is the reconciler under test, with a 1s phase delay
// as the grader runs it, and a fake recorder to read Events from.
func newDatabaseReconciler() (*DatabaseReconciler, *events.FakeRecorder) {
	rec := events.NewFakeRecorder(100)
	return &DatabaseReconciler{
		Client:     k8sClient,
		Scheme:     k8sClient.Scheme(),
		Recorder:   rec,
		PhaseDelay: time.Second,
	}, rec
}

func reconcileDatabase(r *DatabaseReconciler, name string) ctrl.Result {
	res, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: keyOf(name)})
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return res
}

// markStatefulSetReady plays the StatefulSet controller and kubelet, which
// envtest does not run.
func markStatefulSetReady(name string, ready int32) {
	sts := &appsv1.StatefulSet{}
	Expect(k8sClient.Get(ctx, keyOf(name), sts)).To(Succeed())
	sts.Status.Replicas = ready
	sts.Status.ReadyReplicas = ready
	sts.Status.AvailableReplicas = ready
	Expect(k8sClient.Status().Update(ctx, sts)).To(Succeed())
}

// drainEvents returns the Events recorded so far.
func drainEvents(rec *events.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-rec.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}
