package garbagecollector

import (
	"fmt"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/lru"
)

// objectReference names an object in the graph: an owner reference's
// coordinates plus the namespace.
type objectReference struct {
	metav1.OwnerReference
	Namespace string
}

func (r objectReference) String() string {
	return fmt.Sprintf("[%s/%s, namespace: %s, name: %s, uid: %s]", r.APIVersion, r.Kind, r.Namespace, r.Name, r.UID)
}

// node is one object in the dependency graph. All its fields are guarded
// by the graph's lock.
type node struct {
	identity objectReference
	// owners are the object's ownerReferences as last observed.
	owners []metav1.OwnerReference
	// dependents are the nodes whose ownerReferences name this one.
	dependents map[*node]struct{}
	// beingDeleted: the object has a deletionTimestamp.
	beingDeleted bool
	// deletingDependents: it is being deleted in the foreground (it holds
	// the foregroundDeletion finalizer) and waits for its dependents.
	deletingDependents bool
	// virtual: known only from a dependent's ownerReference, not (yet)
	// observed through an informer; it may not exist.
	virtual bool
}

// graph is the dependency graph: every watched object, linked to its
// owners. One goroutine (processGraphChanges) writes it; the workers read
// it under the same lock.
type graph struct {
	mu        sync.RWMutex
	uidToNode map[types.UID]*node
	// absent remembers owners known to be gone, so that deleting an owner
	// of a thousand dependents costs no thousand lookups of it.
	absent *lru.Cache
}

// absentOwnerCacheSize is upstream's.
const absentOwnerCacheSize = 500

// absentKey names an owner in the absent cache: its UID and coordinates
// (a reference with the right UID but another name is not that owner).
type absentKey struct {
	uid            types.UID
	kind, ns, name string
}

func newGraph() *graph {
	return &graph{uidToNode: map[types.UID]*node{}, absent: lru.New(absentOwnerCacheSize)}
}

// eventType is what an informer saw happen to an object.
type eventType int

const (
	addEvent eventType = iota
	updateEvent
	deleteEvent
)

// event is one change for the graph builder. A virtual delete event comes
// from a worker that found an object (often a virtual node) gone.
type event struct {
	eventType eventType
	obj       metav1.Object
	gvk       schema.GroupVersionKind
	virtual   bool
}

func hasFinalizer(obj metav1.Object, f string) bool {
	for _, x := range obj.GetFinalizers() {
		if x == f {
			return true
		}
	}
	return false
}

// processEvent applies one change to the graph and queues the work it
// causes: objects to delete (attemptToDelete) and owners whose dependents
// must be orphaned (attemptToOrphan).
func (g *graph) processEvent(ev *event, attemptToDelete, attemptToOrphan workqueue.TypedInterface[*node]) {
	g.mu.Lock()
	defer g.mu.Unlock()
	obj := ev.obj
	existing, found := g.uidToNode[obj.GetUID()]

	if ev.eventType == deleteEvent {
		if !found {
			return
		}
		klog.V(5).InfoS("Object gone from the graph", "object", existing.identity, "virtual", ev.virtual)
		g.removeNode(existing)
		if len(existing.dependents) > 0 && !ev.virtual {
			id := existing.identity
			g.absent.Add(absentKey{uid: id.UID, kind: id.Kind, ns: id.Namespace, name: id.Name}, nil)
		}
		// Dependents of a gone owner may now be garbage.
		for dep := range existing.dependents {
			attemptToDelete.Add(dep)
		}
		// An owner deleting in the foreground may be waiting for this one.
		for _, ref := range existing.owners {
			if owner, ok := g.uidToNode[ref.UID]; ok && owner.deletingDependents {
				attemptToDelete.Add(owner)
			}
		}
		return
	}

	identity := objectReference{
		OwnerReference: metav1.OwnerReference{APIVersion: ev.gvk.GroupVersion().String(), Kind: ev.gvk.Kind, Name: obj.GetName(), UID: obj.GetUID()},
		Namespace:      obj.GetNamespace(),
	}
	n := existing
	if !found {
		n = &node{identity: identity, dependents: map[*node]struct{}{}}
		g.uidToNode[obj.GetUID()] = n
	} else {
		n.identity = identity
		n.virtual = false
	}
	oldOwners := n.owners
	n.owners = append([]metav1.OwnerReference(nil), obj.GetOwnerReferences()...)
	g.relink(n, oldOwners, attemptToDelete)

	n.beingDeleted = obj.GetDeletionTimestamp() != nil
	wasDeletingDependents := n.deletingDependents
	n.deletingDependents = n.beingDeleted && hasFinalizer(obj, metav1.FinalizerDeleteDependents)

	if n.beingDeleted && hasFinalizer(obj, metav1.FinalizerOrphanDependents) {
		attemptToOrphan.Add(n)
	}
	if n.deletingDependents {
		if !wasDeletingDependents {
			for dep := range n.dependents {
				attemptToDelete.Add(dep)
			}
		}
		// With no blocking dependents left, its finalizer can go.
		attemptToDelete.Add(n)
	}
}

// relink updates the owner links of n from oldOwners to n.owners. An owner
// not in the graph becomes a virtual node, queued so a worker checks
// whether it exists; an owner no longer named, or one whose
// blockOwnerDeletion changed, is queued if it deletes in the foreground.
func (g *graph) relink(n *node, oldOwners []metav1.OwnerReference, attemptToDelete workqueue.TypedInterface[*node]) {
	old := map[types.UID]metav1.OwnerReference{}
	for _, ref := range oldOwners {
		old[ref.UID] = ref
	}
	for _, ref := range n.owners {
		prev, had := old[ref.UID]
		delete(old, ref.UID)
		owner, ok := g.uidToNode[ref.UID]
		if !ok {
			owner = &node{
				identity:   objectReference{OwnerReference: ref, Namespace: n.identity.Namespace},
				dependents: map[*node]struct{}{},
				virtual:    true,
			}
			g.uidToNode[ref.UID] = owner
			attemptToDelete.Add(owner)
		}
		owner.dependents[n] = struct{}{}
		switch {
		case !had && owner.deletingDependents:
			// A new dependent of an owner deleting in the foreground goes too.
			attemptToDelete.Add(n)
		case had && owner.deletingDependents && blocks(prev) != blocks(ref):
			attemptToDelete.Add(owner)
		}
	}
	for uid := range old {
		if owner, ok := g.uidToNode[uid]; ok {
			delete(owner.dependents, n)
			if owner.deletingDependents {
				attemptToDelete.Add(owner)
			}
		}
	}
}

func blocks(ref metav1.OwnerReference) bool {
	return ref.BlockOwnerDeletion != nil && *ref.BlockOwnerDeletion
}

// removeNode takes n out of the graph and out of its owners' dependents.
func (g *graph) removeNode(n *node) {
	delete(g.uidToNode, n.identity.UID)
	for _, ref := range n.owners {
		if owner, ok := g.uidToNode[ref.UID]; ok {
			delete(owner.dependents, n)
		}
	}
}

// snapshot is a worker's copy of what the graph knows about a node.
type snapshot struct {
	identity           objectReference
	virtual            bool
	deletingDependents bool
	dependents         []*node
	// blockingDependents are the dependents whose reference to this node
	// sets blockOwnerDeletion.
	blockingDependents []*node
}

func (g *graph) snapshot(n *node) snapshot {
	g.mu.RLock()
	defer g.mu.RUnlock()
	s := snapshot{identity: n.identity, virtual: n.virtual, deletingDependents: n.deletingDependents}
	for dep := range n.dependents {
		s.dependents = append(s.dependents, dep)
		for _, ref := range dep.owners {
			if ref.UID == n.identity.UID && blocks(ref) {
				s.blockingDependents = append(s.blockingDependents, dep)
			}
		}
	}
	return s
}

func (g *graph) identity(n *node) objectReference {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return n.identity
}

func (g *graph) isDeletingDependents(n *node) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return n.deletingDependents
}
