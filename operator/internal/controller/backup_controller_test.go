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
	"errors"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	databasev1 "github.com/example/postgres-operator/api/v1"
)

var _ = Describe("Backup Controller", func() {
	// A fixed clock makes backupTime and backupLocation exact.
	fixedNow := time.Date(2026, time.March, 4, 5, 6, 7, 0, time.UTC)

	var (
		r      *BackupReconciler
		rec    *events.FakeRecorder
		name   string
		dbName string
	)

	BeforeEach(func() {
		rec = events.NewFakeRecorder(100)
		r = &BackupReconciler{
			Client:   k8sClient,
			Scheme:   k8sClient.Scheme(),
			Recorder: rec,
			Now:      func() time.Time { return fixedNow },
		}
		name = uniqueName("backup")
		dbName = uniqueName("db")
	})

	reconcileBackup := func() ctrl.Result {
		res, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: keyOf(name)})
		ExpectWithOffset(1, err).NotTo(HaveOccurred())
		return res
	}

	It("ignores a Backup that does not exist", func() {
		res, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: keyOf("never-created")})
		Expect(err).NotTo(HaveOccurred())
		Expect(res).To(Equal(reconcile.Result{}))
	})

	It("waits in Pending/DatabaseNotFound while the Database does not exist", func() {
		createBackup(name, dbName, nil)
		Expect(reconcileBackup().RequeueAfter).To(Equal(10 * time.Second))
		b := getBackup(name)
		Expect(b.Status.Phase).To(Equal(databasev1.BackupPhasePending))
		c := expectCondition(b.Status.Conditions, ConditionBackupReady, metav1.ConditionFalse, ReasonDatabaseNotFound)
		Expect(c.Message).To(ContainSubstring(dbName))
		Expect(b.Status.BackupTime).To(BeNil())
	})

	It("treats an empty databaseRef as not found instead of failing forever", func() {
		// The shape kubebuilder's scaffolded test creates: an empty spec.
		b := &databasev1.Backup{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNamespace}}
		Expect(k8sClient.Create(ctx, b)).To(Succeed())
		Expect(reconcileBackup().RequeueAfter).To(Equal(10 * time.Second))
		b = getBackup(name)
		Expect(b.Status.Phase).To(Equal(databasev1.BackupPhasePending))
		expectCondition(b.Status.Conditions, ConditionBackupReady, metav1.ConditionFalse, ReasonDatabaseNotFound)
	})

	It("waits in Pending/DatabaseNotReady while the Database is not Ready", func() {
		createDatabase(dbName, nil)
		setDatabasePhase(dbName, databasev1.DatabasePhaseDeploying)
		createBackup(name, dbName, nil)
		Expect(reconcileBackup().RequeueAfter).To(Equal(10 * time.Second))
		b := getBackup(name)
		Expect(b.Status.Phase).To(Equal(databasev1.BackupPhasePending))
		expectCondition(b.Status.Conditions, ConditionBackupReady, metav1.ConditionFalse, ReasonDatabaseNotReady)
		Expect(b.Status.BackupLocation).To(BeEmpty())
	})

	It("completes once the Database is Ready, then leaves the Backup alone", func() {
		createDatabase(dbName, nil)
		createBackup(name, dbName, nil)
		reconcileBackup()
		Expect(getBackup(name).Status.Phase).To(Equal(databasev1.BackupPhasePending))

		setDatabasePhase(dbName, databasev1.DatabasePhaseReady)
		Expect(reconcileBackup()).To(Equal(ctrl.Result{}))

		b := getBackup(name)
		Expect(b.Status.Phase).To(Equal(databasev1.BackupPhaseCompleted))
		Expect(b.Status.BackupTime).NotTo(BeNil())
		Expect(b.Status.BackupTime.Time.Equal(fixedNow)).To(BeTrue(), "backupTime %v", b.Status.BackupTime)
		Expect(b.Status.BackupLocation).To(Equal("s3://backups/default/" + dbName + "-20260304-050607.sql"))
		c := expectCondition(b.Status.Conditions, ConditionBackupReady, metav1.ConditionTrue, ReasonBackupCompleted)
		Expect(c.Message).To(Equal("Backup completed successfully"))
		Expect(backupIsReady(b)).To(BeTrue(), "the Database side must accept what the Backup side writes")
		Expect(drainEvents(rec)).To(ContainElements(
			ContainSubstring("Normal BackupInProgress"),
			ContainSubstring("Normal BackupCompleted"),
		))

		By("a Completed Backup is not written again, even if its Database goes away")
		setDatabasePhase(dbName, databasev1.DatabasePhaseFailed)
		Expect(reconcileBackup()).To(Equal(ctrl.Result{}))
		Expect(getBackup(name).ResourceVersion).To(Equal(b.ResourceVersion))
		Expect(drainEvents(rec)).To(BeEmpty())
	})

	It("leaves alone a Backup whose phase is already Completed", func() {
		createBackup(name, dbName, &databasev1.BackupStatus{Phase: databasev1.BackupPhaseCompleted})
		before := getBackup(name)
		Expect(reconcileBackup()).To(Equal(ctrl.Result{}))
		after := getBackup(name)
		Expect(after.ResourceVersion).To(Equal(before.ResourceVersion))
		Expect(after.Status.Conditions).To(BeEmpty())
	})

	It("marks the Backup Failed/BackupFailed when the backup errors, and retries", func() {
		r.TakeBackup = func(context.Context, *databasev1.Database, time.Time) (string, error) {
			return "", errors.New("bucket unreachable")
		}
		createDatabase(dbName, nil)
		setDatabasePhase(dbName, databasev1.DatabasePhaseReady)
		createBackup(name, dbName, nil)

		Expect(reconcileBackup().RequeueAfter).To(Equal(10 * time.Second))
		b := getBackup(name)
		Expect(b.Status.Phase).To(Equal(databasev1.BackupPhaseFailed))
		c := expectCondition(b.Status.Conditions, ConditionBackupReady, metav1.ConditionFalse, ReasonBackupFailed)
		Expect(c.Message).To(ContainSubstring("bucket unreachable"))

		r.TakeBackup = nil
		reconcileBackup()
		Expect(getBackup(name).Status.Phase).To(Equal(databasev1.BackupPhaseCompleted))
	})
})
