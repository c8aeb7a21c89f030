package apiserver

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"skiff.dev/skiff/pkg/apiserver/auth"
	"skiff.dev/skiff/pkg/apiserver/options"
	"skiff.dev/skiff/test/integration/framework"
)

func kubeClient(t *testing.T, cfg *rest.Config) kubernetes.Interface {
	t.Helper()
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("create client: %v", err)
	}
	return c
}

// kubeletAPI is a SubjectAccessReview spec for user reading a node's logs
// through its kubelet, as a kubelet asks it.
func kubeletAPI(user string, groups ...string) authorizationv1.SubjectAccessReviewSpec {
	return authorizationv1.SubjectAccessReviewSpec{
		User: user, Groups: groups,
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get", Version: "v1", Resource: "nodes", Subresource: "proxy", Name: "n1"},
	}
}

// TestReviewAPIs: the authentication.k8s.io and authorization.k8s.io review
// APIs answer with skiff's own authenticator and authorizer, and only the
// identities that need them may ask about others.
func TestReviewAPIs(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "tokens.csv")
	if err := os.WriteFile(tokenFile, []byte("alice-token,alice,uid-alice,\"dev,qa\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := framework.StartTestServer(t, func(o *options.Options) { o.TokenAuthFile = tokenFile })
	ctx := testContext(t)
	admin := kubeClient(t, s.AdminConfig)
	alice := kubeClient(t, s.ConfigFor("alice"))
	node := kubeClient(t, s.ConfigFor("system:node:n1", auth.NodesGroup))

	t.Run("whoami", func(t *testing.T) {
		got, err := alice.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create SelfSubjectReview: %v", err)
		}
		if got.Status.UserInfo.Username != "alice" || !contains(got.Status.UserInfo.Groups, "system:authenticated") {
			t.Errorf("whoami = %+v, want alice in system:authenticated", got.Status.UserInfo)
		}
	})

	t.Run("can-i", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			client kubernetes.Interface
			verb   string
			want   bool
		}{
			{"admin may create pods", admin, "create", true},
			{"alice may not create pods", alice, "create", false},
			{"a node may not list all pods", node, "list", false},
		} {
			review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
				ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: "default", Verb: tc.verb, Group: "core.skiff.dev", Resource: "pods"},
			}}
			got, err := tc.client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
			if err != nil {
				t.Fatalf("%s: create SelfSubjectAccessReview: %v", tc.name, err)
			}
			if got.Status.Allowed != tc.want {
				t.Errorf("%s: allowed = %v (%q), want %v", tc.name, got.Status.Allowed, got.Status.Reason, tc.want)
			}
		}
	})

	t.Run("can-i --list", func(t *testing.T) {
		got, err := alice.AuthorizationV1().SelfSubjectRulesReviews().Create(ctx,
			&authorizationv1.SelfSubjectRulesReview{Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: "default"}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create SelfSubjectRulesReview: %v", err)
		}
		var resources []string
		for _, r := range got.Status.ResourceRules {
			resources = append(resources, r.Resources...)
		}
		if !contains(resources, "selfsubjectaccessreviews") || contains(resources, "pods") || contains(resources, "*") {
			t.Errorf("alice's rules name %v, want the self reviews and no pods", resources)
		}
		_, err = alice.AuthorizationV1().SelfSubjectRulesReviews().Create(ctx, &authorizationv1.SelfSubjectRulesReview{}, metav1.CreateOptions{})
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.namespace") {
			t.Errorf("rules review without a namespace: %v, want 422 on spec.namespace", err)
		}
	})

	t.Run("kubelets review their callers", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			spec authorizationv1.SubjectAccessReviewSpec
			want bool
		}{
			{"the API server's kubelet client", kubeletAPI(auth.KubeletClientUser), true},
			{"an admin", kubeletAPI("admin", "system:masters"), true},
			{"a minted user", kubeletAPI("mallory"), false},
			{"another node", kubeletAPI("system:node:n2", auth.NodesGroup), false},
			{"the scheduler", kubeletAPI(auth.SchedulerUser), false},
		} {
			got, err := node.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: tc.spec}, metav1.CreateOptions{})
			if err != nil {
				t.Fatalf("%s: create SubjectAccessReview: %v", tc.name, err)
			}
			if got.Status.Allowed != tc.want {
				t.Errorf("%s: allowed = %v (%q), want %v", tc.name, got.Status.Allowed, got.Status.Reason, tc.want)
			}
		}
		tr, err := node.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: "alice-token"}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create TokenReview: %v", err)
		}
		if !tr.Status.Authenticated || tr.Status.User.Username != "alice" || !contains(tr.Status.User.Groups, "dev") {
			t.Errorf("token review = %+v, want alice in dev", tr.Status)
		}
		tr, err = node.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: "guess"}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create TokenReview: %v", err)
		}
		if tr.Status.Authenticated {
			t.Errorf("an unknown token authenticated as %+v", tr.Status.User)
		}
	})

	t.Run("only kubelets and admins review others", func(t *testing.T) {
		_, err := alice.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: kubeletAPI("alice")}, metav1.CreateOptions{})
		if !apierrors.IsForbidden(err) {
			t.Errorf("alice creating a SubjectAccessReview: %v, want 403", err)
		}
		_, err = alice.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: "x"}}, metav1.CreateOptions{})
		if !apierrors.IsForbidden(err) {
			t.Errorf("alice creating a TokenReview: %v, want 403", err)
		}
	})

	t.Run("bad reviews get 422 with the field", func(t *testing.T) {
		_, err := admin.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
			Spec: authorizationv1.SubjectAccessReviewSpec{User: "alice"}}, metav1.CreateOptions{})
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec: Invalid value") {
			t.Errorf("review without attributes: %v, want 422 on spec", err)
		}
		_, err = admin.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{}, metav1.CreateOptions{})
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.token") {
			t.Errorf("token review without a token: %v, want 422 on spec.token", err)
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
