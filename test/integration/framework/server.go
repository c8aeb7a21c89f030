// Package framework starts a real skiff-apiserver inside a test process: the
// same options, embedded etcd and handler chain as the binary, on a free
// loopback port and a temporary data dir.
package framework

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"skiff.dev/skiff/pkg/apiserver/admission/namespacelifecycle"
	"skiff.dev/skiff/pkg/apiserver/app"
	"skiff.dev/skiff/pkg/apiserver/options"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/pkg/pki"
)

// TestServer is a running in-process API server.
type TestServer struct {
	// AdminConfig reaches the server as a system:masters user.
	AdminConfig *rest.Config
	// Client is the generated clientset on AdminConfig.
	Client clientset.Interface
	// Kube is client-go's clientset on AdminConfig, for the legacy core
	// group (namespaces, events).
	Kube kubernetes.Interface
	// DataDir holds the server's etcd, CA and kubeconfig.
	DataDir string
	// URL is the server's https address.
	URL string

	ca     *pki.CA
	cancel context.CancelFunc
	done   chan error
}

// Option changes the server's options before it starts.
type Option func(*options.Options)

// WithNamespaceLifecycle turns the NamespaceLifecycle admission plugin on.
// It is off by default in these tests: most of them work in namespaces
// named after the test that they never create; the namespace tests turn
// it on.
func WithNamespaceLifecycle() Option {
	return func(o *options.Options) {
		o.DisableAdmissionPlugins = slices.DeleteFunc(o.DisableAdmissionPlugins, func(p string) bool { return p == namespacelifecycle.PluginName })
	}
}

// StartTestServer starts a server on a fresh data dir and stops it when the
// test ends.
func StartTestServer(t testing.TB, opts ...Option) *TestServer {
	t.Helper()
	return StartTestServerInDir(t, t.TempDir(), opts...)
}

// StartTestServerInDir starts a server on dataDir, which may hold the state
// of an earlier server: that is how a test restarts one.
func StartTestServerInDir(t testing.TB, dataDir string, opts ...Option) *TestServer {
	t.Helper()
	s, err := start(dataDir, opts...)
	if err != nil {
		t.Fatalf("start test API server: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

func start(dataDir string, opts ...Option) (*TestServer, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	o := options.NewOptions()
	o.DataDir = dataDir
	o.SecureServing.Listener = listener
	o.SecureServing.BindAddress = net.ParseIP("127.0.0.1")
	o.SecureServing.BindPort = listener.Addr().(*net.TCPAddr).Port
	o.DisableAdmissionPlugins = []string{namespacelifecycle.PluginName}
	for _, opt := range opts {
		opt(o)
	}

	ctx, cancel := context.WithCancel(context.Background())
	s := &TestServer{DataDir: dataDir, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- app.Run(ctx, o) }()

	want := fmt.Sprintf("https://%s", listener.Addr().String())
	if err := s.waitReady(filepath.Join(dataDir, options.AdminKubeconfigFile), want); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// waitReady waits for the admin kubeconfig and then for /readyz.
func (s *TestServer) waitReady(kubeconfig, want string) error {
	var lastErr error
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		select {
		case err := <-s.done:
			s.done <- err
			return false, fmt.Errorf("server exited before ready: %w", err)
		default:
		}
		if s.AdminConfig == nil {
			// A restart finds the previous server's kubeconfig until the
			// new one rewrites it for its own port.
			if got := options.KubeconfigServer(kubeconfig); got != want {
				lastErr = fmt.Errorf("admin kubeconfig names %q, want %q", got, want)
				return false, nil
			}
			cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
			if err != nil {
				lastErr = err
				return false, nil
			}
			cfg.QPS, cfg.Burst = 1000, 2000
			s.AdminConfig = cfg
			s.URL = cfg.Host
		}
		client, err := clientset.NewForConfig(s.AdminConfig)
		if err != nil {
			return false, err
		}
		var code int
		client.Discovery().RESTClient().Get().AbsPath("/readyz").Do(ctx).StatusCode(&code)
		if code != http.StatusOK {
			lastErr = fmt.Errorf("/readyz answered %d", code)
			return false, nil
		}
		s.Client = client
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("wait for server ready (last: %v): %w", lastErr, err)
	}
	ca, err := pki.LoadCA(filepath.Join(s.DataDir, "pki"))
	if err != nil {
		return err
	}
	s.ca = ca
	if s.Kube, err = kubernetes.NewForConfig(s.AdminConfig); err != nil {
		return fmt.Errorf("create core/v1 client: %w", err)
	}
	return nil
}

// ConfigFor returns a client configuration for user in groups, with a
// client certificate from the server's CA: a kubelet is
// ConfigFor("system:node:n1", "system:nodes").
func (s *TestServer) ConfigFor(user string, groups ...string) *rest.Config {
	kp, err := s.ca.ClientCert(user, groups)
	if err != nil {
		panic(fmt.Sprintf("mint client certificate for %s: %v", user, err))
	}
	cfg := rest.AnonymousClientConfig(s.AdminConfig)
	cfg.TLSClientConfig.CertData = kp.CertPEM
	cfg.TLSClientConfig.KeyData = kp.KeyPEM
	return cfg
}

// AnonymousConfig reaches the server with no credentials.
func (s *TestServer) AnonymousConfig() *rest.Config {
	return rest.AnonymousClientConfig(s.AdminConfig)
}

// Stop shuts the server down and waits for it to drain. It may be called
// more than once.
func (s *TestServer) Stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	select {
	case err := <-s.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			fmt.Printf("test API server stopped with error: %v\n", err)
		}
	case <-time.After(time.Minute):
		fmt.Println("test API server did not stop within a minute")
	}
	s.cancel = nil
}
