package auth

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"

	"skiff.dev/skiff/pkg/apis/core"
)

// fakePods knows which node each pod in namespace "default" is bound to.
type fakePods map[string]string

func (f fakePods) Get(ctx context.Context, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	ns, _ := genericapirequest.NamespaceFrom(ctx)
	node, ok := f[ns+"/"+name]
	if !ok {
		return nil, apierrors.NewNotFound(core.Resource("pods"), name)
	}
	return &core.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: core.PodSpec{NodeName: node}}, nil
}

var (
	master = &user.DefaultInfo{Name: "admin", Groups: []string{user.SystemPrivilegedGroup, user.AllAuthenticated}}
	anon   = &user.DefaultInfo{Name: user.Anonymous, Groups: []string{user.AllUnauthenticated}}
	alice  = &user.DefaultInfo{Name: "alice", Groups: []string{user.AllAuthenticated}}
	node1  = &user.DefaultInfo{Name: "system:node:n1", Groups: []string{NodesGroup, user.AllAuthenticated}}
	// fakeNode is named like a kubelet but not in system:nodes.
	fakeNode          = &user.DefaultInfo{Name: "system:node:n1", Groups: []string{user.AllAuthenticated}}
	scheduler         = &user.DefaultInfo{Name: SchedulerUser, Groups: []string{user.AllAuthenticated}}
	controllerManager = &user.DefaultInfo{Name: ControllerManagerUser, Groups: []string{user.AllAuthenticated}}
)

// res is a resource request in core.skiff.dev.
func res(u user.Info, verb, ns, resource, sub, name string) authorizer.AttributesRecord {
	return authorizer.AttributesRecord{
		User: u, Verb: verb, Namespace: ns, APIGroup: core.GroupName, APIVersion: "v1alpha1",
		Resource: resource, Subresource: sub, Name: name, ResourceRequest: true,
	}
}

// coreV1 is a request to the legacy core group (/api/v1).
func coreV1(u user.Info, verb, ns, resource, sub, name string) authorizer.AttributesRecord {
	r := res(u, verb, ns, resource, sub, name)
	r.APIGroup, r.APIVersion = "", "v1"
	return r
}

// path is a non-resource request.
func path(u user.Info, verb, p string) authorizer.AttributesRecord {
	return authorizer.AttributesRecord{User: u, Verb: verb, Path: p}
}

// withFieldSelector adds a list's field selector to a request.
func withFieldSelector(t *testing.T, a authorizer.AttributesRecord, selector string) authorizer.AttributesRecord {
	t.Helper()
	s, err := fields.ParseSelector(selector)
	if err != nil {
		t.Fatalf("parse %q: %v", selector, err)
	}
	a.FieldSelectorRequirements = s.Requirements()
	return a
}

func TestAuthorize(t *testing.T) {
	pods := fakePods{"default/on-n1": "n1", "default/on-n2": "n2", "default/unbound": ""}
	type tc struct {
		name        string
		attrs       authorizer.AttributesRecord
		allow       bool
		wantReasons []string // words the reason of a refusal must hold
	}
	tests := []tc{
		// system:masters
		{name: "a master deletes a pod", attrs: res(master, "delete", "default", "pods", "", "on-n1"), allow: true},
		{name: "a master reads metrics", attrs: path(master, "get", "/metrics"), allow: true},
		{name: "a master uses another API group", attrs: authorizer.AttributesRecord{User: master, Verb: "list", APIGroup: "apps", Resource: "deployments", ResourceRequest: true}, allow: true},

		// anonymous
		{name: "anyone reads /healthz", attrs: path(anon, "get", "/healthz"), allow: true},
		{name: "anyone reads a single health check", attrs: path(anon, "get", "/healthz/etcd"), allow: true},
		{name: "anyone reads /livez", attrs: path(anon, "get", "/livez"), allow: true},
		{name: "anyone reads /readyz", attrs: path(anon, "get", "/readyz"), allow: true},
		{name: "anyone reads /version", attrs: path(anon, "get", "/version"), allow: true},
		{name: "anonymous may not post to /healthz", attrs: path(anon, "post", "/healthz"), allow: false},
		{name: "anonymous may not read a path that only starts like /healthz", attrs: path(anon, "get", "/healthzz"), allow: false},
		{name: "anonymous may not read discovery", attrs: path(anon, "get", "/apis"), allow: false},
		{name: "anonymous may not read metrics", attrs: path(anon, "get", "/metrics"), allow: false},
		{name: "anonymous may not list pods", attrs: res(anon, "list", "default", "pods", "", ""), allow: false},

		// any authenticated user
		{name: "a user reads /api", attrs: path(alice, "get", "/api"), allow: true},
		{name: "a user reads /apis", attrs: path(alice, "get", "/apis"), allow: true},
		{name: "a user reads group discovery", attrs: path(alice, "get", "/apis/core.skiff.dev/v1alpha1"), allow: true},
		{name: "a user reads openapi", attrs: path(alice, "get", "/openapi/v3"), allow: true},
		{name: "a user may not read metrics", attrs: path(alice, "get", "/metrics"), allow: false},
		{name: "a user may not list pods", attrs: res(alice, "list", "default", "pods", "", ""), allow: false},
		{name: "a user may not create a binding", attrs: res(alice, "create", "default", "pods", "binding", "unbound"), allow: false},

		// a kubelet
		{name: "a node reads nodes", attrs: res(node1, "list", "", "nodes", "", ""), allow: true},
		{name: "a node reads another node", attrs: res(node1, "get", "", "nodes", "", "n2"), allow: true},
		{name: "a node registers (create is checked by admission)", attrs: res(node1, "create", "", "nodes", "", ""), allow: true},
		{name: "a node updates its own Node", attrs: res(node1, "update", "", "nodes", "", "n1"), allow: true},
		{name: "a node patches its own status", attrs: res(node1, "patch", "", "nodes", "status", "n1"), allow: true},
		{name: "a node updates its own status", attrs: res(node1, "update", "", "nodes", "status", "n1"), allow: true},
		{name: "a node may not update another node", attrs: res(node1, "update", "", "nodes", "", "n2"), allow: false,
			wantReasons: []string{"own Node", "n1"}},
		{name: "a node may not update another node's status", attrs: res(node1, "update", "", "nodes", "status", "n2"), allow: false,
			wantReasons: []string{"own Node"}},
		{name: "a node may not delete another node", attrs: res(node1, "delete", "", "nodes", "", "n2"), allow: false},
		{name: "a node lists its own pods", attrs: withFieldSelector(t, res(node1, "list", "", "pods", "", ""), "spec.nodeName=n1"), allow: true},
		{name: "a node watches its own pods with another field too", attrs: withFieldSelector(t, res(node1, "watch", "default", "pods", "", ""), "status.phase=Running,spec.nodeName==n1"), allow: true},
		{name: "a node may not list every pod", attrs: res(node1, "list", "", "pods", "", ""), allow: false,
			wantReasons: []string{"spec.nodeName=n1"}},
		{name: "a node may not list another node's pods", attrs: withFieldSelector(t, res(node1, "list", "", "pods", "", ""), "spec.nodeName=n2"), allow: false},
		{name: "a node may not list all but its own pods", attrs: withFieldSelector(t, res(node1, "list", "", "pods", "", ""), "spec.nodeName!=n1"), allow: false},
		{name: "a node may not list pods with a selector it failed to parse", attrs: func() authorizer.AttributesRecord {
			a := res(node1, "list", "", "pods", "", "")
			a.FieldSelectorRequirements = fields.Requirements{{Field: "spec.nodeName", Operator: selection.Equals, Value: "n1"}}
			a.FieldSelectorParsingErr = apierrors.NewBadRequest("bad selector")
			return a
		}(), allow: false},
		{name: "a node gets a pod bound to it", attrs: res(node1, "get", "default", "pods", "", "on-n1"), allow: true},
		{name: "a node updates the status of a pod bound to it", attrs: res(node1, "update", "default", "pods", "status", "on-n1"), allow: true},
		{name: "a node patches the status of a pod bound to it", attrs: res(node1, "patch", "default", "pods", "status", "on-n1"), allow: true},
		{name: "a node deletes a pod bound to it", attrs: res(node1, "delete", "default", "pods", "", "on-n1"), allow: true},
		{name: "a node may not update the status of a pod bound elsewhere", attrs: res(node1, "update", "default", "pods", "status", "on-n2"), allow: false,
			wantReasons: []string{"on-n2", "not bound", "n1"}},
		{name: "a node may not update the status of an unbound pod", attrs: res(node1, "update", "default", "pods", "status", "unbound"), allow: false},
		{name: "a node may not touch a pod that does not exist", attrs: res(node1, "update", "default", "pods", "status", "ghost"), allow: false},
		{name: "a node may not delete a pod bound elsewhere", attrs: res(node1, "delete", "default", "pods", "", "on-n2"), allow: false},
		{name: "a node may not look up a pod of the same name in another namespace", attrs: res(node1, "get", "other", "pods", "", "on-n1"), allow: false},
		{name: "a node may not update a pod's spec", attrs: res(node1, "update", "default", "pods", "", "on-n1"), allow: false},
		{name: "a node may not bind pods", attrs: res(node1, "create", "default", "pods", "binding", "unbound"), allow: false},
		{name: "a node may not create pods", attrs: res(node1, "create", "default", "pods", "", ""), allow: false},
		{name: "a node renews its lease", attrs: res(node1, "update", NodeLeaseNamespace, "leases", "", "n1"), allow: true},
		{name: "a node creates its lease", attrs: res(node1, "create", NodeLeaseNamespace, "leases", "", ""), allow: true},
		{name: "a node may not renew another node's lease", attrs: res(node1, "update", NodeLeaseNamespace, "leases", "", "n2"), allow: false,
			wantReasons: []string{"own Lease"}},
		{name: "a node may not write leases elsewhere", attrs: res(node1, "update", "default", "leases", "", "n1"), allow: false},
		{name: "a node creates core/v1 events", attrs: coreV1(node1, "create", "default", "events", "", ""), allow: true},
		{name: "a node patches core/v1 events in any namespace", attrs: coreV1(node1, "patch", "team-a", "events", "", "e"), allow: true},
		{name: "a node may not delete events", attrs: coreV1(node1, "delete", "default", "events", "", "e"), allow: false},
		{name: "a node may not read namespaces", attrs: coreV1(node1, "list", "", "namespaces", "", ""), allow: false},
		{name: "skiff's group has no events any more", attrs: res(node1, "create", "default", "events", "", ""), allow: false},
		{name: "a user named like a node but not in system:nodes is not a node", attrs: res(fakeNode, "update", "", "nodes", "", "n1"), allow: false},

		// the scheduler
		{name: "the scheduler lists pods", attrs: res(scheduler, "list", "", "pods", "", ""), allow: true},
		{name: "the scheduler watches nodes", attrs: res(scheduler, "watch", "", "nodes", "", ""), allow: true},
		{name: "the scheduler binds a pod", attrs: res(scheduler, "create", "default", "pods", "binding", "unbound"), allow: true},
		{name: "the scheduler creates a binding", attrs: res(scheduler, "create", "default", "bindings", "", ""), allow: true},
		{name: "the scheduler records why a pod is unschedulable", attrs: res(scheduler, "patch", "default", "pods", "status", "unbound"), allow: true},
		{name: "the scheduler creates core/v1 events", attrs: coreV1(scheduler, "create", "default", "events", "", ""), allow: true},
		{name: "the scheduler may not delete namespaces", attrs: coreV1(scheduler, "delete", "", "namespaces", "", "default"), allow: false},
		{name: "the scheduler watches namespaces for namespaceSelector", attrs: coreV1(scheduler, "watch", "", "namespaces", "", ""), allow: true},
		{name: "the scheduler lists namespaces", attrs: coreV1(scheduler, "list", "", "namespaces", "", ""), allow: true},
		{name: "the scheduler may not finalize namespaces", attrs: coreV1(scheduler, "update", "", "namespaces", "finalize", "x"), allow: false},
		{name: "the scheduler holds its leader lease", attrs: res(scheduler, "update", SchedulerLeaseNamespace, "leases", "", "skiff-scheduler"), allow: true},
		{name: "the scheduler may not take a node's lease", attrs: res(scheduler, "update", NodeLeaseNamespace, "leases", "", "n1"), allow: false},
		{name: "the scheduler deletes preemption victims", attrs: res(scheduler, "delete", "default", "pods", "", "on-n1"), allow: true},
		{name: "the scheduler may not delete pods in bulk", attrs: res(scheduler, "deletecollection", "default", "pods", "", ""), allow: false},
		{name: "the scheduler nominates a node in pod status", attrs: res(scheduler, "patch", "default", "pods", "status", "preemptor"), allow: true},
		{name: "the scheduler lists priority classes", attrs: res(scheduler, "list", "", "priorityclasses", "", ""), allow: true},
		{name: "the scheduler watches priority classes", attrs: res(scheduler, "watch", "", "priorityclasses", "", ""), allow: true},
		{name: "the scheduler gets a priority class", attrs: res(scheduler, "get", "", "priorityclasses", "", "high"), allow: true},
		{name: "the scheduler may not create priority classes", attrs: res(scheduler, "create", "", "priorityclasses", "", ""), allow: false},
		{name: "the scheduler may not delete priority classes", attrs: res(scheduler, "delete", "", "priorityclasses", "", "high"), allow: false},
		{name: "the scheduler may not update pods", attrs: res(scheduler, "update", "default", "pods", "", "on-n1"), allow: false},
		{name: "the scheduler may not update nodes", attrs: res(scheduler, "update", "", "nodes", "", "n1"), allow: false},

		// other API groups
		{name: "a node may not touch other API groups", attrs: authorizer.AttributesRecord{User: node1, Verb: "get", APIGroup: "", APIVersion: "v1", Resource: "secrets", Name: "s", Namespace: "default", ResourceRequest: true}, allow: false,
			wantReasons: []string{core.GroupName}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAuthorizer()
			a.SetPodGetter(pods)
			decision, reason, err := a.Authorize(context.Background(), tt.attrs)
			if err != nil {
				t.Fatalf("Authorize: %v", err)
			}
			if got := decision == authorizer.DecisionAllow; got != tt.allow {
				t.Fatalf("allowed = %v (decision %v, reason %q), want %v", got, decision, reason, tt.allow)
			}
			if !tt.allow && decision != authorizer.DecisionNoOpinion && decision != authorizer.DecisionDeny {
				t.Errorf("decision = %v", decision)
			}
			for _, w := range tt.wantReasons {
				if !strings.Contains(reason, w) {
					t.Errorf("reason %q does not mention %q", reason, w)
				}
			}
		})
	}
}

// TestAuthorizeBeforePodsAreKnown: until the pod storage exists the
// authorizer cannot tell where a pod is bound, and must refuse rather than
// guess.
func TestAuthorizeBeforePodsAreKnown(t *testing.T) {
	a := NewAuthorizer()
	decision, _, err := a.Authorize(context.Background(), res(node1, "update", "default", "pods", "status", "on-n1"))
	if err != nil || decision == authorizer.DecisionAllow {
		t.Errorf("decision without a pod getter = %v, %v; want a refusal", decision, err)
	}
	decision, _, _ = a.Authorize(context.Background(), res(master, "update", "default", "pods", "status", "on-n1"))
	if decision != authorizer.DecisionAllow {
		t.Errorf("a master was refused before pods were known: %v", decision)
	}
}

func TestAuthorizeNoUser(t *testing.T) {
	decision, _, _ := NewAuthorizer().Authorize(context.Background(), authorizer.AttributesRecord{Verb: "get", Path: "/healthz"})
	if decision == authorizer.DecisionAllow {
		t.Error("a request without a user was allowed")
	}
}

func TestConditionsAwareAuthorizeAgrees(t *testing.T) {
	a := NewAuthorizer()
	a.SetPodGetter(fakePods{"default/on-n1": "n1"})
	for _, attrs := range []authorizer.AttributesRecord{
		res(node1, "update", "default", "pods", "status", "on-n1"),
		res(node1, "update", "", "nodes", "", "n2"),
	} {
		want, _, _ := a.Authorize(context.Background(), attrs)
		got := a.ConditionsAwareAuthorize(context.Background(), attrs)
		if (want == authorizer.DecisionAllow) != got.IsAllow() {
			t.Errorf("%s %s/%s %s: ConditionsAwareAuthorize allowed=%v, Authorize said %v", attrs.Verb, attrs.Resource, attrs.Subresource, attrs.Name, got.IsAllow(), want)
		}
	}
}

func TestAuthorizeControllerManager(t *testing.T) {
	cm := &user.DefaultInfo{Name: ControllerManagerUser, Groups: []string{user.AllAuthenticated}}
	in := func(group, verb, ns, resource, sub, name string) authorizer.AttributesRecord {
		a := res(cm, verb, ns, resource, sub, name)
		a.APIGroup = group
		return a
	}
	const apps = "apps.skiff.dev"
	tests := []struct {
		name  string
		attrs authorizer.AttributesRecord
		allow bool
	}{
		// every controller watches what it acts on; the GC watches every kind
		{"it watches pods", res(cm, "watch", "", "pods", "", ""), true},
		{"it lists nodes", res(cm, "list", "", "nodes", "", ""), true},
		{"it reads node leases (heartbeats)", res(cm, "list", NodeLeaseNamespace, "leases", "", ""), true},
		{"its GC watches namespaces in the legacy group", in("", "watch", "", "namespaces", "", ""), true},
		{"its GC watches ReplicaSets", in(apps, "watch", "", "replicasets", "", ""), true},
		// the garbage collector
		{"its GC patches an object's ownerReferences", res(cm, "patch", "default", "pods", "", "p"), true},
		{"its GC deletes a dependent", in(apps, "delete", "default", "replicasets", "", "rs"), true},
		{"its GC may not delete collections", res(cm, "deletecollection", "default", "pods", "", ""), false},
		// node lifecycle
		{"node lifecycle taints a node", res(cm, "update", "", "nodes", "", "n1"), true},
		{"node lifecycle marks a node Ready=Unknown", res(cm, "patch", "", "nodes", "status", "n1"), true},
		{"it may not create nodes", res(cm, "create", "", "nodes", "", ""), false},
		// eviction, pod GC, ReplicaSets
		{"taint eviction deletes a pod", res(cm, "delete", "default", "pods", "", "p"), true},
		{"the ReplicaSet controller creates pods", res(cm, "create", "default", "pods", "", ""), true},
		{"the Deployment controller creates ReplicaSets", in(apps, "create", "default", "replicasets", "", ""), true},
		{"the ReplicaSet controller writes status", in(apps, "update", "default", "replicasets", "status", "rs"), true},
		{"it may not bind pods", res(cm, "create", "default", "pods", "binding", "p"), false},
		{"it may not write pod status", res(cm, "update", "default", "pods", "status", "p"), false},
		{"it may not read pod logs", res(cm, "get", "default", "pods", "log", "p"), false},
		// the namespace controller
		{"the namespace controller removes its finalizer", in("", "update", "", "namespaces", "finalize", "x"), true},
		{"the namespace controller marks progress", in("", "update", "", "namespaces", "status", "x"), true},
		{"it may not create namespaces", in("", "create", "", "namespaces", "", ""), false},
		// events and its own lease
		{"it records events", res(cm, "create", "default", "events", "", ""), true},
		{"the namespace controller lists a namespace's events", in("", "list", "team-a", "events", "", ""), true},
		{"the namespace controller deletes an event", in("", "delete", "team-a", "events", "", "e"), true},
		{"it may not delete collections of events", in("", "deletecollection", "team-a", "events", "", ""), false},
		{"it holds its leader lease", res(cm, "update", SchedulerLeaseNamespace, "leases", "", "skiff-controller-manager"), true},
		{"it creates its leader lease", res(cm, "create", SchedulerLeaseNamespace, "leases", "", ""), true},
		{"it may not renew a node's lease", res(cm, "update", NodeLeaseNamespace, "leases", "", "n1"), false},
		{"it may not create a node's lease", res(cm, "create", NodeLeaseNamespace, "leases", "", ""), false},
		// nothing outside skiff's groups
		{"it may not read secrets of a host cluster's group", in("rbac.authorization.k8s.io", "list", "", "roles", "", ""), false},
		{"it may not read metrics", path(cm, "get", "/metrics"), false},
		{"it reads discovery", path(cm, "get", "/apis"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			decision, reason, err := NewAuthorizer().Authorize(context.Background(), tt.attrs)
			if err != nil {
				t.Fatal(err)
			}
			if got := decision == authorizer.DecisionAllow; got != tt.allow {
				t.Errorf("allowed = %v (reason %q), want %v", got, reason, tt.allow)
			}
		})
	}
}
