package kubelet

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/apiserver/auth"
	"skiff.dev/skiff/pkg/apiserver/options"
	"skiff.dev/skiff/pkg/kubelet/app"
	"skiff.dev/skiff/pkg/pki"
	"skiff.dev/skiff/test/integration/framework"
)

// runningPod creates a pod that prints a secret and waits until it runs.
func runningPod(t *testing.T, s *framework.TestServer, name string) {
	t.Helper()
	ctx := context.Background()
	pods := s.Client.CoreV1alpha1().Pods("default")
	if _, err := pods.Create(ctx, pod(name, v1alpha1.RestartPolicyAlways, "echo the secret of "+name+"; exec sleep 300"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, name+" Running", func() (bool, error) {
		p, err := pods.Get(ctx, name, metav1.GetOptions{})
		return err == nil && p.Status.Phase == v1alpha1.PodRunning, err
	})
}

// TestKubeletAPITrustsOnlyTheAPIServer: a certificate from the cluster CA
// no longer opens the kubelet API. Other nodes, the scheduler and minted
// users get 403 from the kubelet itself; the API server's pods/log still
// works, and the kubelet's serving certificate is the cluster CA's. Bearer
// tokens are reviewed by the API server.
func TestKubeletAPITrustsOnlyTheAPIServer(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "tokens.csv")
	tokens := "ops-token,ops,uid-ops,system:masters\nmallory-token,mallory,uid-mallory,\n"
	if err := os.WriteFile(tokenFile, []byte(tokens), 0o600); err != nil {
		t.Fatal(err)
	}
	s := framework.StartTestServer(t, func(o *options.Options) { o.TokenAuthFile = tokenFile })
	_, o := startKubeletWith(t, s, nil)
	runningPod(t, s, "web")
	ctx := context.Background()

	waitFor(t, "web's log through the API server", func() (bool, error) {
		out, err := s.Client.CoreV1alpha1().RESTClient().Get().Namespace("default").Resource("pods").Name("web").
			SubResource("log").Param("container", "main").DoRaw(ctx)
		return string(out) == "the secret of web\n", err
	})

	ca, err := pki.LoadCA(filepath.Join(s.DataDir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	k := kubeletClient{t: t, ca: ca, url: fmt.Sprintf("https://127.0.0.1:%d/containerLogs/default/web/main", o.Port)}
	for _, tc := range []struct {
		name   string
		user   string
		groups []string
		want   int
	}{
		{"a minted user (skiff kubeconfig --user mallory)", "mallory", nil, http.StatusForbidden},
		{"another node", "system:node:other", []string{auth.NodesGroup}, http.StatusForbidden},
		{"the node itself", "system:node:" + nodeName, []string{auth.NodesGroup}, http.StatusForbidden},
		{"the scheduler", auth.SchedulerUser, nil, http.StatusForbidden},
		{"no certificate", "", nil, http.StatusUnauthorized},
		{"the API server's kubelet client", auth.KubeletClientUser, nil, http.StatusOK},
		{"an admin", "ops", []string{"system:masters"}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := k.get(tc.user, tc.groups, "")
			if code != tc.want {
				t.Errorf("GET the kubelet's containerLogs = %d %q, want %d", code, body, tc.want)
			}
			if code != http.StatusOK && strings.Contains(body, "secret") {
				t.Errorf("a refused caller read the log: %q", body)
			}
		})
	}
	for _, tc := range []struct {
		name, token string
		want        int
	}{
		{"an admin's bearer token", "ops-token", http.StatusOK},
		{"mallory's bearer token", "mallory-token", http.StatusForbidden},
		{"a guessed bearer token", "guess", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, body := k.get("", nil, tc.token); code != tc.want {
				t.Errorf("GET the kubelet's containerLogs = %d %q, want %d", code, body, tc.want)
			}
		})
	}
}

// kubeletClient GETs a kubelet URL as a user with a client certificate
// from the cluster CA, or with a bearer token, trusting only the cluster
// CA for the kubelet's serving certificate (not InsecureSkipVerify).
type kubeletClient struct {
	t   *testing.T
	ca  *pki.CA
	url string
}

func (k kubeletClient) get(user string, groups []string, token string) (int, string) {
	k.t.Helper()
	var certs []tls.Certificate
	if user != "" {
		kp, err := k.ca.ClientCert(user, groups)
		if err != nil {
			k.t.Fatal(err)
		}
		cert, err := tls.X509KeyPair(kp.CertPEM, kp.KeyPEM)
		if err != nil {
			k.t.Fatal(err)
		}
		certs = append(certs, cert)
	}
	roots := x509.NewCertPool()
	roots.AddCert(k.ca.Cert)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: certs}}}
	req, err := http.NewRequest(http.MethodGet, k.url, nil)
	if err != nil {
		k.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		k.t.Fatalf("GET %s as %q: %v", k.url, user, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestPodLogsRefuseAKubeletWithoutACertificateFromTheCA: the API server
// verifies the kubelet's serving certificate; a self-signed one (what any
// listener at a node's reported address could present) is not trusted.
func TestPodLogsRefuseAKubeletWithoutACertificateFromTheCA(t *testing.T) {
	s := framework.StartTestServer(t)
	startKubeletWith(t, s, func(o *app.Options) { o.TLSCertFile, o.TLSPrivateKeyFile = "", "" })
	runningPod(t, s, "web")
	out, err := s.Client.CoreV1alpha1().RESTClient().Get().Namespace("default").Resource("pods").Name("web").
		SubResource("log").Param("container", "main").DoRaw(context.Background())
	if err == nil || strings.Contains(string(out), "secret") {
		t.Fatalf("pods/log from a kubelet with a self-signed certificate = %q, %v; want an error", out, err)
	}
	t.Logf("pods/log from a kubelet with a self-signed certificate: %v", err)
}
