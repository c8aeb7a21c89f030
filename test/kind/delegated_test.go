package kind

// skiff-apiserver --delegated-auth, as the kind Deployment runs it, against a
// fake host cluster: an HTTPS server that answers TokenReviews and
// SubjectAccessReviews and serves kube-system/extension-apiserver-authentication.
// This runs with the main module's tests; test/aggregated does the same
// against a real kube-apiserver.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/spf13/pflag"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	logsapi "k8s.io/component-base/logs/api/v1"

	"skiff.dev/skiff/pkg/apiserver/app"
	"skiff.dev/skiff/pkg/apiserver/options"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/pkg/pki"
)

const (
	authConfigMapPath = "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication"
	frontProxyName    = "front-proxy-client"
	namespacesPath    = "/api/v1/namespaces"
	hostNamespacesRV  = "3"
)

// fakeHost plays the host cluster's part in delegation.
type fakeHost struct {
	// tokens maps bearer tokens to users.
	tokens map[string]string
	// allowed decides SubjectAccessReviews.
	allowed func(authorizationv1.SubjectAccessReviewSpec) bool
	// authConfig is the extension-apiserver-authentication ConfigMap.
	authConfig *corev1.ConfigMap
	stop       chan struct{}

	mu      sync.Mutex
	reviews []authorizationv1.SubjectAccessReviewSpec
}

func (h *fakeHost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/apis/authentication.k8s.io/v1/tokenreviews":
		var tr authenticationv1.TokenReview
		if err := json.NewDecoder(r.Body).Decode(&tr); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if user, ok := h.tokens[tr.Spec.Token]; ok {
			tr.Status = authenticationv1.TokenReviewStatus{Authenticated: true, User: authenticationv1.UserInfo{
				Username: user, UID: user + "-uid", Groups: []string{"system:authenticated"},
			}}
		}
		writeJSON(w, &tr)
	case r.Method == http.MethodPost && r.URL.Path == "/apis/authorization.k8s.io/v1/subjectaccessreviews":
		var sar authorizationv1.SubjectAccessReview
		if err := json.NewDecoder(r.Body).Decode(&sar); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.reviews = append(h.reviews, sar.Spec)
		h.mu.Unlock()
		sar.Status.Allowed = h.allowed(sar.Spec)
		writeJSON(w, &sar)
	case r.Method == http.MethodGet && r.URL.Path == authConfigMapPath:
		writeJSON(w, h.authConfig)
	case r.Method == http.MethodGet && r.URL.Path == filepath.Dir(authConfigMapPath):
		h.listOrWatch(w, r, h.authConfig.ResourceVersion, &corev1.ConfigMapList{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMapList"},
			ListMeta: metav1.ListMeta{ResourceVersion: h.authConfig.ResourceVersion},
			Items:    []corev1.ConfigMap{*h.authConfig},
		}, "ConfigMap", h.authConfig)
	case r.Method == http.MethodGet && r.URL.Path == namespacesPath:
		// NamespaceLifecycle admission's informer on the host's namespaces.
		list := &corev1.NamespaceList{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "NamespaceList"},
			ListMeta: metav1.ListMeta{ResourceVersion: hostNamespacesRV},
		}
		var items []any
		for _, name := range []string{"default", "kube-system", "skiff-system"} {
			ns := corev1.Namespace{
				TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
				ObjectMeta: metav1.ObjectMeta{Name: name, ResourceVersion: hostNamespacesRV},
				Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceActive},
			}
			list.Items = append(list.Items, ns)
			items = append(items, &ns)
		}
		h.listOrWatch(w, r, hostNamespacesRV, list, "Namespace", items...)
	default:
		http.Error(w, "the fake host serves no "+r.Method+" "+r.URL.Path, http.StatusNotFound)
	}
}

// listOrWatch serves an informer: the list, or a watch that sends the
// initial state (items, then a bookmark of kind at rv) when asked and then
// idles.
func (h *fakeHost) listOrWatch(w http.ResponseWriter, r *http.Request, rv string, list any, kind string, items ...any) {
	q := r.URL.Query()
	if q.Get("watch") != "true" && q.Get("watch") != "1" {
		writeJSON(w, list)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if q.Get("sendInitialEvents") == "true" {
		bookmark := map[string]any{
			"apiVersion": "v1", "kind": kind,
			"metadata": metav1.ObjectMeta{
				ResourceVersion: rv,
				Annotations:     map[string]string{metav1.InitialEventsAnnotationKey: "true"},
			},
		}
		enc := json.NewEncoder(w)
		for _, obj := range items {
			if err := enc.Encode(map[string]any{"type": "ADDED", "object": obj}); err != nil {
				return
			}
		}
		if err := enc.Encode(map[string]any{"type": "BOOKMARK", "object": bookmark}); err != nil {
			return
		}
	}
	w.(http.Flusher).Flush()
	select {
	case <-r.Context().Done():
	case <-h.stop:
	}
}

// reviewsOf returns the SubjectAccessReviews the host was asked about user.
func (h *fakeHost) reviewsOf(user string) []authorizationv1.SubjectAccessReviewSpec {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []authorizationv1.SubjectAccessReviewSpec
	for _, r := range h.reviews {
		if r.User == user {
			out = append(out, r)
		}
	}
	return out
}

func (h *fakeHost) forgetReviews() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reviews = nil
}

func writeJSON(w http.ResponseWriter, obj any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(obj)
}

// headerRoundTripper adds the front proxy's identity headers.
type headerRoundTripper struct {
	rt      http.RoundTripper
	headers map[string]string
}

func (h headerRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	for k, v := range h.headers {
		req.Header.Set(k, v)
	}
	return h.rt.RoundTrip(req)
}

func TestDelegatedAuthAsksTheHostClusterAboutEveryRequest(t *testing.T) {
	_, m := load(t)
	tmp := t.TempDir()
	clientCA := mustCA(t, filepath.Join(tmp, "client-ca"))
	frontProxyCA := mustCA(t, filepath.Join(tmp, "front-proxy-ca"))

	host := &fakeHost{
		tokens: map[string]string{"alice-token": "alice", "bob-token": "bob"},
		// bob may read skiff pods; nobody may do anything else.
		allowed: func(s authorizationv1.SubjectAccessReviewSpec) bool {
			ra := s.ResourceAttributes
			return s.User == "bob" && ra != nil && ra.Group == "core.skiff.dev" && ra.Resource == "pods" && (ra.Verb == "list" || ra.Verb == "get")
		},
		authConfig: &corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: metav1.ObjectMeta{Name: "extension-apiserver-authentication", Namespace: "kube-system", ResourceVersion: "7"},
			Data: map[string]string{
				"client-ca-file":                     string(clientCA.CertPEM),
				"requestheader-client-ca-file":       string(frontProxyCA.CertPEM),
				"requestheader-allowed-names":        `["` + frontProxyName + `"]`,
				"requestheader-username-headers":     `["X-Remote-User"]`,
				"requestheader-group-headers":        `["X-Remote-Group"]`,
				"requestheader-extra-headers-prefix": `["X-Remote-Extra-"]`,
			},
		},
		stop: make(chan struct{}),
	}
	srv := httptest.NewTLSServer(host)
	t.Cleanup(srv.Close) // after skiff has stopped: cleanups run last-in first-out
	t.Cleanup(func() { close(host.stop) })
	kubeconfig := writeHostKubeconfig(t, srv, filepath.Join(tmp, "host.kubeconfig"))

	// The API server's flags from the Deployment, and what the pod would
	// get from its environment: a data dir, a port, the host's address.
	o := options.NewOptions()
	d := m.Deployments[Key{skiffSystem, "skiff-apiserver"}]
	if d == nil {
		t.Fatal("Deployment skiff-apiserver is missing")
	}
	args := d.Spec.Template.Spec.Containers[0].Args
	fs := pflag.NewFlagSet("skiff-apiserver", pflag.ContinueOnError)
	for _, set := range o.Flags().FlagSets {
		fs.AddFlagSet(set)
	}
	// -v and the other logging flags are the command's; accepted, unused.
	logsapi.AddFlags(logsapi.NewLoggingConfiguration(), fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	if !o.DelegatedAuth {
		t.Fatalf("the Deployment's args %v do not turn on --delegated-auth", args)
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o.DataDir = filepath.Join(tmp, "skiff")
	o.SecureServing.Listener = listener
	o.SecureServing.BindAddress = net.ParseIP("127.0.0.1")
	o.SecureServing.BindPort = listener.Addr().(*net.TCPAddr).Port
	o.Authentication.RemoteKubeConfigFile = kubeconfig
	o.Authorization.RemoteKubeConfigFile = kubeconfig

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, o) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("skiff-apiserver: %v", err)
		}
	})
	url := "https://" + listener.Addr().String()
	serverCA := waitReady(t, url, o.DataDir, done)
	waitForClientCAs(t, listener.Addr().String(), serverCA, clientCA, frontProxyCA)

	base := rest.Config{Host: url, TLSClientConfig: rest.TLSClientConfig{CAData: serverCA}}
	withToken := func(token string) *rest.Config {
		c := base
		c.BearerToken = token
		return &c
	}
	withCert := func(ca *pki.CA, cn string, headers map[string]string) *rest.Config {
		kp, err := ca.ClientCert(cn, nil)
		if err != nil {
			t.Fatal(err)
		}
		c := base
		c.CertData, c.KeyData = kp.CertPEM, kp.KeyPEM
		if headers != nil {
			c.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { return headerRoundTripper{rt, headers} }
		}
		return &c
	}
	bobHeaders := map[string]string{"X-Remote-User": "bob", "X-Remote-Group": "system:authenticated"}
	aliceHeaders := map[string]string{"X-Remote-User": "alice", "X-Remote-Group": "system:authenticated"}

	tests := []struct {
		name   string
		config *rest.Config
		// want checks the error of listing pods in default.
		want func(error) bool
		// reviewedAs is the user the host must have been asked about.
		reviewedAs string
	}{
		{"a token the host vouches for, of a user allowed to list", withToken("bob-token"), noError, "bob"},
		{"a token the host vouches for, of a user not allowed", withToken("alice-token"), apierrors.IsForbidden, "alice"},
		{"a token the host does not know", withToken("forged"), apierrors.IsUnauthorized, ""},
		{"the front proxy's certificate vouching for bob, as the aggregator sends", withCert(frontProxyCA, frontProxyName, bobHeaders), noError, "bob"},
		{"the front proxy vouching for alice", withCert(frontProxyCA, frontProxyName, aliceHeaders), apierrors.IsForbidden, "alice"},
		{"a client certificate from the host's client CA", withCert(clientCA, "carol", nil), apierrors.IsForbidden, "carol"},
		{"identity headers from a client that is not the front proxy are ignored", withCert(clientCA, "dave", bobHeaders), apierrors.IsForbidden, "dave"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, err := clientset.NewForConfig(tt.config)
			if err != nil {
				t.Fatal(err)
			}
			host.forgetReviews()
			_, err = client.CoreV1alpha1().Pods("default").List(context.Background(), metav1.ListOptions{})
			if !tt.want(err) {
				t.Fatalf("list pods: %v", err)
			}
			if tt.reviewedAs == "" {
				return
			}
			reviews := host.reviewsOf(tt.reviewedAs)
			if len(reviews) == 0 {
				t.Fatalf("the host was never asked about %s", tt.reviewedAs)
			}
			ra := reviews[len(reviews)-1].ResourceAttributes
			want := authorizationv1.ResourceAttributes{Namespace: "default", Verb: "list", Group: "core.skiff.dev", Version: "v1alpha1", Resource: "pods"}
			if ra == nil || ra.Namespace != want.Namespace || ra.Verb != want.Verb || ra.Group != want.Group || ra.Version != want.Version || ra.Resource != want.Resource {
				t.Errorf("the host was asked about %+v, want %+v", ra, want)
			}
		})
	}
}

func noError(err error) bool { return err == nil }

func mustCA(t *testing.T, dir string) *pki.CA {
	t.Helper()
	ca, err := pki.LoadOrCreateCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// writeHostKubeconfig writes a kubeconfig for the fake host, trusting its
// certificate, as --authentication-kubeconfig and --authorization-kubeconfig.
func writeHostKubeconfig(t *testing.T, srv *httptest.Server, path string) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["host"] = &clientcmdapi.Cluster{
		Server:                   srv.URL,
		CertificateAuthorityData: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}),
	}
	cfg.AuthInfos["skiff-apiserver"] = &clientcmdapi.AuthInfo{Token: "skiff-apiserver-token"}
	cfg.Contexts["host"] = &clientcmdapi.Context{Cluster: "host", AuthInfo: "skiff-apiserver"}
	cfg.CurrentContext = "host"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// waitReady waits for the server's CA to appear and /readyz to answer 200,
// and returns the CA.
func waitReady(t *testing.T, url, dataDir string, done <-chan error) []byte {
	t.Helper()
	var ca []byte
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		select {
		case err := <-done:
			return false, fmt.Errorf("skiff-apiserver exited: %w", err)
		default:
		}
		var err error
		if ca, err = os.ReadFile(filepath.Join(dataDir, "pki", pki.CACertFile)); err != nil {
			last = err
			return false, nil
		}
		client, err := clientset.NewForConfig(&rest.Config{Host: url, TLSClientConfig: rest.TLSClientConfig{CAData: ca}})
		if err != nil {
			return false, err
		}
		var code int
		last = client.Discovery().RESTClient().Get().AbsPath("/readyz").Do(ctx).StatusCode(&code).Error()
		return code == http.StatusOK, nil
	})
	if err != nil {
		t.Fatalf("wait for skiff-apiserver /readyz (last: %v): %v", last, err)
	}
	return ca
}

// waitForClientCAs waits until the server asks TLS clients for certificates
// signed by each of cas. It learns them from the host's ConfigMap after it
// starts, and until then a client does not even send its certificate.
func waitForClientCAs(t *testing.T, addr string, serverCA []byte, cas ...*pki.CA) {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(serverCA)
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		var acceptable [][]byte
		conf := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12, GetClientCertificate: func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			acceptable = cri.AcceptableCAs
			return &tls.Certificate{}, nil
		}}
		conn, err := (&tls.Dialer{Config: conf}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return false, nil
		}
		conn.Close()
		for _, ca := range cas {
			if !slices.ContainsFunc(acceptable, func(subject []byte) bool { return bytes.Equal(subject, ca.Cert.RawSubject) }) {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("wait for skiff-apiserver to trust the host's client and front-proxy CAs: %v", err)
	}
}
