// Package serving is a component's own HTTPS endpoint: /healthz, /livez,
// /readyz, /metrics and, when enabled, /debug/pprof, served as
// kube-scheduler and kube-controller-manager serve theirs. Every request is
// authenticated (client certificates against --client-ca-file, bearer
// tokens by TokenReview) and authorized by SubjectAccessReview against the
// API server; the health paths and system:masters are always allowed. The
// scheduler and the controller manager share it, as upstream's share
// k8s.io/controller-manager's handler chain.
package serving

import (
	"fmt"
	"net"
	"net/http"
	"time"

	genericapifilters "k8s.io/apiserver/pkg/endpoints/filters"
	apirequest "k8s.io/apiserver/pkg/endpoints/request"
	genericserver "k8s.io/apiserver/pkg/server"
	genericfilters "k8s.io/apiserver/pkg/server/filters"
	"k8s.io/apiserver/pkg/server/healthz"
	"k8s.io/apiserver/pkg/server/mux"
	apiserveroptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/apiserver/pkg/server/routes"
	cliflag "k8s.io/component-base/cli/flag"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/klog/v2"

	"skiff.dev/skiff/pkg/generated/clientset/versioned/scheme"
)

// Options are the secure endpoint's flags, named as upstream's components
// name them.
type Options struct {
	// SecureServing is --bind-address, --secure-port and the serving
	// certificate; --secure-port=0 turns the endpoint off.
	SecureServing  *apiserveroptions.SecureServingOptions
	Authentication *apiserveroptions.DelegatingAuthenticationOptions
	Authorization  *apiserveroptions.DelegatingAuthorizationOptions
	// EnableProfiling serves /debug/pprof, to callers authorized for it.
	EnableProfiling bool
}

// NewOptions returns the defaults for a component whose serving
// certificate, when self-signed, is named name, on port.
func NewOptions(name string, port int) *Options {
	o := &Options{
		SecureServing:  apiserveroptions.NewSecureServingOptions(),
		Authentication: apiserveroptions.NewDelegatingAuthenticationOptions(),
		Authorization:  apiserveroptions.NewDelegatingAuthorizationOptions(),
		// On, as upstream's components have it; the profiles are served
		// only to callers authorized for their paths.
		EnableProfiling: true,
	}
	// As upstream: without a kubeconfig for them (and --kubeconfig, see
	// Config), tokens and SubjectAccessReviews go nowhere and only client
	// certificates, system:masters and the health paths get in.
	o.Authentication.TolerateInClusterLookupFailure = true
	o.Authentication.RemoteKubeConfigFileOptional = true
	o.Authorization.RemoteKubeConfigFileOptional = true
	// A self-signed serving certificate made in memory, unless
	// --tls-cert-file or --cert-dir says otherwise.
	o.SecureServing.ServerCert.CertDirectory = ""
	o.SecureServing.ServerCert.PairName = name
	o.SecureServing.BindPort = port
	return o
}

// AddFlags adds the secure serving, authentication, authorization and
// profiling flags, each in its named section.
func (o *Options) AddFlags(fss *cliflag.NamedFlagSets) {
	o.SecureServing.AddFlags(fss.FlagSet("secure serving"))
	o.Authentication.AddFlags(fss.FlagSet("authentication"))
	o.Authorization.AddFlags(fss.FlagSet("authorization"))
	fss.FlagSet("debugging").BoolVar(&o.EnableProfiling, "profiling", o.EnableProfiling,
		"Serve Go profiles at /debug/pprof on the secure port, to callers authorized for those paths.")
}

// Validate reports every invalid option.
func (o *Options) Validate() []error {
	var errs []error
	errs = append(errs, o.SecureServing.Validate()...)
	errs = append(errs, o.Authentication.Validate()...)
	errs = append(errs, o.Authorization.Validate()...)
	return errs
}

// Config is the secure endpoint, listening, with its authenticator and
// authorizer built.
type Config struct {
	SecureServing  *genericserver.SecureServingInfo
	Authentication genericserver.AuthenticationInfo
	Authorization  genericserver.AuthorizationInfo
}

// Config listens on the secure port and builds the authenticator and
// authorizer. It returns nil when --secure-port is 0.
//
// --authentication-kubeconfig and --authorization-kubeconfig default to
// kubeconfig, the way kubeadm sets up kube-scheduler and
// kube-controller-manager: the component asks the API server it already
// talks to. Without any, the in-cluster configuration is tried.
func (o *Options) Config(kubeconfig string) (*Config, error) {
	if o.SecureServing == nil || (o.SecureServing.BindPort == 0 && o.SecureServing.Listener == nil) {
		return nil, nil
	}
	if err := o.SecureServing.MaybeDefaultWithSelfSignedCerts("localhost", nil, []net.IP{net.ParseIP("127.0.0.1")}); err != nil {
		return nil, fmt.Errorf("create a self-signed serving certificate: %w", err)
	}
	c := &Config{}
	if err := o.SecureServing.ApplyTo(&c.SecureServing); err != nil {
		return nil, fmt.Errorf("listen on --bind-address and --secure-port: %w", err)
	}
	authn, authz := *o.Authentication, *o.Authorization
	if authn.RemoteKubeConfigFile == "" {
		authn.RemoteKubeConfigFile = kubeconfig
	}
	if authz.RemoteKubeConfigFile == "" {
		authz.RemoteKubeConfigFile = kubeconfig
	}
	if err := authn.ApplyTo(&c.Authentication, c.SecureServing, nil); err != nil {
		c.close()
		return nil, fmt.Errorf("delegated authentication: %w", err)
	}
	if err := authz.ApplyTo(&c.Authorization); err != nil {
		c.close()
		return nil, fmt.Errorf("delegated authorization: %w", err)
	}
	return c, nil
}

func (c *Config) close() {
	if c.SecureServing != nil && c.SecureServing.Listener != nil {
		_ = c.SecureServing.Listener.Close()
	}
}

// Serve serves the health, metrics and profiling endpoints of the
// component name on the secure port until the returned stop is called. It
// listens before returning, so a port in use fails the start, and returns
// the address listened on, or "" when --secure-port is 0.
func (o *Options) Serve(name, kubeconfig string, healthChecks, readyChecks []healthz.HealthChecker) (stop func(), addr string, err error) {
	cfg, err := o.Config(kubeconfig)
	if err != nil || cfg == nil {
		return func() {}, "", err
	}
	m := mux.NewPathRecorderMux(name)
	healthz.InstallHandler(m, healthChecks...)
	healthz.InstallLivezHandler(m)
	healthz.InstallReadyzHandler(m, readyChecks...)
	m.Handle("/metrics", legacyregistry.Handler())
	if o.EnableProfiling {
		routes.Profiling{}.Install(m)
	}
	handler := withAuth(m, cfg)

	stopCh := make(chan struct{})
	stoppedCh, _, err := cfg.SecureServing.Serve(handler, 5*time.Second, stopCh)
	if err != nil {
		close(stopCh)
		return nil, "", fmt.Errorf("serve on the secure port: %w", err)
	}
	addr = cfg.SecureServing.Listener.Addr().String()
	klog.InfoS("Serving health, metrics and profiles securely", "address", addr, "profiling", o.EnableProfiling)
	return func() {
		close(stopCh)
		<-stoppedCh
	}, addr, nil
}

// withAuth wraps the endpoints in the filters upstream's components put in
// front of their own: authentication, then authorization, each answering
// with a Status on refusal.
func withAuth(h http.Handler, cfg *Config) http.Handler {
	resolver := &apirequest.RequestInfoFactory{}
	h = genericapifilters.WithAuthorization(h, cfg.Authorization.Authorizer, scheme.Codecs)
	h = genericapifilters.WithAuthentication(h, cfg.Authentication.Authenticator, genericapifilters.Unauthorized(scheme.Codecs), nil, nil)
	h = genericapifilters.WithRequestInfo(h, resolver)
	h = genericapifilters.WithCacheControl(h)
	h = genericfilters.WithHTTPLogging(h)
	return genericfilters.WithPanicRecovery(h, resolver)
}
