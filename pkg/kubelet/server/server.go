// Package server is the kubelet's HTTPS endpoint: container logs at
// /containerLogs/{namespace}/{pod}/{container} (what the API server's
// pods/log proxies to), /exec, /attach and /portForward (streaming.go, what
// pods/exec, attach and portforward proxy to), /healthz and /metrics. Every request is
// authenticated and then authorized by the API server (auth.go), so only
// the API server's kubelet client and admins get in.
package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	certutil "k8s.io/client-go/util/cert"
	"k8s.io/klog/v2"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/scheme"
	"skiff.dev/skiff/pkg/kubelet/logs"
)

// LogSource finds a container's log for the logs endpoint.
type LogSource interface {
	// ContainerLog returns the log file of the named container of a pod
	// (its previous attempt if previous), and a function that reports
	// whether that attempt still runs. Errors are *Error with an HTTP code.
	ContainerLog(ctx context.Context, namespace, pod, container string, previous bool) (path string, running func() bool, err error)
}

// Error is a failure with the HTTP status to answer it with.
type Error struct {
	Code    int
	Message string
}

func (e *Error) Error() string { return e.Message }

// Config configures the HTTPS server.
type Config struct {
	// Address and Port to listen on.
	Address string
	Port    int
	// TLSCertFile and TLSPrivateKeyFile hold the serving certificate; when
	// empty a self-signed one for ServingHosts is made at start.
	TLSCertFile       string
	TLSPrivateKeyFile string
	ServingHosts      []string
	// ClientCAFile holds the CA that signs client certificates.
	ClientCAFile string
	// Auth authenticates and authorizes every request; required.
	Auth Auth
}

// NewHandler routes the kubelet's endpoints. healthy reports whether the
// kubelet is healthy; metrics may be nil.
func NewHandler(source LogSource, healthy func() error, metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", func(w http.ResponseWriter, r *http.Request) {
		serveLogs(w, r, source)
	})
	mux.Handle("GET /healthz", HealthzHandler(healthy))
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
	return mux
}

// HealthzHandler answers ok, or 500 with why not.
func HealthzHandler(healthy func() error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if healthy != nil {
			if err := healthy(); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		fmt.Fprint(w, "ok")
	})
}

func serveLogs(w http.ResponseWriter, r *http.Request, source LogSource) {
	ns, pod, container := r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container")
	opts, previous, err := parseLogQuery(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	path, running, err := source.ContainerLog(r.Context(), ns, pod, container, previous)
	if err != nil {
		code := http.StatusInternalServerError
		var he *Error
		if errors.As(err, &he) {
			code = he.Code
		}
		http.Error(w, err.Error(), code)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	out := &flushWriter{w: w}
	if _, statErr := os.Stat(path); errors.Is(statErr, os.ErrNotExist) {
		return // a container that never wrote (or never started) has an empty log
	}
	if err := logs.Read(r.Context(), path, opts, running, out); err != nil {
		klog.ErrorS(err, "Serving container logs", "pod", klog.KRef(ns, pod), "container", container)
		if !out.wrote {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}
}

// flushWriter flushes after each read pass so a follower sees lines at once.
type flushWriter struct {
	w     http.ResponseWriter
	wrote bool
}

func (f *flushWriter) Write(p []byte) (int, error) {
	f.wrote = true
	return f.w.Write(p)
}

func (f *flushWriter) Flush() {
	if fl, ok := f.w.(http.Flusher); ok {
		fl.Flush()
	}
}

// parseLogQuery reads the query of a logs request as upstream's kubelet
// does: decoded into PodLogOptions by the scheme's parameter codec (the
// API server encodes it with the same codec), then checked.
func parseLogQuery(r *http.Request) (logs.Options, bool, error) {
	var in v1alpha1.PodLogOptions
	if err := scheme.ParameterCodec.DecodeParameters(r.URL.Query(), v1alpha1.SchemeGroupVersion, &in); err != nil {
		return logs.Options{}, false, fmt.Errorf("invalid log options: %w", err)
	}
	var errs []error
	if in.TailLines != nil && *in.TailLines < 0 {
		errs = append(errs, fmt.Errorf("tailLines: %d must be greater than or equal to 0", *in.TailLines))
	}
	if in.LimitBytes != nil && *in.LimitBytes < 1 {
		errs = append(errs, fmt.Errorf("limitBytes: %d must be greater than 0", *in.LimitBytes))
	}
	if in.SinceSeconds != nil && *in.SinceSeconds < 1 {
		errs = append(errs, fmt.Errorf("sinceSeconds: %d must be greater than 0", *in.SinceSeconds))
	}
	if in.SinceSeconds != nil && in.SinceTime != nil {
		errs = append(errs, errors.New("at most one of sinceSeconds and sinceTime may be given"))
	}
	if len(errs) > 0 {
		return logs.Options{}, false, errors.Join(errs...)
	}
	opts := logs.Options{Follow: in.Follow, Timestamps: in.Timestamps, TailLines: in.TailLines, LimitBytes: in.LimitBytes}
	switch {
	case in.SinceSeconds != nil:
		t := time.Now().Add(-time.Duration(*in.SinceSeconds) * time.Second)
		opts.SinceTime = &t
	case in.SinceTime != nil:
		t := in.SinceTime.Time
		opts.SinceTime = &t
	}
	return opts, in.Previous, nil
}

// TLSConfig is the server's TLS configuration: its certificate, and client
// certificates verified against the client CA when given. A client may
// instead present a bearer token, so the handshake does not require one;
// the authenticator (Auth) refuses requests with neither.
func TLSConfig(cfg Config) (*tls.Config, error) {
	var cert tls.Certificate
	var err error
	if cfg.TLSCertFile != "" || cfg.TLSPrivateKeyFile != "" {
		cert, err = tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSPrivateKeyFile)
		if err != nil {
			return nil, fmt.Errorf("load serving certificate: %w", err)
		}
	} else {
		cert, err = selfSigned(cfg.ServingHosts)
		if err != nil {
			return nil, err
		}
	}
	caPEM, err := os.ReadFile(cfg.ClientCAFile)
	if err != nil {
		return nil, fmt.Errorf("read client CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("client CA file %s holds no PEM certificate", cfg.ClientCAFile)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    pool,
		MinVersion:   tls.VersionTLS12,
	}, nil
}

func selfSigned(hosts []string) (tls.Certificate, error) {
	if len(hosts) == 0 {
		hosts = []string{"localhost"}
	}
	var ips []net.IP
	var names []string
	for _, h := range hosts[1:] {
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
		} else {
			names = append(names, h)
		}
	}
	certPEM, keyPEM, err := certutil.GenerateSelfSignedCertKey(hosts[0], ips, names)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("make self-signed serving certificate: %w", err)
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}

// Serve serves handler over TLS until ctx ends. ready, if set, is called with
// the address once listening.
func Serve(ctx context.Context, cfg Config, handler http.Handler, ready func(addr net.Addr)) error {
	if cfg.Auth.Authenticator == nil || cfg.Auth.Authorizer == nil {
		return errors.New("the kubelet API needs an authenticator and an authorizer")
	}
	handler = WithAuth(handler, cfg.Auth)
	tlsConfig, err := TLSConfig(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Address, strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("listen for the kubelet server: %w", err)
	}
	if ready != nil {
		ready(ln.Addr())
	}
	klog.InfoS("Serving kubelet API", "address", ln.Addr().String())
	return serve(ctx, tls.NewListener(ln, tlsConfig), handler)
}

// ServePlain serves handler over plain HTTP until ctx ends (the local
// healthz port).
func ServePlain(ctx context.Context, addr string, handler http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen for healthz: %w", err)
	}
	return serve(ctx, ln, handler)
}

func serve(ctx context.Context, ln net.Listener, handler http.Handler) error {
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
