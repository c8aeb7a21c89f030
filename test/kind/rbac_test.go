package kind

// A small RBAC evaluator over the manifests' roles and bindings, enough to
// ask "may this service account do this": the host's RBAC authorizer answers
// skiff's SubjectAccessReviews from exactly these objects.

import (
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

// Request is what a SubjectAccessReview asks about one request.
type Request struct {
	Verb      string
	Group     string
	Resource  string // with its subresource: "pods/binding"
	Namespace string // "" for cluster-scoped resources
}

// builtinRoles are the host's bootstrap roles that the manifests bind to
// without defining.
var builtinRoles = map[string]bool{
	"ClusterRole/system:auth-delegator":                          true,
	"Role/kube-system/extension-apiserver-authentication-reader": true,
}

// Allowed reports whether the manifests' RBAC lets service account ns/name
// make req. Built-in roles grant nothing here: they are not part of skiff's
// rules and are checked as bindings.
func (m *Manifests) Allowed(sa Key, req Request) bool {
	for _, b := range m.ClusterRoleBindings {
		if bindsServiceAccount(b.Subjects, sa) && b.RoleRef.Kind == "ClusterRole" {
			if r, ok := m.ClusterRoles[b.RoleRef.Name]; ok && rulesAllow(r.Rules, req) {
				return true
			}
		}
	}
	for key, b := range m.RoleBindings {
		if req.Namespace != key.Namespace || !bindsServiceAccount(b.Subjects, sa) {
			continue
		}
		var rules []rbacv1.PolicyRule
		switch b.RoleRef.Kind {
		case "Role":
			if r, ok := m.Roles[Key{key.Namespace, b.RoleRef.Name}]; ok {
				rules = r.Rules
			}
		case "ClusterRole":
			if r, ok := m.ClusterRoles[b.RoleRef.Name]; ok {
				rules = r.Rules
			}
		}
		if rulesAllow(rules, req) {
			return true
		}
	}
	return false
}

func bindsServiceAccount(subjects []rbacv1.Subject, sa Key) bool {
	for _, s := range subjects {
		if s.Kind == rbacv1.ServiceAccountKind && s.Namespace == sa.Namespace && s.Name == sa.Name {
			return true
		}
	}
	return false
}

func rulesAllow(rules []rbacv1.PolicyRule, req Request) bool {
	for _, r := range rules {
		if matches(r.Verbs, req.Verb) && matches(r.APIGroups, req.Group) && matches(r.Resources, req.Resource) && len(r.ResourceNames) == 0 {
			return true
		}
	}
	return false
}

func matches(list []string, v string) bool {
	return slices.Contains(list, v) || slices.Contains(list, "*")
}

// roleRefTarget names the role a binding refers to, as builtinRoles does.
func roleRefTarget(ref rbacv1.RoleRef, bindingNamespace string) string {
	if ref.Kind == "Role" {
		return strings.Join([]string{"Role", bindingNamespace, ref.Name}, "/")
	}
	return ref.Kind + "/" + ref.Name
}
