package auth

import (
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// eventWriteVerbs are what client-go's event recorder does: create an
// event, then patch (or update) its count as it repeats.
var eventWriteVerbs = []string{"create", "update", "patch"}

// authorizeCoreV1 decides the requests of components to the legacy core
// group that skiff serves in standalone mode (namespaces and events): the
// kubelets and the scheduler write core/v1 Events in any namespace, as
// their upstream roles allow (system:node, system:kube-scheduler), and the
// scheduler reads namespaces. Nobody else but system:masters (and the
// controller manager, see authorizeControllerManager) reads or writes
// namespaces: upstream grants that only through RBAC. ok is false for a
// request this function does not decide.
func authorizeCoreV1(u user.Info, attrs authorizer.Attributes) (d authorizer.Decision, reason string, ok bool) {
	// The scheduler reads namespaces, as upstream's role allows: a pod
	// affinity term's namespaceSelector selects them by label.
	if u.GetName() == SchedulerUser && attrs.GetAPIGroup() == "" && attrs.GetResource() == "namespaces" &&
		attrs.GetSubresource() == "" && contains(readVerbs, attrs.GetVerb()) {
		return authorizer.DecisionAllow, "", true
	}
	if attrs.GetAPIGroup() != "" || attrs.GetResource() != "events" {
		return authorizer.DecisionNoOpinion, "", false
	}
	_, isNode := NodeIdentity(u)
	if !isNode && u.GetName() != SchedulerUser {
		return authorizer.DecisionNoOpinion, "", false
	}
	if attrs.GetSubresource() == "" && contains(eventWriteVerbs, attrs.GetVerb()) {
		return authorizer.DecisionAllow, "", true
	}
	return authorizer.DecisionNoOpinion, "components may only write events", true
}

// coreV1Rules lists authorizeCoreV1's rules for u, for RulesFor.
func coreV1Rules(u user.Info) []authorizer.ResourceRuleInfo {
	if _, isNode := NodeIdentity(u); !isNode && u.GetName() != SchedulerUser {
		return nil
	}
	rules := []authorizer.ResourceRuleInfo{rule(eventWriteVerbs, "", "events")}
	if u.GetName() == SchedulerUser {
		rules = append(rules, rule(readVerbs, "", "namespaces"))
	}
	return rules
}
