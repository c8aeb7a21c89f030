package apiserver

import (
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"

	"skiff.dev/skiff/pkg/apiserver/auth"
	"skiff.dev/skiff/pkg/registry/authentication/selfsubjectreview"
	"skiff.dev/skiff/pkg/registry/authentication/tokenreview"
	"skiff.dev/skiff/pkg/registry/authorization/selfsubjectaccessreview"
	"skiff.dev/skiff/pkg/registry/authorization/selfsubjectrulesreview"
	"skiff.dev/skiff/pkg/registry/authorization/subjectaccessreview"
)

// addReviewTypes registers the authentication.k8s.io/v1 and
// authorization.k8s.io/v1 review types.
//
// The GenericAPIServer decodes a request into the external version, converts
// it to the group's internal version (runtime.APIVersionInternal) for the
// REST storage, and converts the answer back. Upstream has internal twins of
// these types (k8s.io/kubernetes/pkg/apis/authentication) with generated
// conversions; skiff serves one version and has no use for a second Go type.
// So the k8s.io/api types are registered as the internal version too: when
// an object's Go type is already registered under the target version, the
// scheme's conversion only sets its kind, so both directions are a copy of
// the same struct, with no conversion functions to write or generate.
func addReviewTypes(scheme *runtime.Scheme) {
	utilruntime.Must(authenticationv1.AddToScheme(scheme))
	utilruntime.Must(authorizationv1.AddToScheme(scheme))
	scheme.AddKnownTypes(schema.GroupVersion{Group: authenticationv1.GroupName, Version: runtime.APIVersionInternal},
		&authenticationv1.TokenReview{}, &authenticationv1.SelfSubjectReview{})
	scheme.AddKnownTypes(schema.GroupVersion{Group: authorizationv1.GroupName, Version: runtime.APIVersionInternal},
		&authorizationv1.SubjectAccessReview{}, &authorizationv1.SelfSubjectAccessReview{}, &authorizationv1.SelfSubjectRulesReview{})
	utilruntime.Must(scheme.SetVersionPriority(authenticationv1.SchemeGroupVersion))
	utilruntime.Must(scheme.SetVersionPriority(authorizationv1.SchemeGroupVersion))
}

// installReviewAPIs serves the review APIs of standalone mode, answered by
// skiff's own authenticator and authorizer (in aggregated mode the host
// cluster serves them): TokenReview and SelfSubjectReview, and
// SubjectAccessReview, SelfSubjectAccessReview and SelfSubjectRulesReview.
// They are create-only and never stored.
func installReviewAPIs(s *genericapiserver.GenericAPIServer, tokens authenticator.Token, authz *auth.Authorizer) error {
	authn := genericapiserver.NewDefaultAPIGroupInfo(authenticationv1.GroupName, Scheme, runtime.NewParameterCodec(Scheme), Codecs)
	authn.VersionedResourcesStorageMap[authenticationv1.SchemeGroupVersion.Version] = map[string]rest.Storage{
		"tokenreviews":       tokenreview.NewREST(tokens),
		"selfsubjectreviews": selfsubjectreview.NewREST(),
	}
	authzGroup := genericapiserver.NewDefaultAPIGroupInfo(authorizationv1.GroupName, Scheme, runtime.NewParameterCodec(Scheme), Codecs)
	authzGroup.VersionedResourcesStorageMap[authorizationv1.SchemeGroupVersion.Version] = map[string]rest.Storage{
		"subjectaccessreviews":     subjectaccessreview.NewREST(authz),
		"selfsubjectaccessreviews": selfsubjectaccessreview.NewREST(authz),
		"selfsubjectrulesreviews":  selfsubjectrulesreview.NewREST(authz),
	}
	if err := s.InstallAPIGroups(&authn, &authzGroup); err != nil {
		return fmt.Errorf("install the review APIs: %w", err)
	}
	return nil
}
