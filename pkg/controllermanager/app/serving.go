package app

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"k8s.io/apiserver/pkg/authentication/request/x509"
	"k8s.io/apiserver/pkg/authentication/user"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/klog/v2"
)

// DefaultSecurePort is kube-controller-manager's.
const DefaultSecurePort = 10257

// Serving configures the HTTPS endpoint for /healthz, /livez, /readyz,
// /metrics and /debug/pprof, as kube-controller-manager serves them: TLS
// always (a self-signed certificate unless --tls-cert-file is given), the
// health paths open to anyone, the rest only to an authenticated client
// allowed to read them.
//
// skiff has no TokenReview or SubjectAccessReview API to delegate to yet,
// so a client authenticates with an x509 certificate signed by
// --client-ca-file, and only the system:masters group (the group skiff's
// API server lets read its own /metrics) may read /metrics and profiles.
type Serving struct {
	SecureServing    *genericoptions.SecureServingOptions
	ClientCAFile     string
	AlwaysAllowPaths []string
}

func newServing() Serving {
	s := genericoptions.NewSecureServingOptions()
	s.BindPort = DefaultSecurePort
	s.ServerCert.CertDirectory = "" // in memory, not written anywhere
	s.ServerCert.PairName = "skiff-controller-manager"
	return Serving{SecureServing: s, AlwaysAllowPaths: []string{"/healthz", "/readyz", "/livez"}}
}

// serve starts the HTTPS server if a port is configured and returns its
// address ("" when disabled). It stops when ctx ends.
func (s Serving) serve(ctx context.Context, enableProfiling bool, watchdog *leaderelection.HealthzAdaptor) (string, error) {
	if s.SecureServing.BindPort == 0 && s.SecureServing.Listener == nil {
		return "", nil
	}
	if err := s.SecureServing.MaybeDefaultWithSelfSignedCerts("localhost", nil, []net.IP{net.ParseIP("127.0.0.1")}); err != nil {
		return "", fmt.Errorf("create a self-signed serving certificate: %w", err)
	}
	var info *genericapiserver.SecureServingInfo
	if err := s.SecureServing.ApplyTo(&info); err != nil {
		return "", fmt.Errorf("secure serving: %w", err)
	}
	var authn *x509.Authenticator
	if s.ClientCAFile != "" {
		ca, err := dynamiccertificates.NewDynamicCAContentFromFile("client-ca-bundle", s.ClientCAFile)
		if err != nil {
			return "", fmt.Errorf("load --client-ca-file: %w", err)
		}
		info.ClientCA = ca
		authn = x509.NewDynamic(ca.VerifyOptions, x509.CommonNameUserConversion)
	}

	mux := http.NewServeMux()
	healthz := func(w http.ResponseWriter, r *http.Request) {
		if watchdog != nil {
			if err := watchdog.Check(r); err != nil {
				http.Error(w, "leaderElection failed: "+err.Error(), http.StatusInternalServerError)
				return
			}
		}
		_, _ = w.Write([]byte("ok"))
	}
	mux.HandleFunc("/healthz", healthz)
	mux.HandleFunc("/livez", healthz)
	mux.HandleFunc("/readyz", healthz)
	mux.Handle("/metrics", legacyregistry.Handler())
	if enableProfiling {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	handler := s.guard(mux, authn)

	_, stopped, err := info.Serve(handler, 5*time.Second, ctx.Done())
	if err != nil {
		return "", fmt.Errorf("serve on --secure-port: %w", err)
	}
	_ = stopped
	addr := info.Listener.Addr().String()
	klog.InfoS("Serving health and metrics securely", "address", addr)
	return addr, nil
}

// guard lets anyone reach the always-allowed paths, and only a client
// certificate in group system:masters reach the others.
func (s Serving) guard(next http.Handler, authn *x509.Authenticator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, p := range s.AlwaysAllowPaths {
			if r.URL.Path == p || strings.HasPrefix(r.URL.Path, strings.TrimSuffix(p, "/")+"/") {
				next.ServeHTTP(w, r)
				return
			}
		}
		if authn == nil {
			http.Error(w, "Unauthorized: no --client-ca-file to authenticate clients with", http.StatusUnauthorized)
			return
		}
		resp, ok, err := authn.AuthenticateRequest(r)
		if err != nil || !ok {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		for _, g := range resp.User.GetGroups() {
			if g == user.SystemPrivilegedGroup {
				next.ServeHTTP(w, r)
				return
			}
		}
		http.Error(w, fmt.Sprintf("Forbidden: user %q may not get path %q", resp.User.GetName(), r.URL.Path), http.StatusForbidden)
	})
}
