package auth

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// TestRulesForAreAllowed: every rule RulesFor lists for an identity is one
// Authorize allows, so kubectl auth can-i --list never promises too much.
func TestRulesForAreAllowed(t *testing.T) {
	kubeletClient := &user.DefaultInfo{Name: KubeletClientUser, Groups: []string{user.AllAuthenticated}}
	a := NewAuthorizer()
	for _, u := range []user.Info{alice, node1, scheduler, kubeletClient, anon} {
		for _, ns := range []string{"default", NodeLeaseNamespace, SchedulerLeaseNamespace} {
			rules, nonResource, _, err := a.RulesFor(context.Background(), u, ns)
			if err != nil {
				t.Fatalf("RulesFor(%s, %s): %v", u.GetName(), ns, err)
			}
			for _, r := range rules {
				names := r.GetResourceNames()
				if len(names) == 0 {
					names = []string{""}
				}
				for _, verb := range r.GetVerbs() {
					if verb == "*" {
						verb = "delete" // any verb stands for all
					}
					for _, group := range r.GetAPIGroups() {
						for _, resource := range r.GetResources() {
							res, sub, _ := strings.Cut(resource, "/")
							for _, name := range names {
								attrs := authorizer.AttributesRecord{User: u, Verb: verb, Namespace: ns, APIGroup: group,
									Resource: res, Subresource: sub, Name: name, ResourceRequest: true}
								if d, reason, _ := a.Authorize(context.Background(), attrs); d != authorizer.DecisionAllow {
									t.Errorf("%s in %s: rule %s %s/%s %q listed but denied: %s", u.GetName(), ns, verb, group, resource, name, reason)
								}
							}
						}
					}
				}
			}
			for _, r := range nonResource {
				for _, p := range r.GetNonResourceURLs() {
					p = strings.TrimSuffix(p, "/*")
					if d, _, _ := a.Authorize(context.Background(), path(u, "get", p)); d != authorizer.DecisionAllow {
						t.Errorf("%s: path %s listed but denied", u.GetName(), p)
					}
				}
			}
		}
	}
}

// TestReviewsAndKubeletAPI: who may ask the review APIs, and who may use
// the kubelet API.
func TestReviewsAndKubeletAPI(t *testing.T) {
	kubeletClient := &user.DefaultInfo{Name: KubeletClientUser, Groups: []string{user.AllAuthenticated}}
	review := func(u user.Info, group, resource string) authorizer.AttributesRecord {
		return authorizer.AttributesRecord{User: u, Verb: "create", APIGroup: group, APIVersion: "v1", Resource: resource, ResourceRequest: true}
	}
	kubeletAPI := func(u user.Info, verb, sub string) authorizer.AttributesRecord {
		return authorizer.AttributesRecord{User: u, Verb: verb, APIVersion: "v1", Resource: "nodes", Subresource: sub, Name: "n1", ResourceRequest: true}
	}
	for _, tc := range []struct {
		name  string
		attrs authorizer.AttributesRecord
		allow bool
	}{
		{"alice asks what she may do", review(alice, "authorization.k8s.io", "selfsubjectaccessreviews"), true},
		{"alice lists her rules", review(alice, "authorization.k8s.io", "selfsubjectrulesreviews"), true},
		{"alice asks who she is", review(alice, "authentication.k8s.io", "selfsubjectreviews"), true},
		{"anonymous asks who it is", review(anon, "authentication.k8s.io", "selfsubjectreviews"), false},
		{"alice asks about others", review(alice, "authorization.k8s.io", "subjectaccessreviews"), false},
		{"alice reviews a token", review(alice, "authentication.k8s.io", "tokenreviews"), false},
		{"a kubelet asks about its caller", review(node1, "authorization.k8s.io", "subjectaccessreviews"), true},
		{"a kubelet reviews its caller's token", review(node1, "authentication.k8s.io", "tokenreviews"), true},
		{"a kubelet-named user outside system:nodes", review(fakeNode, "authentication.k8s.io", "tokenreviews"), false},
		{"the scheduler reviews its caller's token", review(scheduler, "authentication.k8s.io", "tokenreviews"), true},
		{"the scheduler asks about its caller", review(scheduler, "authorization.k8s.io", "subjectaccessreviews"), true},
		{"the controller manager asks about its caller", review(controllerManager, "authorization.k8s.io", "subjectaccessreviews"), true},
		{"the API server's kubelet client reads logs", kubeletAPI(kubeletClient, "get", "proxy"), true},
		{"the API server's kubelet client reads metrics", kubeletAPI(kubeletClient, "get", "metrics"), true},
		{"the API server's kubelet client reads /logs", kubeletAPI(kubeletClient, "get", "log"), true},
		{"the API server's kubelet client lists Nodes", res(kubeletClient, "list", "", "nodes", "", ""), false},
		{"the API server's kubelet client reads pods", res(kubeletClient, "get", "default", "pods", "", "p"), false},
		{"another node reads logs", kubeletAPI(node1, "get", "proxy"), false},
		{"the scheduler reads logs", kubeletAPI(scheduler, "get", "proxy"), false},
		{"alice reads metrics", kubeletAPI(alice, "get", "metrics"), false},
		{"an admin reads logs", kubeletAPI(master, "get", "proxy"), true},
	} {
		d, reason, err := NewAuthorizer().Authorize(context.Background(), tc.attrs)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if (d == authorizer.DecisionAllow) != tc.allow {
			t.Errorf("%s: decision %v (%q), want allowed=%v", tc.name, d, reason, tc.allow)
		}
	}
}
