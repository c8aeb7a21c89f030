// Package leaderelection lets client-go's leader election run on skiff
// Leases (core.skiff.dev/v1alpha1): LeaseLock is a resourcelock.Interface
// that stores the election record in a skiff Lease's spec, field for field
// as client-go's own LeaseLock does with coordination.k8s.io Leases.
package leaderelection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	corev1 "k8s.io/api/core/v1"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/leaderelection/resourcelock"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	skiffclient "skiff.dev/skiff/pkg/generated/clientset/versioned/typed/core/v1alpha1"
)

// LeaseLock is a resource lock on one skiff Lease.
type LeaseLock struct {
	// LeaseMeta names the Lease: Namespace and Name. The namespace need not
	// exist as an object; skiff has no Namespace kind.
	LeaseMeta  metav1.ObjectMeta
	Client     skiffclient.LeasesGetter
	LockConfig resourcelock.ResourceLockConfig

	// lease is the last Lease read or written; Update sends it back with
	// its resourceVersion, so a concurrent writer makes Update fail with a
	// conflict instead of being overwritten.
	lease *v1alpha1.Lease
}

var _ resourcelock.Interface = &LeaseLock{}

// New returns a lock on the Lease namespace/name held under identity.
// recorder may be nil.
func New(namespace, name string, client skiffclient.LeasesGetter, identity string, recorder resourcelock.EventRecorder) *LeaseLock {
	return &LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: namespace, Name: name},
		Client:     client,
		LockConfig: resourcelock.ResourceLockConfig{Identity: identity, EventRecorder: recorder},
	}
}

// Get returns the election record in the Lease and its JSON encoding,
// which the elector compares to notice changes.
func (l *LeaseLock) Get(ctx context.Context) (*resourcelock.LeaderElectionRecord, []byte, error) {
	lease, err := l.Client.Leases(l.LeaseMeta.Namespace).Get(ctx, l.LeaseMeta.Name, metav1.GetOptions{})
	if err != nil {
		// Returned unwrapped: the elector tests it with IsNotFound.
		return nil, nil, err
	}
	l.lease = lease
	record := LeaseSpecToLeaderElectionRecord(&lease.Spec)
	raw, err := json.Marshal(*record)
	if err != nil {
		return nil, nil, fmt.Errorf("encode election record of lease %s: %w", l.Describe(), err)
	}
	return record, raw, nil
}

// Create creates the Lease holding the record.
func (l *LeaseLock) Create(ctx context.Context, ler resourcelock.LeaderElectionRecord) error {
	lease, err := l.Client.Leases(l.LeaseMeta.Namespace).Create(ctx, &v1alpha1.Lease{
		ObjectMeta: metav1.ObjectMeta{Namespace: l.LeaseMeta.Namespace, Name: l.LeaseMeta.Name},
		Spec:       LeaderElectionRecordToLeaseSpec(&ler),
	}, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	l.lease = lease
	return nil
}

// Update writes the record over the Lease last read or written.
func (l *LeaseLock) Update(ctx context.Context, ler resourcelock.LeaderElectionRecord) error {
	if l.lease == nil {
		return errors.New("lease not initialized: call Get or Create first")
	}
	next := l.lease.DeepCopy()
	next.Spec = LeaderElectionRecordToLeaseSpec(&ler)
	lease, err := l.Client.Leases(l.LeaseMeta.Namespace).Update(ctx, next, metav1.UpdateOptions{})
	if err != nil {
		return err
	}
	l.lease = lease
	return nil
}

// RecordEvent reports an election event (became leader, stopped leading)
// on the Lease, if a recorder was given.
func (l *LeaseLock) RecordEvent(s string) {
	if l.LockConfig.EventRecorder == nil {
		return
	}
	subject := &v1alpha1.Lease{ObjectMeta: l.LeaseMeta}
	if l.lease != nil {
		subject.ObjectMeta = l.lease.ObjectMeta
	}
	subject.Kind = "Lease"
	subject.APIVersion = v1alpha1.SchemeGroupVersion.String()
	l.LockConfig.EventRecorder.Eventf(subject, corev1.EventTypeNormal, "LeaderElection", "%s %s", l.LockConfig.Identity, s)
}

// Describe names the lock in logs: namespace/name.
func (l *LeaseLock) Describe() string {
	return l.LeaseMeta.Namespace + "/" + l.LeaseMeta.Name
}

// Identity is who this lock holder is.
func (l *LeaseLock) Identity() string { return l.LockConfig.Identity }

// LeaseSpecToLeaderElectionRecord reads an election record from a Lease.
func LeaseSpecToLeaderElectionRecord(spec *v1alpha1.LeaseSpec) *resourcelock.LeaderElectionRecord {
	var r resourcelock.LeaderElectionRecord
	if spec.HolderIdentity != nil {
		r.HolderIdentity = *spec.HolderIdentity
	}
	if spec.LeaseDurationSeconds != nil {
		r.LeaseDurationSeconds = int(*spec.LeaseDurationSeconds)
	}
	if spec.LeaseTransitions != nil {
		r.LeaderTransitions = int(*spec.LeaseTransitions)
	}
	if spec.AcquireTime != nil {
		r.AcquireTime = metav1.Time{Time: spec.AcquireTime.Time}
	}
	if spec.RenewTime != nil {
		r.RenewTime = metav1.Time{Time: spec.RenewTime.Time}
	}
	return &r
}

// LeaderElectionRecordToLeaseSpec writes an election record into a Lease
// spec. Coordinated-election fields (strategy, preferred holder) have no
// place in a skiff Lease and are dropped.
func LeaderElectionRecordToLeaseSpec(r *resourcelock.LeaderElectionRecord) v1alpha1.LeaseSpec {
	holder := r.HolderIdentity
	duration := int32(r.LeaseDurationSeconds)
	transitions := int32(r.LeaderTransitions)
	return v1alpha1.LeaseSpec{
		HolderIdentity:       &holder,
		LeaseDurationSeconds: &duration,
		AcquireTime:          &metav1.MicroTime{Time: r.AcquireTime.Time},
		RenewTime:            &metav1.MicroTime{Time: r.RenewTime.Time},
		LeaseTransitions:     &transitions,
	}
}
