package auth

import (
	"context"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"skiff.dev/skiff/pkg/apis/core"
)

var _ authorizer.RuleResolver = &Authorizer{}

// RulesFor lists what u may do in namespace, for SelfSubjectRulesReview
// (kubectl auth can-i --list). It restates Authorize's rules as data; the
// tests check that Authorize allows every rule listed. Rules that depend
// on the object (a kubelet's own Node and Lease, pods bound to it) or on a
// field selector are listed by resource name where one is known, and
// otherwise left out with incomplete set, as upstream's node authorizer
// does.
func (a *Authorizer) RulesFor(_ context.Context, u user.Info, namespace string) ([]authorizer.ResourceRuleInfo, []authorizer.NonResourceRuleInfo, bool, error) {
	groups := u.GetGroups()
	nonResource := []authorizer.NonResourceRuleInfo{
		&authorizer.DefaultNonResourceRuleInfo{Verbs: []string{"get"}, NonResourceURLs: publicURLs()},
	}
	if contains(groups, user.SystemPrivilegedGroup) {
		return []authorizer.ResourceRuleInfo{
				&authorizer.DefaultResourceRuleInfo{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}},
			}, []authorizer.NonResourceRuleInfo{
				&authorizer.DefaultNonResourceRuleInfo{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}},
			}, false, nil
	}
	if !contains(groups, user.AllAuthenticated) {
		return nil, nonResource, false, nil
	}
	nonResource = append(nonResource, &authorizer.DefaultNonResourceRuleInfo{Verbs: []string{"get"}, NonResourceURLs: discoveryURLs()})
	resource := []authorizer.ResourceRuleInfo{
		rule([]string{"create"}, authorizationv1.GroupName, "selfsubjectaccessreviews", "selfsubjectrulesreviews"),
		rule([]string{"create"}, authenticationv1.GroupName, "selfsubjectreviews"),
	}
	incomplete := false
	if nodeName, ok := NodeIdentity(u); ok {
		resource = append(resource,
			rule(readVerbs, core.GroupName, "nodes"),
			rule([]string{"create"}, core.GroupName, "nodes"),
			named(rule([]string{"update", "patch"}, core.GroupName, "nodes", "nodes/status"), nodeName),
		)
		if namespace == NodeLeaseNamespace || namespace == "*" {
			resource = append(resource,
				rule([]string{"create"}, core.GroupName, "leases"),
				named(rule([]string{"get", "create", "update", "patch"}, core.GroupName, "leases"), nodeName))
		}
		// Pods: only those bound to the node, and lists only by
		// spec.nodeName; no rule can say that.
		incomplete = true
	}
	if u.GetName() == SchedulerUser {
		resource = append(resource,
			rule(readVerbs, core.GroupName, "pods", "nodes", "priorityclasses"),
			rule([]string{"create"}, core.GroupName, "pods/binding", "bindings"),
			rule([]string{"get", "update", "patch"}, core.GroupName, "pods/status"),
			rule([]string{"delete"}, core.GroupName, "pods"),
		)
		if namespace == SchedulerLeaseNamespace || namespace == "*" {
			resource = append(resource, rule([]string{"get", "create", "update", "patch", "watch", "list"}, core.GroupName, "leases"))
		}
	}
	resource = append(resource, coreV1Rules(u)...)
	if isDelegator(u) {
		resource = append(resource,
			rule([]string{"create"}, authenticationv1.GroupName, "tokenreviews"),
			rule([]string{"create"}, authorizationv1.GroupName, "subjectaccessreviews"))
	}
	if u.GetName() == KubeletClientUser {
		subs := make([]string, len(kubeletAPISubresources))
		for i, s := range kubeletAPISubresources {
			subs[i] = "nodes/" + s
		}
		resource = append(resource, rule([]string{"*"}, "", subs...))
	}
	return resource, nonResource, incomplete, nil
}

func rule(verbs []string, group string, resources ...string) *authorizer.DefaultResourceRuleInfo {
	return &authorizer.DefaultResourceRuleInfo{Verbs: verbs, APIGroups: []string{group}, Resources: resources}
}

func named(r *authorizer.DefaultResourceRuleInfo, names ...string) *authorizer.DefaultResourceRuleInfo {
	r.ResourceNames = names
	return r
}

// publicURLs and discoveryURLs are the paths Authorize allows, as rules:
// each path and everything under it.
func publicURLs() []string    { return withSubpaths(publicPaths) }
func discoveryURLs() []string { return withSubpaths(discoveryPaths) }

func withSubpaths(paths []string) []string {
	var out []string
	for _, p := range paths {
		out = append(out, p, p+"/*")
	}
	return out
}
