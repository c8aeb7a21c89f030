// Package probe runs one network health check (HTTP GET, TCP connect, gRPC
// health) and says whether it succeeded, as upstream's pkg/probe does. It
// knows nothing of pods: the prober resolves addresses and ports first.
package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	grpcstatus "google.golang.org/grpc/status"
)

// Result is the outcome of one probe.
type Result int

const (
	// Unknown: not probed yet, or the probe could not be run.
	Unknown Result = iota
	// Success: the check passed.
	Success
	// Failure: the check failed; the message says why.
	Failure
)

func (r Result) String() string {
	switch r {
	case Success:
		return "success"
	case Failure:
		return "failure"
	default:
		return "unknown"
	}
}

// UserAgent is sent with every HTTP probe, as upstream's kubelet sends
// kube-probe/<major>.<minor>, so a server can tell probes from users.
const UserAgent = "kube-probe/1.37"

// maxBody is how much of a failed response's body the message quotes.
const maxBody = 10 << 10

// maxRedirects is how many redirects to the same host an HTTP probe follows.
const maxRedirects = 10

// HTTPProber sends HTTP probes. It keeps no connections alive between
// probes: a probe that reused a connection would not notice a server that
// stopped accepting new ones.
type HTTPProber struct {
	client *http.Client
}

// NewHTTP returns an HTTP prober. HTTPS probes do not verify the server's
// certificate, as upstream's do not.
func NewHTTP() *HTTPProber {
	transport := &http.Transport{
		DisableKeepAlives:  true,
		DisableCompression: true,
		Proxy:              nil, // a probe goes to the pod, never through a proxy
		// #nosec G402 -- a pod's serving certificate is not one the kubelet can verify.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	}
	client := &http.Client{
		Transport: transport,
		// Redirects to the same host are followed; one to another host is
		// not (a probe must not be sent elsewhere) and its 3xx counts as
		// success, as upstream's kubelet treats it.
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host != via[0].URL.Host || len(via) >= maxRedirects {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	return &HTTPProber{client: client}
}

// Probe sends GET u with headers within timeout. A status from 200 to 399 is
// success.
func (p *HTTPProber) Probe(ctx context.Context, u *url.URL, headers http.Header, timeout time.Duration) (Result, string) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Failure, fmt.Sprintf("build request: %v", err)
	}
	for name, values := range headers {
		for _, v := range values {
			req.Header.Add(name, v)
		}
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", UserAgent)
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "*/*")
	}
	if h := headers.Get("Host"); h != "" {
		req.Host = h
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return Failure, fmt.Sprintf("Get %q: %v", u.String(), unwrapURLError(err))
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if resp.StatusCode >= http.StatusOK && resp.StatusCode < http.StatusBadRequest {
		return Success, ""
	}
	return Failure, fmt.Sprintf("HTTP probe failed with statuscode: %d, body: %q", resp.StatusCode, body)
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if errors.Is(ue.Err, context.DeadlineExceeded) {
			return errors.New("context deadline exceeded (Client.Timeout exceeded while awaiting headers)")
		}
		return ue.Err
	}
	return err
}

// HTTPURL builds a probe's URL from its parts.
func HTTPURL(scheme, host string, port int, path string) *url.URL {
	u := &url.URL{Scheme: scheme, Host: net.JoinHostPort(host, strconv.Itoa(port))}
	// The path may carry a query: parse it as a reference, as upstream does.
	if ref, err := url.Parse(path); err == nil {
		u.Path, u.RawPath, u.RawQuery = ref.Path, ref.RawPath, ref.RawQuery
	} else {
		u.Path = path
	}
	return u
}

// TCP opens a TCP connection to host:port within timeout and closes it.
func TCP(ctx context.Context, host string, port int, timeout time.Duration) (Result, string) {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return Failure, fmt.Sprintf("dial tcp %s: %v", addr, unwrapOpError(err))
	}
	_ = conn.Close()
	return Success, ""
}

func unwrapOpError(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}

// GRPC asks the gRPC health service (grpc.health.v1.Health/Check) at
// host:port about service, within timeout. SERVING is success.
func GRPC(ctx context.Context, host string, port int, service string, timeout time.Duration) (Result, string) {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUserAgent(UserAgent))
	if err != nil {
		return Failure, fmt.Sprintf("failed to connect service %q: %v", addr, err)
	}
	defer func() { _ = conn.Close() }()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		st, _ := grpcstatus.FromError(err)
		return Failure, fmt.Sprintf("health check of %s (service %q) failed: %s: %s", addr, service, st.Code(), st.Message())
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return Failure, fmt.Sprintf("service unhealthy (responded with %q)", resp.GetStatus())
	}
	return Success, ""
}
