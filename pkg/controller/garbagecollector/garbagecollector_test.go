package garbagecollector

import (
	"context"
	"fmt"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	metadatafake "k8s.io/client-go/metadata/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

var (
	podInfo = resourceInfo{
		gvr: schema.GroupVersionResource{Group: "core.skiff.dev", Version: "v1alpha1", Resource: "pods"},
		gvk: schema.GroupVersionKind{Group: "core.skiff.dev", Version: "v1alpha1", Kind: "Pod"}, namespaced: true,
	}
	// A cluster-scoped kind stands in for any owner kind: the collector
	// knows kinds only through discovery.
	nodeInfo = resourceInfo{
		gvr: schema.GroupVersionResource{Group: "core.skiff.dev", Version: "v1alpha1", Resource: "nodes"},
		gvk: schema.GroupVersionKind{Group: "core.skiff.dev", Version: "v1alpha1", Kind: "Node"},
	}
	replicaSetInfo = resourceInfo{
		gvr: schema.GroupVersionResource{Group: "apps.skiff.dev", Version: "v1alpha1", Resource: "replicasets"},
		gvk: schema.GroupVersionKind{Group: "apps.skiff.dev", Version: "v1alpha1", Kind: "ReplicaSet"}, namespaced: true,
	}
)

func object(info resourceInfo, ns, name string, owners ...metav1.OwnerReference) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{
		TypeMeta: metav1.TypeMeta{APIVersion: info.gvk.GroupVersion().String(), Kind: info.gvk.Kind},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name),
			OwnerReferences: owners, ResourceVersion: "1"},
	}
}

func ownedBy(info resourceInfo, name string, block bool) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: info.gvk.GroupVersion().String(), Kind: info.gvk.Kind, Name: name,
		UID: types.UID("uid-" + name), BlockOwnerDeletion: ptr.To(block)}
}

func deleting(obj *metav1.PartialObjectMetadata, finalizer string) *metav1.PartialObjectMetadata {
	obj.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	obj.Finalizers = []string{finalizer}
	return obj
}

type fixture struct {
	gc     *GarbageCollector
	client *metadatafake.FakeMetadataClient
}

// newFixture gives the collector the objects, both in the API and in its
// graph, as its informers would.
func newFixture(t *testing.T, objs ...*metav1.PartialObjectMetadata) *fixture {
	t.Helper()
	scheme := metadatafake.NewTestScheme()
	if err := metav1.AddMetaToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	var ros []runtime.Object
	for _, o := range objs {
		ros = append(ros, o.DeepCopy())
	}
	client := metadatafake.NewSimpleMetadataClient(scheme, ros...)
	gc := New(client, nil, nil)
	gc.monitors.sync(map[schema.GroupVersionResource]resourceInfo{podInfo.gvr: podInfo, nodeInfo.gvr: nodeInfo, replicaSetInfo.gvr: replicaSetInfo})
	f := &fixture{gc: gc, client: client}
	for _, o := range objs {
		f.observe(o, addEvent)
	}
	return f
}

func (f *fixture) observe(o *metav1.PartialObjectMetadata, t eventType) {
	gvk := schema.FromAPIVersionAndKind(o.APIVersion, o.Kind)
	f.gc.graph.processEvent(&event{eventType: t, obj: o, gvk: gvk}, f.gc.attemptToDelete, f.gc.attemptToOrphan)
}

// drain runs the queued work until none is left, feeding the graph the
// deletions it makes as an informer would.
func (f *fixture) drain(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < 100 && (f.gc.attemptToDelete.Len() > 0 || f.gc.attemptToOrphan.Len() > 0 || f.gc.graphChanges.Len() > 0); i++ {
		for f.gc.graphChanges.Len() > 0 {
			ev, _ := f.gc.graphChanges.Get()
			f.gc.graph.processEvent(ev, f.gc.attemptToDelete, f.gc.attemptToOrphan)
			f.gc.graphChanges.Done(ev)
		}
		for _, q := range []struct {
			queue interface {
				Len() int
			}
			run func() bool
		}{
			{f.gc.attemptToDelete, func() bool { return f.gc.processNext(ctx, f.gc.attemptToDelete, f.gc.attemptToDeleteItem) }},
			{f.gc.attemptToOrphan, func() bool { return f.gc.processNext(ctx, f.gc.attemptToOrphan, f.gc.attemptToOrphanItem) }},
		} {
			for q.queue.Len() > 0 {
				q.run()
			}
		}
		// What the collector deleted leaves the graph, as the informer
		// would report.
		for _, a := range f.client.Actions() {
			if d, ok := a.(k8stesting.DeleteAction); ok {
				f.observe(&metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: d.GetNamespace(), Name: d.GetName(), UID: types.UID("uid-" + d.GetName())}}, deleteEvent)
			}
		}
		f.client.ClearActions()
	}
}

func (f *fixture) get(t *testing.T, info resourceInfo, ns, name string) *metav1.PartialObjectMetadata {
	t.Helper()
	obj, err := f.client.Resource(info.gvr).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

func TestDependentOfAGoneOwnerIsDeleted(t *testing.T) {
	// The pod's ReplicaSet was deleted before the collector saw it: it is
	// a virtual node, checked and found gone.
	pod := object(podInfo, "default", "web-1", ownedBy(replicaSetInfo, "web", false))
	f := newFixture(t, pod)
	var policy *metav1.DeletionPropagation
	f.client.PrependReactor("delete", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		opts := a.(k8stesting.DeleteActionImpl).GetDeleteOptions()
		policy = opts.PropagationPolicy
		if opts.Preconditions == nil || opts.Preconditions.UID == nil || *opts.Preconditions.UID != pod.UID {
			t.Errorf("delete without the dependent's UID as precondition: %+v", opts.Preconditions)
		}
		return false, nil, nil
	})
	f.drain(t)
	if f.get(t, podInfo, "default", "web-1") != nil {
		t.Fatal("a pod whose owner is gone was not deleted")
	}
	if policy == nil || *policy != metav1.DeletePropagationBackground {
		t.Errorf("deleted with policy %v, want Background", policy)
	}
}

func TestDependentWithALiveOwnerStays(t *testing.T) {
	rs := object(replicaSetInfo, "default", "web")
	pod := object(podInfo, "default", "web-1", ownedBy(replicaSetInfo, "web", true))
	f := newFixture(t, rs, pod)
	f.gc.attemptToDelete.Add(f.gc.graph.uidToNode[pod.UID])
	f.drain(t)
	if got := f.get(t, podInfo, "default", "web-1"); got == nil || len(got.OwnerReferences) != 1 {
		t.Fatalf("a pod with a live owner was changed: %+v", got)
	}
}

func TestOnlyTheReferenceToAGoneOwnerIsDropped(t *testing.T) {
	live := object(replicaSetInfo, "default", "live")
	pod := object(podInfo, "default", "shared", ownedBy(replicaSetInfo, "live", false), ownedBy(replicaSetInfo, "gone", false))
	f := newFixture(t, live, pod)
	f.drain(t)
	got := f.get(t, podInfo, "default", "shared")
	if got == nil {
		t.Fatal("a pod with one live owner was deleted")
	}
	if len(got.OwnerReferences) != 1 || got.OwnerReferences[0].Name != "live" {
		t.Errorf("owner references = %+v, want only the live owner", got.OwnerReferences)
	}
}

func TestOrphanRemovesReferencesThenFinalizer(t *testing.T) {
	rs := deleting(object(replicaSetInfo, "default", "web"), metav1.FinalizerOrphanDependents)
	pod := object(podInfo, "default", "web-1", ownedBy(replicaSetInfo, "web", true))
	other := object(podInfo, "default", "web-2", ownedBy(replicaSetInfo, "web", true), ownedBy(nodeInfo, "n1", false))
	n1 := object(nodeInfo, "", "n1")
	f := newFixture(t, n1, pod, other, rs)
	f.drain(t)
	if got := f.get(t, podInfo, "default", "web-1"); got == nil || len(got.OwnerReferences) != 0 {
		t.Errorf("orphaned pod = %+v, want it kept without owner references", got)
	}
	if got := f.get(t, podInfo, "default", "web-2"); got == nil || len(got.OwnerReferences) != 1 || got.OwnerReferences[0].Name != "n1" {
		t.Errorf("orphaned pod with a second owner = %+v, want only that owner left", got)
	}
	if got := f.get(t, replicaSetInfo, "default", "web"); got == nil || len(got.Finalizers) != 0 {
		t.Errorf("owner = %+v, want its orphan finalizer removed", got)
	}
}

func TestForegroundDeletesDependentsFirst(t *testing.T) {
	rs := deleting(object(replicaSetInfo, "default", "web"), metav1.FinalizerDeleteDependents)
	blocking := object(podInfo, "default", "web-1", ownedBy(replicaSetInfo, "web", true))
	f := newFixture(t, blocking, rs)

	// One round: the blocking pod is deleted, the owner still waits.
	ctx := context.Background()
	for f.gc.attemptToDelete.Len() > 0 {
		f.gc.processNext(ctx, f.gc.attemptToDelete, f.gc.attemptToDeleteItem)
	}
	if f.get(t, podInfo, "default", "web-1") != nil {
		t.Fatal("the blocking dependent of a foreground deletion was not deleted")
	}
	if got := f.get(t, replicaSetInfo, "default", "web"); got == nil || len(got.Finalizers) != 1 {
		t.Fatalf("owner = %+v: its finalizer must stay until the pod is gone from the graph", got)
	}
	// The pod's deletion reaches the graph: the owner's finalizer goes.
	f.observe(blocking, deleteEvent)
	f.drain(t)
	if got := f.get(t, replicaSetInfo, "default", "web"); got == nil || len(got.Finalizers) != 0 {
		t.Errorf("owner = %+v, want its foregroundDeletion finalizer removed", got)
	}
}

func TestGraphLinksOwnersAndDependents(t *testing.T) {
	rs := object(replicaSetInfo, "default", "web")
	pod := object(podInfo, "default", "web-1", ownedBy(replicaSetInfo, "web", true))
	f := newFixture(t, pod)
	owner := f.gc.graph.uidToNode[rs.UID]
	if owner == nil || !owner.virtual {
		t.Fatalf("an owner seen only in a reference must be a virtual node, got %+v", owner)
	}
	f.observe(rs, addEvent)
	if owner.virtual || len(owner.dependents) != 1 {
		t.Errorf("observed owner: virtual=%v dependents=%d, want observed with one dependent", owner.virtual, len(owner.dependents))
	}
	// The pod drops its reference: the link goes.
	pod2 := pod.DeepCopy()
	pod2.OwnerReferences = nil
	f.observe(pod2, updateEvent)
	if len(owner.dependents) != 0 {
		t.Errorf("dependents after the reference was removed = %d, want 0", len(owner.dependents))
	}
}

func TestAGoneOwnerIsLookedUpOnceForAllItsDependents(t *testing.T) {
	rs := object(replicaSetInfo, "default", "web")
	objs := []*metav1.PartialObjectMetadata{rs}
	for i := range 5 {
		objs = append(objs, object(podInfo, "default", fmt.Sprintf("web-%d", i), ownedBy(replicaSetInfo, "web", false)))
	}
	f := newFixture(t, objs...)
	// The owner is deleted: the API no longer has it, the informer says so.
	if err := f.client.Resource(replicaSetInfo.gvr).Namespace("default").Delete(context.Background(), "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	f.client.ClearActions()
	f.observe(rs, deleteEvent)
	var ownerGets int
	f.client.PrependReactor("get", "replicasets", func(k8stesting.Action) (bool, runtime.Object, error) {
		ownerGets++
		return false, nil, nil
	})
	f.drain(t)
	for i := range 5 {
		if f.get(t, podInfo, "default", fmt.Sprintf("web-%d", i)) != nil {
			t.Errorf("dependent web-%d of a deleted owner was not deleted", i)
		}
	}
	if ownerGets > 0 {
		t.Errorf("the deleted owner was looked up %d times; its deletion was observed, so never", ownerGets)
	}
}
