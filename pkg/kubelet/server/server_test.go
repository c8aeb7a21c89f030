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
	"strings"
	"testing"
	"time"

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
		{"bad follow", "/containerLogs/default/web/app?follow=maybe", 400, ""},
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

func TestServerRequiresClientCertsFromTheClusterCA(t *testing.T) {
	cluster, other := newCA(t, "cluster"), newCA(t, "other")
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(caFile, cluster.pem, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrs := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, Config{Address: "127.0.0.1", Port: 0, ClientCAFile: caFile, ServingHosts: []string{"127.0.0.1", "127.0.0.1"}},
			NewHandler(&fakeSource{}, nil, nil), func(a net.Addr) { addrs <- a })
	}()
	var addr net.Addr
	select {
	case addr = <-addrs:
	case err := <-done:
		t.Fatal(err)
	}
	get := func(certs ...tls.Certificate) (int, error) {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, Certificates: certs}}}
		resp, err := client.Get("https://" + addr.String() + "/healthz")
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		return resp.StatusCode, nil
	}
	for _, tc := range []struct {
		name   string
		certs  []tls.Certificate
		wantOK bool
	}{
		{"signed by the cluster CA", []tls.Certificate{cluster.clientCert(t, "skiff-apiserver")}, true},
		{"no client certificate", nil, false},
		{"signed by another CA", []tls.Certificate{other.clientCert(t, "intruder")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, err := get(tc.certs...)
			if ok := err == nil && code == 200; ok != tc.wantOK {
				t.Errorf("got %d, %v; want allowed=%v", code, err, tc.wantOK)
			}
		})
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
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
