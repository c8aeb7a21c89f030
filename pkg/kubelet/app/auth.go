package app

import (
	"fmt"
	"time"

	"k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	"k8s.io/apiserver/pkg/server/options"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"skiff.dev/skiff/pkg/kubelet/server"
)

// webhookTimeout bounds one TokenReview or SubjectAccessReview, as
// upstream's kubelet does.
const webhookTimeout = 10 * time.Second

// newServerAuth is the kubelet API's authentication and authorization,
// delegated to the API server as upstream's kubelet delegates them:
// client certificates from --client-ca-file, bearer tokens by TokenReview,
// and every request by SubjectAccessReview, each answer cached. In
// aggregated mode cfg points at the host cluster, which answers the same
// reviews.
func newServerAuth(o *Options, cfg *rest.Config) (server.Auth, error) {
	cfg = rest.CopyConfig(cfg)
	// Reviews are small and answered from caches; they must not wait
	// behind the kubelet's status writes for its QPS budget.
	cfg.QPS, cfg.Burst = -1, 0
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return server.Auth{}, fmt.Errorf("create review client: %w", err)
	}
	clientCA, err := dynamiccertificates.NewDynamicCAContentFromFile("client-ca-bundle", o.ClientCAFile)
	if err != nil {
		return server.Auth{}, fmt.Errorf("load --client-ca-file %s: %w", o.ClientCAFile, err)
	}
	authn, _, err := authenticatorfactory.DelegatingAuthenticatorConfig{
		// No anonymous requests: the kubelet API has nothing public.
		Anonymous:                          nil,
		TokenAccessReviewClient:            client.AuthenticationV1(),
		TokenAccessReviewTimeout:           webhookTimeout,
		WebhookRetryBackoff:                options.DefaultAuthWebhookRetryBackoff(),
		CacheTTL:                           o.AuthenticationTokenWebhookCacheTTL,
		ClientCertificateCAContentProvider: clientCA,
	}.New()
	if err != nil {
		return server.Auth{}, fmt.Errorf("build the kubelet API's authenticator: %w", err)
	}
	authz, err := authorizerfactory.DelegatingAuthorizerConfig{
		SubjectAccessReviewClient: client.AuthorizationV1(),
		AllowCacheTTL:             o.AuthorizationWebhookCacheAuthorizedTTL,
		DenyCacheTTL:              o.AuthorizationWebhookCacheUnauthorizedTTL,
		WebhookRetryBackoff:       options.DefaultAuthWebhookRetryBackoff(),
	}.New()
	if err != nil {
		return server.Auth{}, fmt.Errorf("build the kubelet API's authorizer: %w", err)
	}
	return server.Auth{Authenticator: authn, Authorizer: authz, NodeName: o.NodeName}, nil
}
