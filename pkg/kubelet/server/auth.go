package server

import (
	"fmt"
	"net/http"
	"strings"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/klog/v2"
)

// Auth decides who may use the kubelet API: every request is authenticated
// (client certificates from the cluster CA, bearer tokens by TokenReview)
// and authorized as a request on the node object (a SubjectAccessReview),
// as upstream's kubelet does. Only the API server's kubelet client and
// admins are allowed by skiff's authorizer.
type Auth struct {
	Authenticator authenticator.Request
	Authorizer    authorizer.UnconditionalAuthorizer
	// NodeName is the node the requests are about.
	NodeName string
}

// The kubelet API's paths that are authorized by their own nodes/<sub>;
// everything else is nodes/proxy. These are upstream's.
const (
	statsPath   = "/stats"
	metricsPath = "/metrics"
	logsPath    = "/logs"
	healthzPath = "/healthz"
	podsPath    = "/pods"
	configzPath = "/configz"
)

// WithAuth serves only the requests a authenticates and authorizes: 401
// without a valid identity, 403 when the authorizer does not allow any of
// the request's attributes.
func WithAuth(h http.Handler, a Auth) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, ok, err := a.Authenticator.AuthenticateRequest(r)
		if err != nil {
			klog.V(2).InfoS("Unable to authenticate a kubelet API request", "err", err, "path", r.URL.Path)
		}
		if err != nil || !ok {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		attrs := RequestAttributes(resp.User, r, a.NodeName)
		var subresources []string
		for _, attr := range attrs {
			subresources = append(subresources, attr.GetSubresource())
			decision, _, err := a.Authorizer.Authorize(r.Context(), attr)
			if err != nil {
				klog.ErrorS(err, "Authorization error", "user", resp.User.GetName(), "verb", attr.GetVerb(), "subresource", attr.GetSubresource())
				http.Error(w, fmt.Sprintf("Authorization error (user=%s, verb=%s, resource=nodes, subresource=%s)", resp.User.GetName(), attr.GetVerb(), attr.GetSubresource()), http.StatusInternalServerError)
				return
			}
			if decision == authorizer.DecisionAllow {
				h.ServeHTTP(w, r)
				return
			}
		}
		klog.V(2).InfoS("Forbidden", "user", resp.User.GetName(), "verb", attrs[0].GetVerb(), "subresources", subresources, "path", r.URL.Path)
		http.Error(w, fmt.Sprintf("Forbidden (user=%s, verb=%s, resource=nodes, subresource(s)=%v)", resp.User.GetName(), attrs[0].GetVerb(), subresources), http.StatusForbidden)
	})
}

// RequestAttributes are what a request to the kubelet API asks of the
// node, in the order they are tried; any one allowed is enough. As
// upstream's kubelet with fine-grained authorization (GA in 1.36):
//
//	/stats/*    nodes/stats
//	/metrics/*  nodes/metrics
//	/logs/*     nodes/log
//	/healthz/*  nodes/healthz, then nodes/proxy
//	/pods/*     nodes/pods, then nodes/proxy
//	/configz    nodes/configz, then nodes/proxy
//	anything else (/containerLogs, /exec, ...)  nodes/proxy
func RequestAttributes(u user.Info, r *http.Request, nodeName string) []authorizer.Attributes {
	verb := ""
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		verb = "get"
	case http.MethodPost:
		verb = "create"
	case http.MethodPut:
		verb = "update"
	case http.MethodPatch:
		verb = "patch"
	case http.MethodDelete:
		verb = "delete"
	}
	p := r.URL.Path
	var subresources []string
	switch {
	case isSubpath(p, podsPath):
		subresources = append(subresources, "pods")
	case isSubpath(p, healthzPath):
		subresources = append(subresources, "healthz")
	case isSubpath(p, configzPath):
		subresources = append(subresources, "configz")
	}
	switch {
	case isSubpath(p, statsPath):
		subresources = append(subresources, "stats")
	case isSubpath(p, metricsPath):
		subresources = append(subresources, "metrics")
	case isSubpath(p, logsPath):
		subresources = append(subresources, "log")
	default:
		subresources = append(subresources, "proxy")
	}
	attrs := make([]authorizer.Attributes, 0, len(subresources))
	for _, sub := range subresources {
		attrs = append(attrs, authorizer.AttributesRecord{
			User: u, Verb: verb, APIGroup: "", APIVersion: "v1", Resource: "nodes", Subresource: sub,
			Name: nodeName, ResourceRequest: true, Path: p,
		})
	}
	return attrs
}

func isSubpath(p, prefix string) bool {
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}
