package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	x509request "k8s.io/apiserver/pkg/authentication/request/x509"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"skiff.dev/skiff/pkg/kubelet/logs"
)

// fakeSource serves one container's current and previous logs.
type fakeSource struct {
	current, previous string
}

func (f *fakeSource) ContainerLog(_ context.Context, ns, pod, container string, previous bool) (string, func() bool, error) {
	if ns != "default" || pod != "web" {
		return "", nil, &Error{Code: http.StatusNotFound, Message: "pod default/web not found"}
	}
	if container != "app" {
		return "", nil, &Error{Code: http.StatusBadRequest, Message: "container " + container + " is not valid for pod web"}
	}
	if previous {
		if f.previous == "" {
			return "", nil, &Error{Code: http.StatusBadRequest, Message: "previous terminated container app in pod web not found"}
		}
		return f.previous, nil, nil
	}
	return f.current, nil, nil
}

func writeLog(t *testing.T, lines ...string) string {
	path := filepath.Join(t.TempDir(), "0.log")
	f, _ := os.Create(path)
	defer f.Close()
	clock := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	w := logs.NewWriter(f, func() time.Time { clock = clock.Add(time.Second); return clock })
	for _, l := range lines {
		_ = w.Copy(logs.Stdout, strings.NewReader(l+"\n"))
	}
	return path
}

func TestContainerLogs(t *testing.T) {
	src := &fakeSource{current: writeLog(t, "one", "two", "three"), previous: writeLog(t, "old")}
	h := NewHandler(src, nil, nil)
	for _, tc := range []struct {
		name     string
		url      string
		wantCode int
		wantBody string
	}{
		{"whole log", "/containerLogs/default/web/app", 200, "one\ntwo\nthree\n"},
		{"tail", "/containerLogs/default/web/app?tailLines=2", 200, "two\nthree\n"},
		{"limit", "/containerLogs/default/web/app?limitBytes=5", 200, "one\nt"},
		{"timestamps", "/containerLogs/default/web/app?tailLines=1&timestamps=true", 200, "2024-05-01T10:00:03Z three\n"},
		{"since a time", "/containerLogs/default/web/app?sinceTime=2024-05-01T10:00:02Z", 200, "two\nthree\n"},
		{"previous", "/containerLogs/default/web/app?previous=true", 200, "old\n"},
		{"follow an exited container ends", "/containerLogs/default/web/app?follow=true&tailLines=1", 200, "three\n"},
		{"unknown pod", "/containerLogs/default/nope/app", 404, "pod default/web not found\n"},
		{"unknown container", "/containerLogs/default/web/db", 400, "container db is not valid for pod web\n"},
		{"bad tailLines", "/containerLogs/default/web/app?tailLines=-1", 400, ""},
		{"bad limitBytes", "/containerLogs/default/web/app?limitBytes=0", 400, ""},
		{"tailLines not a number", "/containerLogs/default/web/app?tailLines=many", 400, ""},
		{"sinceTime not a time", "/containerLogs/default/web/app?sinceTime=yesterday", 400, ""},
		// The parameter codec reads any boolean but false, f and 0 as true,
		// as upstream's kubelet does.
		{"follow=maybe follows", "/containerLogs/default/web/app?follow=maybe&tailLines=1", 200, "three\n"},
		{"both since forms", "/containerLogs/default/web/app?sinceSeconds=5&sinceTime=2024-05-01T10:00:02Z", 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", tc.url, nil))
			if rec.Code != tc.wantCode {
				t.Errorf("code %d, want %d (%s)", rec.Code, tc.wantCode, rec.Body.String())
			}
			if tc.wantBody != "" && rec.Body.String() != tc.wantBody {
				t.Errorf("body %q, want %q", rec.Body.String(), tc.wantBody)
			}
		})
	}
	src.previous = ""
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/containerLogs/default/web/app?previous=true", nil))
	if rec.Code != 400 {
		t.Errorf("previous of a container that never restarted: %d", rec.Code)
	}
}

func TestHealthz(t *testing.T) {
	healthy := error(nil)
	h := NewHandler(&fakeSource{}, func() error { return healthy }, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "metrics") }))
	for _, tc := range []struct {
		err      error
		wantCode int
	}{{nil, 200}, {errors.New("runtime down"), 500}} {
		healthy = tc.err
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
		if rec.Code != tc.wantCode {
			t.Errorf("healthz with %v: %d", tc.err, rec.Code)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Body.String() != "metrics" {
		t.Errorf("/metrics: %q", rec.Body.String())
	}
}

// ca is a certificate authority for tests.
type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T, name string) *ca {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &ca{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (c *ca) clientCert(t *testing.T, user string) tls.Certificate {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: user},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// allowUser is an authorizer that allows one user the given subresources
// of node n1, and records what it was asked.
type allowUser struct {
	user  string
	subs  []string
	asked []string
}

func (a *allowUser) Authorize(_ context.Context, attrs authorizer.Attributes) (authorizer.Decision, string, error) {
	a.asked = append(a.asked, attrs.GetUser().GetName()+" "+attrs.GetVerb()+" "+attrs.GetResource()+"/"+attrs.GetSubresource()+" "+attrs.GetName())
	if attrs.GetUser().GetName() == a.user && attrs.GetName() == "n1" && slices.Contains(a.subs, attrs.GetSubresource()) {
		return authorizer.DecisionAllow, "", nil
	}
	return authorizer.DecisionNoOpinion, "", nil
}

// TestServerAuthenticatesAndAuthorizesEveryRequest: a certificate from the
// cluster CA is not enough; the authorizer must allow the caller the node's
// subresource the path maps to.
func TestServerAuthenticatesAndAuthorizesEveryRequest(t *testing.T) {
	cluster, other := newCA(t, "cluster"), newCA(t, "other")
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(caFile, cluster.pem, 0o644); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cluster.cert)
	authn := x509request.New(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, x509request.CommonNameUserConversion)
	authz := &allowUser{user: "kube-apiserver-kubelet-client", subs: []string{"proxy", "metrics"}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrs := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		cfg := Config{Address: "127.0.0.1", Port: 0, ClientCAFile: caFile, ServingHosts: []string{"127.0.0.1", "127.0.0.1"},
			Auth: Auth{Authenticator: authn, Authorizer: authz, NodeName: "n1"}}
		done <- Serve(ctx, cfg, NewHandler(&fakeSource{current: writeLog(t, "secret")}, nil, http.NotFoundHandler()), func(a net.Addr) { addrs <- a })
	}()
	var addr net.Addr
	select {
	case addr = <-addrs:
	case err := <-done:
		t.Fatal(err)
	}
	get := func(path string, certs ...tls.Certificate) (int, error) {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, Certificates: certs}}}
		resp, err := client.Get("https://" + addr.String() + path)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		return resp.StatusCode, nil
	}
	apiserver := cluster.clientCert(t, "kube-apiserver-kubelet-client")
	for _, tc := range []struct {
		name     string
		path     string
		certs    []tls.Certificate
		wantCode int
	}{
		{"the API server reads logs", "/containerLogs/default/web/app", []tls.Certificate{apiserver}, 200},
		{"the API server reads healthz (nodes/proxy)", "/healthz", []tls.Certificate{apiserver}, 200},
		{"the API server's /logs needs nodes/log", "/logs/", []tls.Certificate{apiserver}, 403},
		{"a minted user from the cluster CA", "/containerLogs/default/web/app", []tls.Certificate{cluster.clientCert(t, "mallory")}, 403},
		{"another node", "/containerLogs/default/web/app", []tls.Certificate{cluster.clientCert(t, "system:node:n2")}, 403},
		{"no client certificate", "/containerLogs/default/web/app", nil, 401},
		// Go's client sends no certificate the server's CA list does not
		// name; one sent anyway fails the handshake.
		{"signed by another CA", "/containerLogs/default/web/app", []tls.Certificate{other.clientCert(t, "kube-apiserver-kubelet-client")}, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, err := get(tc.path, tc.certs...)
			if code != tc.wantCode || err != nil {
				t.Errorf("got %d, %v; want %d", code, err, tc.wantCode)
			}
		})
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
	if err := Serve(context.Background(), Config{ClientCAFile: caFile}, http.NotFoundHandler(), nil); err == nil {
		t.Error("a kubelet API without an authenticator and authorizer must not serve")
	}
}

// TestRequestAttributes: paths map to the node's subresources as upstream's
// kubelet maps them.
func TestRequestAttributes(t *testing.T) {
	u := &user.DefaultInfo{Name: "u"}
	for _, tc := range []struct {
		method, path string
		want         []string
	}{
		{"GET", "/containerLogs/default/web/app", []string{"get nodes/proxy"}},
		{"GET", "/metrics", []string{"get nodes/metrics"}},
		{"GET", "/metrics/cadvisor", []string{"get nodes/metrics"}},
		{"GET", "/metricsx", []string{"get nodes/proxy"}},
		{"GET", "/stats/summary", []string{"get nodes/stats"}},
		{"GET", "/logs/syslog", []string{"get nodes/log"}},
		{"GET", "/healthz", []string{"get nodes/healthz", "get nodes/proxy"}},
		{"GET", "/pods", []string{"get nodes/pods", "get nodes/proxy"}},
		{"GET", "/configz", []string{"get nodes/configz", "get nodes/proxy"}},
		{"POST", "/exec/default/web/app", []string{"create nodes/proxy"}},
	} {
		var got []string
		for _, a := range RequestAttributes(u, httptest.NewRequest(tc.method, tc.path, nil), "n1") {
			if a.GetName() != "n1" || a.GetAPIGroup() != "" || !a.IsResourceRequest() {
				t.Errorf("%s %s: attributes %+v are not about node n1 in the legacy group", tc.method, tc.path, a)
			}
			got = append(got, a.GetVerb()+" "+a.GetResource()+"/"+a.GetSubresource())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s %s = %v, want %v", tc.method, tc.path, got, tc.want)
		}
	}
}

func TestTLSConfigErrors(t *testing.T) {
	if _, err := TLSConfig(Config{ClientCAFile: filepath.Join(t.TempDir(), "missing")}); err == nil {
		t.Error("a missing client CA must fail")
	}
	empty := filepath.Join(t.TempDir(), "empty")
	_ = os.WriteFile(empty, []byte("not pem"), 0o644)
	if _, err := TLSConfig(Config{ClientCAFile: empty}); err == nil {
		t.Error("a client CA without certificates must fail")
	}
}
