package apiserver

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/apiserver/auth"
	"skiff.dev/skiff/pkg/pki"
	"skiff.dev/skiff/test/integration/framework"
)

// fakeKubelet serves /containerLogs as a kubelet does and remembers what it
// was asked.
type fakeKubelet struct {
	mu       sync.Mutex
	requests []string
	hadCert  bool
	// client is the subject of the certificate the API server presented.
	client pkix.Name
}

func (k *fakeKubelet) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	k.mu.Lock()
	k.requests = append(k.requests, r.URL.RequestURI())
	k.hadCert = r.TLS != nil && len(r.TLS.PeerCertificates) > 0
	if k.hadCert {
		k.client = r.TLS.PeerCertificates[0].Subject
	}
	k.mu.Unlock()
	if !strings.HasPrefix(r.URL.Path, "/containerLogs/") {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprintf(w, "hello from %s\n", r.URL.Path)
}

// TestPodLogs covers pods/log: the API server finds the pod's node and
// proxies to its kubelet, or says clearly why it cannot.
func TestPodLogs(t *testing.T) {
	s := framework.StartTestServer(t)
	c := s.Client
	const ns = "logs"

	kubelet := &fakeKubelet{}
	srv := httptest.NewUnstartedServer(kubelet)
	// A kubelet asks for the API server's client certificate.
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12,
		// The API server verifies kubelets' serving certificates.
		Certificates: []tls.Certificate{kubeletServingCert(t, s, "logs-with-kubelet", "127.0.0.1")}}
	srv.StartTLS()
	defer srv.Close()
	_, portText, _ := net.SplitHostPort(srv.Listener.Addr().String())
	port, _ := strconv.Atoi(portText)

	withKubelet := newNode("logs-with-kubelet")
	withKubelet.Status.Addresses = []v1alpha1.NodeAddress{{Type: v1alpha1.NodeHostName, Address: "nowhere.invalid"}, {Type: v1alpha1.NodeInternalIP, Address: "127.0.0.1"}}
	withKubelet.Status.DaemonEndpoints.KubeletEndpoint.Port = int32(port)
	mustCreateNode(t, c, withKubelet)
	mustCreateNode(t, c, newNode("logs-no-kubelet"))

	mustCreatePod(t, c, ns, newPod("unbound"))
	mustCreatePod(t, c, ns, newPod("no-kubelet"))
	mustBind(t, c, ns, "no-kubelet", "logs-no-kubelet")
	mustCreatePod(t, c, ns, newPod("running"))
	mustBind(t, c, ns, "running", "logs-with-kubelet")
	two := newPod("two")
	two.Spec.Containers = append(two.Spec.Containers, v1alpha1.Container{Name: "sidecar", Image: "busybox:1.36"})
	mustCreatePod(t, c, ns, two)
	mustBind(t, c, ns, "two", "logs-with-kubelet")

	tests := []struct {
		name      string
		pod       string
		query     string
		wantCode  int
		wantWords []string
	}{
		{name: "an unbound pod has no log yet", pod: "unbound", wantCode: 400, wantWords: []string{"unbound", "host"}},
		{name: "a node without a kubelet endpoint", pod: "no-kubelet", wantCode: 503, wantWords: []string{"logs-no-kubelet", "kubelet"}},
		{name: "a missing pod", pod: "missing", wantCode: 404},
		{name: "an unknown container", pod: "running", query: "container=nope", wantCode: 400, wantWords: []string{"nope"}},
		{name: "several containers and none named", pod: "two", wantCode: 400, wantWords: []string{"main", "sidecar"}},
		{name: "a negative tailLines", pod: "running", query: "tailLines=-1", wantCode: 422, wantWords: []string{"tailLines"}},
		{name: "the kubelet's log is streamed", pod: "running", query: "tailLines=5&timestamps=true", wantCode: 200,
			wantWords: []string{"hello from /containerLogs/logs/running/main"}},
		{name: "the named container's log", pod: "two", query: "container=sidecar", wantCode: 200,
			wantWords: []string{"/containerLogs/logs/two/sidecar"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := podsPath(ns, tt.pod, "log")
			if tt.query != "" {
				path += "?" + tt.query
			}
			res := doRaw(t, s.AdminConfig, "GET", path, "", nil)
			if res.code != tt.wantCode {
				t.Fatalf("HTTP %d (%s), want %d", res.code, truncate(res.body), tt.wantCode)
			}
			text := string(res.body)
			if res.status != nil {
				text = res.status.Message
			}
			for _, w := range tt.wantWords {
				if !strings.Contains(text, w) {
					t.Errorf("answer %q does not mention %q", text, w)
				}
			}
		})
	}

	kubelet.mu.Lock()
	defer kubelet.mu.Unlock()
	var sawTail bool
	for _, r := range kubelet.requests {
		if strings.Contains(r, "tailLines=5") && strings.Contains(r, "timestamps=true") {
			sawTail = true
		}
	}
	if !sawTail {
		t.Errorf("kubelet requests %v: the log options were not passed on", kubelet.requests)
	}
	if !kubelet.hadCert {
		t.Error("the API server did not present a client certificate to the kubelet")
	}
	if kubelet.client.CommonName != auth.KubeletClientUser || len(kubelet.client.Organization) != 0 {
		t.Errorf("the API server presented %v to the kubelet, want %s in no group (not system:masters)", kubelet.client, auth.KubeletClientUser)
	}
}

// kubeletServingCert is a kubelet serving certificate from the server's CA.
func kubeletServingCert(t *testing.T, s *framework.TestServer, node string, addresses ...string) tls.Certificate {
	t.Helper()
	ca, err := pki.LoadCA(filepath.Join(s.DataDir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	kp, err := ca.KubeletServingCert(node, addresses)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(kp.CertPEM, kp.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
