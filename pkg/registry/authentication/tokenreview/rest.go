// Package tokenreview is authentication.k8s.io/v1 TokenReview: "who holds
// this bearer token?", answered by the server's token authenticator and never
// stored. Kubelets ask it about bearer tokens presented to their API.
package tokenreview

import (
	"context"
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"

	"skiff.dev/skiff/pkg/registry/authentication/selfsubjectreview"
)

// REST creates TokenReviews.
type REST struct {
	tokens authenticator.Token
}

var (
	_ rest.Creater              = &REST{}
	_ rest.Scoper               = &REST{}
	_ rest.SingularNameProvider = &REST{}
)

// NewREST reviews tokens with tokens; nil authenticates none.
func NewREST(tokens authenticator.Token) *REST { return &REST{tokens: tokens} }

// New returns an empty review.
func (r *REST) New() runtime.Object { return &authenticationv1.TokenReview{} }

// Destroy does nothing: nothing is stored.
func (r *REST) Destroy() {}

// NamespaceScoped is false.
func (r *REST) NamespaceScoped() bool { return false }

// GetSingularName names the resource.
func (r *REST) GetSingularName() string { return "tokenreview" }

// Create authenticates spec.token and returns the review with the user it
// stands for, or authenticated: false.
func (r *REST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, _ *metav1.CreateOptions) (runtime.Object, error) {
	review, ok := obj.(*authenticationv1.TokenReview)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a TokenReview: %T", obj))
	}
	if ns := genericapirequest.NamespaceValue(ctx); ns != "" {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("namespace is not allowed on this type: %v", ns))
	}
	if review.Spec.Token == "" {
		return nil, apierrors.NewInvalid(authenticationv1.SchemeGroupVersion.WithKind("TokenReview").GroupKind(), "",
			field.ErrorList{field.Required(field.NewPath("spec", "token"), "the token to review")})
	}
	if createValidation != nil {
		if err := createValidation(ctx, obj.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	review.Status = authenticationv1.TokenReviewStatus{}
	if r.tokens == nil {
		return review, nil
	}
	if len(review.Spec.Audiences) > 0 {
		ctx = authenticator.WithAudiences(ctx, review.Spec.Audiences)
	}
	resp, ok, err := r.tokens.AuthenticateToken(ctx, review.Spec.Token)
	if err != nil {
		review.Status.Error = err.Error()
	}
	if !ok || resp == nil || resp.User == nil {
		return review, nil
	}
	// skiff's static tokens name no audience: a review that asks for one
	// gets no user, rather than a token meant for this server alone.
	if len(review.Spec.Audiences) > 0 && len(authenticator.Audiences(review.Spec.Audiences).Intersect(resp.Audiences)) == 0 {
		review.Status.Error = "the token is not valid for the requested audiences"
		return review, nil
	}
	u := resp.User
	review.Status.Authenticated = true
	review.Status.User = selfsubjectreview.UserInfo(u.GetName(), u.GetUID(), u.GetGroups(), u.GetExtra())
	review.Status.Audiences = resp.Audiences
	return review, nil
}
