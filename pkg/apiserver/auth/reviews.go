package auth

import (
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// KubeletClientUser is the identity the API server presents to kubelets
// (pods/log): kubeadm's name for it. It may use the kubelet API and nothing
// else, as upstream's system:kubelet-api-admin role allows.
const KubeletClientUser = "kube-apiserver-kubelet-client"

// kubeletAPISubresources are the nodes/<sub> a kubelet authorizes its API
// by (upstream's pkg/kubelet/server/auth.go), all granted to the API
// server's kubelet client as upstream's system:kubelet-api-admin does.
var kubeletAPISubresources = []string{"proxy", "log", "metrics", "stats", "pods", "healthz", "configz", "checkpoint", "statusz"}

// authorizeReviewsAndKubeletAPI decides the requests that are not about
// skiff's own API group: the review APIs and the kubelet API (both asked of
// the legacy and upstream groups). ok is false when it has no rule for the
// request, so the caller's rules apply.
func authorizeReviewsAndKubeletAPI(u user.Info, attrs authorizer.Attributes) (d authorizer.Decision, reason string, ok bool) {
	if !attrs.IsResourceRequest() {
		return authorizer.DecisionNoOpinion, "", false
	}
	group, resource, sub, verb := attrs.GetAPIGroup(), attrs.GetResource(), attrs.GetSubresource(), attrs.GetVerb()
	groups := u.GetGroups()
	switch {
	case group == authorizationv1.GroupName && sub == "" && (resource == "selfsubjectaccessreviews" || resource == "selfsubjectrulesreviews"),
		group == authenticationv1.GroupName && sub == "" && resource == "selfsubjectreviews":
		// Every authenticated user may ask who they are and what they may
		// do, as upstream's system:basic-user role allows.
		d, reason = allowIfNoErr(verb == "create" && contains(groups, user.AllAuthenticated),
			"only authenticated users may create self reviews")
		return d, reason, true
	case group == authenticationv1.GroupName && resource == "tokenreviews",
		group == authorizationv1.GroupName && resource == "subjectaccessreviews":
		// Kubelets, the scheduler and the controller manager ask who called
		// their endpoints and whether it may, as upstream's
		// system:auth-delegator, system:kube-scheduler and
		// system:kube-controller-manager roles allow.
		d, reason = allowIfNoErr(sub == "" && verb == "create" && isDelegator(u),
			fmt.Sprintf("only kubelets (group %s), %s and %s may create %s", NodesGroup, SchedulerUser, ControllerManagerUser, resource))
		return d, reason, true
	case group == "" && resource == "nodes" && contains(kubeletAPISubresources, sub):
		d, reason = allowIfNoErr(u.GetName() == KubeletClientUser,
			fmt.Sprintf("only the API server's kubelet client (%s) may use the kubelet API", KubeletClientUser))
		return d, reason, true
	}
	return authorizer.DecisionNoOpinion, "", false
}

func allowIfNoErr(ok bool, reason string) (authorizer.Decision, string) {
	d, r, _ := allowIf(ok, reason)
	return d, r
}

// isDelegator reports whether u serves an endpoint of its own that asks the
// API server to authenticate and authorize its callers.
func isDelegator(u user.Info) bool {
	return contains(u.GetGroups(), NodesGroup) || u.GetName() == SchedulerUser || u.GetName() == ControllerManagerUser
}
