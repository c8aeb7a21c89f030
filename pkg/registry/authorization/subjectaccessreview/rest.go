// Package subjectaccessreview is authorization.k8s.io/v1 SubjectAccessReview:
// "may this user do this?", answered by the server's authorizer and never
// stored. Kubelets ask it about every request to their API.
package subjectaccessreview

import (
	"context"
	"fmt"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/registry/rest"

	"skiff.dev/skiff/pkg/registry/authorization/util"
)

// REST creates SubjectAccessReviews.
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
func (r *REST) New() runtime.Object { return &authorizationv1.SubjectAccessReview{} }

// Destroy does nothing: nothing is stored.
func (r *REST) Destroy() {}

// NamespaceScoped is false: a review names its namespace in its spec.
func (r *REST) NamespaceScoped() bool { return false }

// GetSingularName names the resource.
func (r *REST) GetSingularName() string { return "subjectaccessreview" }

// Create decides the request the review describes and returns the review
// with its status filled in.
func (r *REST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, _ *metav1.CreateOptions) (runtime.Object, error) {
	review, ok := obj.(*authorizationv1.SubjectAccessReview)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a SubjectAccessReview: %T", obj))
	}
	if errs := validate(review); len(errs) > 0 {
		return nil, apierrors.NewInvalid(authorizationv1.SchemeGroupVersion.WithKind("SubjectAccessReview").GroupKind(), "", errs)
	}
	if createValidation != nil {
		if err := createValidation(ctx, obj.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	attrs := util.AttributesFrom(review.Spec)
	decision, reason, err := r.authorizer.Authorize(ctx, attrs)
	review.Status = util.Status(decision, reason, err, attrs)
	return review, nil
}

func validate(review *authorizationv1.SubjectAccessReview) field.ErrorList {
	spec := field.NewPath("spec")
	errs := util.ValidateSpec(review.Spec.ResourceAttributes, review.Spec.NonResourceAttributes, spec)
	if review.Spec.User == "" && len(review.Spec.Groups) == 0 {
		errs = append(errs, field.Invalid(spec.Child("user"), review.Spec.User, "at least one of user or group must be specified"))
	}
	return append(errs, util.ValidateEmptyMeta(review.ObjectMeta)...)
}
