package auth

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"

	"skiff.dev/skiff/pkg/apis/core"
)

const (
	// NodeUserPrefix starts every kubelet's user name: system:node:<node>.
	NodeUserPrefix = "system:node:"
	// NodesGroup is the group every kubelet is in.
	NodesGroup = "system:nodes"
	// SchedulerUser is the scheduler's identity.
	SchedulerUser = "system:kube-scheduler"
	// ControllerManagerUser is skiff-controller-manager's identity.
	ControllerManagerUser = "system:kube-controller-manager"
	// NodeLeaseNamespace holds the kubelets' heartbeat leases.
	NodeLeaseNamespace = "skiff-node-lease"
	// SchedulerLeaseNamespace holds the scheduler's leader-election lease.
	SchedulerLeaseNamespace = "skiff-system"
)

// PodGetter reads a pod; the authorizer asks it which node a pod is bound to.
type PodGetter interface {
	Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error)
}

// Authorizer is skiff's built-in authorizer for standalone mode:
//   - system:masters may do everything;
//   - anyone, even unauthenticated, may read the health and version endpoints,
//     and any authenticated user may read discovery and OpenAPI;
//   - a kubelet (system:node:<name> in system:nodes) may read nodes and its own
//     pods, write its own Node, its Lease, the status of its pods, delete
//     its pods, and write core/v1 events (corev1.go);
//   - the scheduler may read pods, nodes and priority classes, bind pods,
//     write pod status (nominatedNodeName among it) and core/v1 events,
//     delete pods (preemption's victims), and hold its leader-election
//     lease;
//   - the controller manager may do what its controllers do (see
//     authorizeControllerManager);
//   - every authenticated user may create self reviews (kubectl auth can-i,
//     kubectl auth whoami), kubelets token and subject access reviews, and
//     the API server's kubelet client may use the kubelet API (reviews.go).
//
// Everything else is denied, with the reason in the 403 message.
type Authorizer struct {
	pods atomic.Pointer[PodGetter]
}

var _ authorizer.Authorizer = &Authorizer{}

// NewAuthorizer returns the authorizer; SetPodGetter must be called before
// it can allow a kubelet anything that depends on where a pod is bound.
func NewAuthorizer() *Authorizer { return &Authorizer{} }

// SetPodGetter gives the authorizer its view of pods. The pod storage is
// built after the authorizer, when the API group is installed.
func (a *Authorizer) SetPodGetter(g PodGetter) { a.pods.Store(&g) }

var publicPaths = []string{"/healthz", "/livez", "/readyz", "/version"}

var discoveryPaths = []string{"/api", "/apis", "/openapi"}

func hasPathPrefix(path string, prefixes []string) bool {
	for _, p := range prefixes {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

// Authorize decides one request.
func (a *Authorizer) Authorize(ctx context.Context, attrs authorizer.Attributes) (authorizer.Decision, string, error) {
	u := attrs.GetUser()
	if u == nil {
		return authorizer.DecisionDeny, "no user on the request", nil
	}
	groups := u.GetGroups()
	if contains(groups, user.SystemPrivilegedGroup) {
		return authorizer.DecisionAllow, "", nil
	}
	if !attrs.IsResourceRequest() {
		path := attrs.GetPath()
		if attrs.GetVerb() == "get" && hasPathPrefix(path, publicPaths) {
			return authorizer.DecisionAllow, "", nil
		}
		if attrs.GetVerb() == "get" && contains(groups, user.AllAuthenticated) && hasPathPrefix(path, discoveryPaths) {
			return authorizer.DecisionAllow, "", nil
		}
		return authorizer.DecisionNoOpinion, "", nil
	}
	if d, reason, ok := authorizeReviewsAndKubeletAPI(u, attrs); ok {
		return d, reason, nil
	}
	if d, reason, ok := authorizeCoreV1(u, attrs); ok {
		return d, reason, nil
	}
	if u.GetName() == ControllerManagerUser {
		// Before the group check: its garbage collector reaches every group.
		return authorizeControllerManager(attrs)
	}
	if attrs.GetAPIGroup() != core.GroupName {
		return authorizer.DecisionNoOpinion, fmt.Sprintf("skiff serves only the %s API group", core.GroupName), nil
	}
	if nodeName, ok := NodeIdentity(u); ok {
		return a.authorizeNode(ctx, nodeName, attrs)
	}
	if u.GetName() == SchedulerUser {
		return authorizeScheduler(attrs)
	}
	return authorizer.DecisionNoOpinion, "", nil
}

// NodeIdentity returns the node a kubelet's user stands for: its name is
// system:node:<node> and it is in group system:nodes.
func NodeIdentity(u user.Info) (string, bool) {
	name := u.GetName()
	if !strings.HasPrefix(name, NodeUserPrefix) || !contains(u.GetGroups(), NodesGroup) {
		return "", false
	}
	node := strings.TrimPrefix(name, NodeUserPrefix)
	return node, node != ""
}

var readVerbs = []string{"get", "list", "watch"}

func (a *Authorizer) authorizeNode(ctx context.Context, nodeName string, attrs authorizer.Attributes) (authorizer.Decision, string, error) {
	verb, resource, sub, name := attrs.GetVerb(), attrs.GetResource(), attrs.GetSubresource(), attrs.GetName()
	switch {
	case resource == "nodes" && sub == "" && contains(readVerbs, verb):
		return authorizer.DecisionAllow, "", nil
	case resource == "nodes" && (sub == "" || sub == "status"):
		if verb == "create" && sub == "" {
			// A create names its object in the body, which the authorizer
			// does not see: the NodeRestriction admission plugin checks it.
			return authorizer.DecisionAllow, "", nil
		}
		return allowIf(name == nodeName && contains([]string{"update", "patch"}, verb),
			fmt.Sprintf("a node may write only its own Node %q", nodeName))
	case resource == "pods" && sub == "" && (verb == "list" || verb == "watch"):
		return allowIf(selectsNode(attrs, nodeName),
			fmt.Sprintf("a node may list and watch only pods with fieldSelector spec.nodeName=%s", nodeName))
	case resource == "pods" && (sub == "" || sub == "status" || sub == "log") && verb == "get",
		resource == "pods" && sub == "status" && (verb == "update" || verb == "patch"),
		resource == "pods" && sub == "" && verb == "delete":
		return a.allowIfBoundTo(ctx, attrs, nodeName)
	case resource == "leases":
		return allowIf(attrs.GetNamespace() == NodeLeaseNamespace && (name == nodeName || (name == "" && verb == "create")) &&
			contains([]string{"get", "create", "update", "patch"}, verb),
			fmt.Sprintf("a node may use only its own Lease %s/%s", NodeLeaseNamespace, nodeName))
	}
	return authorizer.DecisionNoOpinion, "not a kubelet's request", nil
}

// allowIfBoundTo allows a request on a pod that is bound to nodeName.
func (a *Authorizer) allowIfBoundTo(ctx context.Context, attrs authorizer.Attributes, nodeName string) (authorizer.Decision, string, error) {
	getter := a.pods.Load()
	if getter == nil || attrs.GetName() == "" {
		return authorizer.DecisionNoOpinion, "pod bindings are not known yet", nil
	}
	ctx = genericapirequest.WithNamespace(ctx, attrs.GetNamespace())
	// ResourceVersion "0" is served from the watch cache: authorizing a
	// kubelet's status write costs no etcd round trip.
	obj, err := (*getter).Get(ctx, attrs.GetName(), &metav1.GetOptions{ResourceVersion: "0"})
	if err != nil {
		return authorizer.DecisionNoOpinion, fmt.Sprintf("cannot tell which node pod %s/%s is bound to", attrs.GetNamespace(), attrs.GetName()), nil
	}
	pod, ok := obj.(*core.Pod)
	if !ok || pod.Spec.NodeName != nodeName {
		return authorizer.DecisionNoOpinion, fmt.Sprintf("pod %s/%s is not bound to node %q", attrs.GetNamespace(), attrs.GetName(), nodeName), nil
	}
	return authorizer.DecisionAllow, "", nil
}

// selectsNode reports whether a list or watch is restricted to one node's
// pods by its field selector.
func selectsNode(attrs authorizer.Attributes, nodeName string) bool {
	reqs, err := attrs.GetFieldSelector()
	if err != nil {
		return false
	}
	for _, r := range reqs {
		if r.Field == "spec.nodeName" && (r.Operator == selection.Equals || r.Operator == selection.DoubleEquals) && r.Value == nodeName {
			return true
		}
	}
	return false
}

func authorizeScheduler(attrs authorizer.Attributes) (authorizer.Decision, string, error) {
	verb, resource, sub := attrs.GetVerb(), attrs.GetResource(), attrs.GetSubresource()
	switch {
	case (resource == "pods" || resource == "nodes") && sub == "" && contains(readVerbs, verb):
		return authorizer.DecisionAllow, "", nil
	case resource == "pods" && sub == "binding" && verb == "create",
		resource == "bindings" && verb == "create":
		return authorizer.DecisionAllow, "", nil
	case resource == "pods" && sub == "status" && contains([]string{"get", "update", "patch"}, verb):
		return authorizer.DecisionAllow, "", nil
	// Preemption deletes its victims, as upstream's system:kube-scheduler
	// role allows.
	case resource == "pods" && sub == "" && verb == "delete":
		return authorizer.DecisionAllow, "", nil
	case resource == "priorityclasses" && sub == "" && contains(readVerbs, verb):
		return authorizer.DecisionAllow, "", nil
	case resource == "leases":
		return allowIf(attrs.GetNamespace() == SchedulerLeaseNamespace && contains([]string{"get", "create", "update", "patch", "watch", "list"}, verb),
			fmt.Sprintf("the scheduler may use leases only in namespace %s", SchedulerLeaseNamespace))
	}
	return authorizer.DecisionNoOpinion, "not a scheduler's request", nil
}

func allowIf(ok bool, reason string) (authorizer.Decision, string, error) {
	if ok {
		return authorizer.DecisionAllow, "", nil
	}
	return authorizer.DecisionNoOpinion, reason, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ConditionsAwareAuthorize gives the same decision as Authorize: skiff's
// rules are unconditional.
func (a *Authorizer) ConditionsAwareAuthorize(ctx context.Context, attrs authorizer.Attributes) authorizer.ConditionsAwareDecision {
	return authorizer.ConditionsAwareDecisionFromParts(a.Authorize(ctx, attrs))
}

// EvaluateConditions is never reached: skiff returns no conditional decisions.
func (a *Authorizer) EvaluateConditions(context.Context, authorizer.ConditionsAwareDecision, authorizer.ConditionsData) (authorizer.Decision, string, error) {
	return authorizer.DecisionDeny, "", authorizer.ErrorConditionEvaluationNotSupported
}

// controllerManagerGroups are the API groups the controller manager acts
// in: skiff's own, and the legacy core group whose Namespaces its garbage
// collector watches.
var controllerManagerGroups = []string{core.GroupName, "apps.skiff.dev", ""}

// authorizeControllerManager confines system:kube-controller-manager to
// what its controllers do:
//   - every controller reads (get, list, watch) the kinds it watches, and
//     the garbage collector watches every kind, so reads are allowed on
//     every resource of skiff's groups;
//   - the garbage collector patches metadata (ownerReferences, finalizers)
//     and deletes dependents of any kind; the taint eviction and pod GC
//     controllers delete pods;
//   - the node lifecycle controller updates nodes (NoExecute taints) and
//     patches nodes/status (Ready=Unknown);
//   - the ReplicaSet and Deployment controllers create pods and write
//     apps.skiff.dev objects and their status;
//   - the namespace controller updates namespaces/status and
//     namespaces/finalize;
//   - it writes events, and holds its leader Lease in skiff-system.
//
// It may not bind pods, read logs or exec into them, write pod status,
// create nodes, delete collections, or write leases outside skiff-system
// (a kubelet's heartbeat is the kubelet's alone).
func authorizeControllerManager(attrs authorizer.Attributes) (authorizer.Decision, string, error) {
	group, verb, resource, sub := attrs.GetAPIGroup(), attrs.GetVerb(), attrs.GetResource(), attrs.GetSubresource()
	if !contains(controllerManagerGroups, group) {
		return authorizer.DecisionNoOpinion, fmt.Sprintf("the controller manager acts only in groups %q", controllerManagerGroups), nil
	}
	switch {
	case resource == "events":
		// Its controllers write events; the namespace controller reads and
		// deletes those of a deleted namespace.
		return allowIf(sub == "" && contains([]string{"create", "update", "patch", "get", "list", "watch", "delete"}, verb),
			"the controller manager may write, read and delete events, not delete their collections")
	case resource == "leases" && sub == "" && contains([]string{"create", "update"}, verb):
		return allowIf(attrs.GetNamespace() == SchedulerLeaseNamespace,
			fmt.Sprintf("the controller manager may write leases only in namespace %s", SchedulerLeaseNamespace))
	case sub == "" && contains(readVerbs, verb),
		sub == "" && (verb == "patch" || verb == "delete"):
		return authorizer.DecisionAllow, "", nil
	case resource == "nodes" && sub == "" && verb == "update",
		resource == "nodes" && sub == "status" && (verb == "patch" || verb == "update"):
		return authorizer.DecisionAllow, "", nil
	case resource == "pods" && sub == "" && verb == "create":
		return authorizer.DecisionAllow, "", nil
	case group == "apps.skiff.dev" && (sub == "" || sub == "status") && contains([]string{"create", "update", "patch"}, verb):
		return authorizer.DecisionAllow, "", nil
	case group == "" && resource == "namespaces" && (sub == "finalize" || sub == "status") && verb == "update":
		// The namespace controller marks progress and removes its finalizer.
		return authorizer.DecisionAllow, "", nil
	}
	return authorizer.DecisionNoOpinion, "not a controller manager's request", nil
}
