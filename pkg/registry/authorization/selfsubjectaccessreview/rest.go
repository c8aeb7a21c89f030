// Package selfsubjectaccessreview is authorization.k8s.io/v1
// SelfSubjectAccessReview: "may I do this?" (kubectl auth can-i), answered
// by the server's authorizer for the requesting user and never stored.
package selfsubjectaccessreview

import (
	"context"
	"fmt"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"

	"skiff.dev/skiff/pkg/registry/authorization/util"
)

// REST creates SelfSubjectAccessReviews.
type REST struct {
	authorizer authorizer.UnconditionalAuthorizer
}

var (
	_ rest.Creater              = &REST{}
	_ rest.Scoper               = &REST{}
	_ rest.SingularNameProvider = &REST{}
)

// NewREST answers reviews with authz.
func NewREST(authz authorizer.UnconditionalAuthorizer) *REST { return &REST{authorizer: authz} }

// New returns an empty review.
func (r *REST) New() runtime.Object { return &authorizationv1.SelfSubjectAccessReview{} }

// Destroy does nothing: nothing is stored.
func (r *REST) Destroy() {}

// NamespaceScoped is false: a review names its namespace in its spec.
func (r *REST) NamespaceScoped() bool { return false }

// GetSingularName names the resource.
func (r *REST) GetSingularName() string { return "selfsubjectaccessreview" }

// Create decides the described request for the user who asks.
func (r *REST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, _ *metav1.CreateOptions) (runtime.Object, error) {
	review, ok := obj.(*authorizationv1.SelfSubjectAccessReview)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a SelfSubjectAccessReview: %T", obj))
	}
	errs := util.ValidateSpec(review.Spec.ResourceAttributes, review.Spec.NonResourceAttributes, field.NewPath("spec"))
	if errs = append(errs, util.ValidateEmptyMeta(review.ObjectMeta)...); len(errs) > 0 {
		return nil, apierrors.NewInvalid(authorizationv1.SchemeGroupVersion.WithKind("SelfSubjectAccessReview").GroupKind(), "", errs)
	}
	u, ok := genericapirequest.UserFrom(ctx)
	if !ok {
		return nil, apierrors.NewBadRequest("no user present on request")
	}
	if createValidation != nil {
		if err := createValidation(ctx, obj.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	var attrs authorizer.AttributesRecord
	if review.Spec.ResourceAttributes != nil {
		attrs = util.ResourceAttributesFrom(u, *review.Spec.ResourceAttributes)
	} else {
		attrs = util.NonResourceAttributesFrom(u, *review.Spec.NonResourceAttributes)
	}
	decision, reason, err := r.authorizer.Authorize(ctx, attrs)
	review.Status = util.Status(decision, reason, err, attrs)
	return review, nil
}
