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

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	databasev1 "github.com/example/postgres-operator/api/v1"
)

// expectControlledBy asserts obj's controller reference names db.
func expectControlledBy(obj client.Object, db *databasev1.Database) {
	ref := metav1.GetControllerOf(obj)
	ExpectWithOffset(1, ref).NotTo(BeNil(), "%T %s has no controller reference", obj, obj.GetName())
	ExpectWithOffset(1, ref.Kind).To(Equal("Database"))
	ExpectWithOffset(1, ref.Name).To(Equal(db.Name))
	ExpectWithOffset(1, ref.UID).To(Equal(db.UID))
}

// expectPhaseAfterReconcile reconciles once and checks the resulting phase
// and RequeueAfter.
func expectPhaseAfterReconcile(r *DatabaseReconciler, name string, phase databasev1.DatabasePhase, requeue time.Duration) *databasev1.Database {
	res := reconcileDatabase(r, name)
	db := getDatabase(name)
	ExpectWithOffset(1, db.Status.Phase).To(Equal(phase))
	ExpectWithOffset(1, res.RequeueAfter).To(Equal(requeue))
	ExpectWithOffset(1, db.Status.ObservedGeneration).To(Equal(db.Generation))
	return db
}

var _ = Describe("Database Controller", func() {
	var (
		r    *DatabaseReconciler
		name string
	)

	BeforeEach(func() {
		r, _ = newDatabaseReconciler()
		name = uniqueName("db")
	})

	It("ignores a Database that does not exist", func() {
		res, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: keyOf("never-created")})
		Expect(err).NotTo(HaveOccurred())
		Expect(res).To(Equal(reconcile.Result{}))
	})

	It("creates its children and walks the phases to Ready", func() {
		r, events := newDatabaseReconciler()
		created := createDatabase(name, nil)

		By("Pending: the finalizer is added and the Database moves to Provisioning")
		db := expectPhaseAfterReconcile(r, name, databasev1.DatabasePhaseProvisioning, time.Second)
		Expect(db.Finalizers).To(ContainElement(databaseFinalizer))
		expectCondition(db.Status.Conditions, ConditionProgressing, metav1.ConditionTrue, ReasonProvisioning)
		expectCondition(db.Status.Conditions, ConditionReady, metav1.ConditionFalse, ReasonProvisioning)
		Expect(apierrors.IsNotFound(k8sClient.Get(ctx, keyOf(name), &appsv1.StatefulSet{}))).To(BeTrue(),
			"nothing is created before Provisioning runs")

		By("Provisioning: the Secret and the StatefulSet are created, owned by the Database")
		db = expectPhaseAfterReconcile(r, name, databasev1.DatabasePhaseConfiguring, time.Second)
		secret := &corev1.Secret{}
		Expect(k8sClient.Get(ctx, keyOf(name+"-credentials"), secret)).To(Succeed())
		expectControlledBy(secret, created)
		Expect(string(secret.Data["username"])).To(Equal("admin"))
		Expect(string(secret.Data["database"])).To(Equal("mydb"))
		Expect(secret.Data["password"]).To(HaveLen(24))
		password := string(secret.Data["password"])

		sts := &appsv1.StatefulSet{}
		Expect(k8sClient.Get(ctx, keyOf(name), sts)).To(Succeed())
		expectControlledBy(sts, created)
		Expect(sts.Spec.Template.Labels).To(Equal(map[string]string{"app": "database", "database": name}))
		Expect(sts.Spec.Template.Spec.Containers).To(HaveLen(1))
		Expect(sts.Spec.Template.Spec.Containers[0].Name).To(Equal("postgres"))
		Expect(sts.Spec.VolumeClaimTemplates[0].Name).To(Equal("data"))

		By("Configuring: the Service is created")
		db = expectPhaseAfterReconcile(r, name, databasev1.DatabasePhaseDeploying, time.Second)
		svc := &corev1.Service{}
		Expect(k8sClient.Get(ctx, keyOf(name), svc)).To(Succeed())
		expectControlledBy(svc, created)
		Expect(svc.Spec.Ports).To(HaveLen(1))
		Expect(svc.Spec.Ports[0].Name).To(Equal("postgres"))
		Expect(svc.Spec.Ports[0].Port).To(BeEquivalentTo(5432))

		By("Deploying: no replica is ready, so it waits and polls every 5s")
		db = expectPhaseAfterReconcile(r, name, databasev1.DatabasePhaseDeploying, 5*time.Second)
		c := expectCondition(db.Status.Conditions, ConditionProgressing, metav1.ConditionTrue, ReasonWaitingForReplicas)
		Expect(c.Message).To(ContainSubstring("0/1"))
		Expect(db.Status.Ready).To(BeFalse())

		By("Deploying: once the replica is ready it moves to Verifying")
		markStatefulSetReady(name, 1)
		expectPhaseAfterReconcile(r, name, databasev1.DatabasePhaseVerifying, time.Second)

		By("Verifying: all checks pass and the Database is Ready")
		db = expectPhaseAfterReconcile(r, name, databasev1.DatabasePhaseReady, time.Second)
		Expect(db.Status.Ready).To(BeTrue())
		Expect(db.Status.Endpoint).To(Equal(name + ".default.svc.cluster.local:5432"))
		Expect(db.Status.SecretName).To(Equal(name + "-credentials"))
		ready := expectCondition(db.Status.Conditions, ConditionReady, metav1.ConditionTrue, ReasonAllChecksPassed)
		Expect(ready.ObservedGeneration).To(Equal(db.Generation))
		expectCondition(db.Status.Conditions, ConditionProgressing, metav1.ConditionFalse, ReasonReconciliationComplete)

		By("Ready: a further reconcile changes nothing and does not requeue")
		before := db.ResourceVersion
		db = expectPhaseAfterReconcile(r, name, databasev1.DatabasePhaseReady, 0)
		Expect(db.ResourceVersion).To(Equal(before))
		Expect(k8sClient.Get(ctx, keyOf(name+"-credentials"), secret)).To(Succeed())
		Expect(string(secret.Data["password"])).To(Equal(password), "the password must not be regenerated")

		Expect(drainEvents(events)).To(ContainElements(
			ContainSubstring("Normal Provisioning"),
			ContainSubstring("Normal AllChecksPassed"),
		))
	})

	It("provisions again when the spec changes after Ready", func() {
		createDatabase(name, nil)
		for range 4 {
			reconcileDatabase(r, name)
		}
		markStatefulSetReady(name, 1)
		reconcileDatabase(r, name)
		expectPhaseAfterReconcile(r, name, databasev1.DatabasePhaseReady, time.Second)

		db := getDatabase(name)
		db.Spec.Replicas = ptr.To(int32(2))
		Expect(k8sClient.Update(ctx, db)).To(Succeed())

		db = expectPhaseAfterReconcile(r, name, databasev1.DatabasePhaseProvisioning, time.Second)
		expectCondition(db.Status.Conditions, ConditionProgressing, metav1.ConditionTrue, ReasonSpecChanged)
		expectCondition(db.Status.Conditions, ConditionReady, metav1.ConditionFalse, ReasonSpecChanged)
		Expect(db.Status.Ready).To(BeFalse())

		expectPhaseAfterReconcile(r, name, databasev1.DatabasePhaseConfiguring, time.Second)
		sts := &appsv1.StatefulSet{}
		Expect(k8sClient.Get(ctx, keyOf(name), sts)).To(Succeed())
		Expect(*sts.Spec.Replicas).To(BeEquivalentTo(2))
	})

	It("retries a Failed Database from Pending after a minute", func() {
		createDatabase(name, nil)
		reconcileDatabase(r, name)
		setDatabasePhase(name, databasev1.DatabasePhaseFailed)

		db := expectPhaseAfterReconcile(r, name, databasev1.DatabasePhasePending, time.Minute)
		expectCondition(db.Status.Conditions, ConditionProgressing, metav1.ConditionTrue, ReasonRetrying)
		expectPhaseAfterReconcile(r, name, databasev1.DatabasePhaseProvisioning, time.Second)
	})

	It("deletes its children and releases the Database when deleted", func() {
		createDatabase(name, nil)
		for range 3 {
			reconcileDatabase(r, name)
		}
		Expect(k8sClient.Get(ctx, keyOf(name), &corev1.Service{})).To(Succeed())

		Expect(k8sClient.Delete(ctx, getDatabase(name))).To(Succeed())
		reconcileDatabase(r, name)

		for _, obj := range []client.Object{&corev1.Secret{}, &appsv1.StatefulSet{}, &corev1.Service{}} {
			key := keyOf(name)
			if _, ok := obj.(*corev1.Secret); ok {
				key = keyOf(name + "-credentials")
			}
			err := k8sClient.Get(ctx, key, obj)
			Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%T %s still exists (err %v)", obj, key.Name, err)
		}
		err := k8sClient.Get(ctx, keyOf(name), &databasev1.Database{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the finalizer must be removed; got %v", err)
	})

	It("keeps the Database and reports Ready=False while its cleanup fails (Lab 4.2)", func() {
		createDatabase(name, nil)
		for range 3 {
			reconcileDatabase(r, name)
		}
		Expect(k8sClient.Delete(ctx, getDatabase(name))).To(Succeed())

		refused := errors.New("refused by the test")
		failing := *r
		failing.Client = refusingClient{Client: k8sClient, err: refused}
		_, err := failing.Reconcile(ctx, reconcile.Request{NamespacedName: keyOf(name)})
		Expect(err).To(MatchError(refused))
		db := getDatabase(name)
		Expect(db.Finalizers).To(ContainElement(databaseFinalizer))
		expectCondition(db.Status.Conditions, ConditionReady, metav1.ConditionFalse, ReasonCleanupFailed)

		reconcileDatabase(r, name)
		err = k8sClient.Get(ctx, keyOf(name), &databasev1.Database{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the finalizer must be removed once cleanup succeeds; got %v", err)
	})
})

// refusingClient refuses to delete StatefulSets, as an admission policy would.
type refusingClient struct {
	client.Client
	err error
}

func (c refusingClient) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	if _, ok := obj.(*appsv1.StatefulSet); ok {
		return c.err
	}
	return c.Client.Delete(ctx, obj, opts...)
}

var _ = Describe("Database Controller backupRef gate (Lab 8.2)", func() {
	var (
		r      *DatabaseReconciler
		name   string
		backup string
	)

	BeforeEach(func() {
		r, _ = newDatabaseReconciler()
		name = uniqueName("gated")
		backup = uniqueName("bk")
	})

	// expectWaitingForBackup reconciles and checks the gate held: phase left
	// unset, Progressing=False/WaitingForBackup, 10s poll, nothing created.
	expectWaitingForBackup := func() {
		res := reconcileDatabase(r, name)
		Expect(res.RequeueAfter).To(Equal(10 * time.Second))
		db := getDatabase(name)
		Expect(db.Status.Phase).To(BeEmpty())
		c := expectCondition(db.Status.Conditions, ConditionProgressing, metav1.ConditionFalse, ReasonWaitingForBackup)
		Expect(c.Message).To(Equal("Waiting for backup to be ready"))
		Expect(c.ObservedGeneration).To(Equal(db.Generation))
		Expect(apierrors.IsNotFound(k8sClient.Get(ctx, keyOf(name+"-credentials"), &corev1.Secret{}))).To(BeTrue())
		Expect(apierrors.IsNotFound(k8sClient.Get(ctx, keyOf(name), &appsv1.StatefulSet{}))).To(BeTrue())
	}

	withBackupRef := func(db *databasev1.Database) {
		db.Spec.BackupRef = &corev1.LocalObjectReference{Name: backup}
	}

	It("waits while the referenced Backup does not exist", func() {
		createDatabase(name, withBackupRef)
		expectWaitingForBackup()
		expectWaitingForBackup()
	})

	It("waits while the Backup's phase says Completed but BackupReady=True is absent", func() {
		createDatabase(name, withBackupRef)
		createBackup(backup, "some-other-db", &databasev1.BackupStatus{Phase: databasev1.BackupPhaseCompleted})
		expectWaitingForBackup()
	})

	It("waits while the Backup has BackupReady=False", func() {
		createDatabase(name, withBackupRef)
		createBackup(backup, "some-other-db", &databasev1.BackupStatus{
			Phase: databasev1.BackupPhaseCompleted,
			Conditions: []metav1.Condition{{
				Type: ConditionBackupReady, Status: metav1.ConditionFalse, Reason: ReasonBackupInProgress,
				Message: "running", LastTransitionTime: metav1.Now(),
			}},
		})
		expectWaitingForBackup()
	})

	It("proceeds once the Backup has BackupReady=True, even before its phase says so", func() {
		createDatabase(name, withBackupRef)
		expectWaitingForBackup()
		createBackup(backup, "some-other-db", &databasev1.BackupStatus{
			Phase: databasev1.BackupPhaseInProgress,
			Conditions: []metav1.Condition{{
				Type: ConditionBackupReady, Status: metav1.ConditionTrue, Reason: ReasonBackupCompleted,
				Message: MessageBackupCompleted, LastTransitionTime: metav1.Now(),
			}},
		})
		db := expectPhaseAfterReconcile(r, name, databasev1.DatabasePhaseProvisioning, time.Second)
		expectCondition(db.Status.Conditions, ConditionProgressing, metav1.ConditionTrue, ReasonProvisioning)
		expectPhaseAfterReconcile(r, name, databasev1.DatabasePhaseConfiguring, time.Second)
		Expect(k8sClient.Get(ctx, keyOf(name), &appsv1.StatefulSet{})).To(Succeed())
	})

	It("does not hold back a Database that is past Provisioning", func() {
		createDatabase(name, withBackupRef)
		setDatabasePhase(name, databasev1.DatabasePhaseConfiguring)
		db := expectPhaseAfterReconcile(r, name, databasev1.DatabasePhaseDeploying, time.Second)
		Expect(db.Status.Conditions).NotTo(ContainElement(HaveField("Reason", ReasonWaitingForBackup)))
	})
})
