package probe

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func hostPort(t *testing.T, addr string) (string, int) {
	t.Helper()
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(p)
	return host, port
}

func TestHTTP(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	var gotUA, gotHeader string
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		gotUA, gotHeader = r.UserAgent(), r.Header.Get("X-Probe")
		if r.URL.Query().Get("q") != "1" {
			w.WriteHeader(http.StatusBadRequest)
		}
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok?q=1", http.StatusFound) })
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://192.0.2.1:1/", http.StatusFound)
	})
	mux.HandleFunc("/redirect-to-404", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/missing", http.StatusFound) })
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/error", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "broken", http.StatusInternalServerError) })
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tls := httptest.NewTLSServer(mux)
	defer tls.Close()
	host, port := hostPort(t, srv.Listener.Addr().String())
	_, tlsPort := hostPort(t, tls.Listener.Addr().String())
	closed := closedPort(t)

	tests := []struct {
		name    string
		scheme  string
		port    int
		path    string
		want    Result
		message string
	}{
		{name: "200 with a query", scheme: "http", port: port, path: "/ok?q=1", want: Success},
		{name: "redirect on the same host is followed", scheme: "http", port: port, path: "/redirect", want: Success},
		{name: "redirect to another host counts as success", scheme: "http", port: port, path: "/elsewhere", want: Success},
		{name: "redirect to a 404 fails", scheme: "http", port: port, path: "/redirect-to-404", want: Failure, message: "statuscode: 404"},
		{name: "400 fails", scheme: "http", port: port, path: "/ok", want: Failure, message: "statuscode: 400"},
		{name: "500 fails with the body", scheme: "http", port: port, path: "/error", want: Failure, message: "broken"},
		{name: "timeout fails", scheme: "http", port: port, path: "/hang", want: Failure, message: "deadline exceeded"},
		{name: "nobody listening fails", scheme: "http", port: closed, path: "/", want: Failure, message: "connection refused"},
		{name: "https without verifying", scheme: "https", port: tlsPort, path: "/ok?q=1", want: Success},
	}
	p := NewHTTP()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			headers := http.Header{"X-Probe": {"yes"}}
			got, msg := p.Probe(context.Background(), HTTPURL(tt.scheme, host, tt.port, tt.path), headers, 300*time.Millisecond)
			if got != tt.want || !strings.Contains(msg, tt.message) {
				t.Fatalf("got %v %q, want %v containing %q", got, msg, tt.want, tt.message)
			}
		})
	}
	if gotUA != UserAgent || gotHeader != "yes" {
		t.Errorf("server saw User-Agent %q and X-Probe %q, want %q and yes", gotUA, gotHeader, UserAgent)
	}
}

func TestHTTPURL(t *testing.T) {
	u := HTTPURL("http", "10.0.0.1", 80, "/healthz?full=1")
	want := &url.URL{Scheme: "http", Host: "10.0.0.1:80", Path: "/healthz", RawQuery: "full=1"}
	if u.String() != want.String() {
		t.Errorf("got %s, want %s", u, want)
	}
	if got := HTTPURL("http", "::1", 8080, "/").Host; got != "[::1]:8080" {
		t.Errorf("IPv6 host: got %s", got)
	}
}

// closedPort returns a local port nobody listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port := hostPort(t, l.Addr().String())
	_ = l.Close()
	return port
}

func TestTCP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	_, open := hostPort(t, l.Addr().String())
	tests := []struct {
		name string
		port int
		want Result
	}{
		{"listening port succeeds", open, Success},
		{"closed port fails", closedPort(t), Failure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, msg := TCP(context.Background(), "127.0.0.1", tt.port, time.Second); got != tt.want {
				t.Fatalf("got %v (%s), want %v", got, msg, tt.want)
			}
		})
	}
}

func TestGRPC(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus("db", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	go func() { _ = srv.Serve(l) }()
	defer srv.Stop()
	_, port := hostPort(t, l.Addr().String())

	tests := []struct {
		name    string
		port    int
		service string
		want    Result
		message string
	}{
		{name: "serving server", port: port, want: Success},
		{name: "not serving service", port: port, service: "db", want: Failure, message: "NOT_SERVING"},
		{name: "unknown service", port: port, service: "nope", want: Failure, message: "NotFound"},
		{name: "nobody listening", port: closedPort(t), want: Failure, message: "Unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, msg := GRPC(context.Background(), "127.0.0.1", tt.port, tt.service, time.Second)
			if got != tt.want || !strings.Contains(msg, tt.message) {
				t.Fatalf("got %v %q, want %v containing %q", got, msg, tt.want, tt.message)
			}
		})
	}
}
