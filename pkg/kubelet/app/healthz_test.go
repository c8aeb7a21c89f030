package app

import (
	"net"
	"testing"
)

// TestHealthzIsLoopbackOnly: the plain-HTTP healthz port carries no
// authentication, so by default it listens on loopback only, as upstream's
// 10248 does; the authenticated API is on --port.
func TestHealthzIsLoopbackOnly(t *testing.T) {
	o := NewOptions()
	ip := net.ParseIP(o.HealthzBindAddress)
	if ip == nil || !ip.IsLoopback() {
		t.Errorf("--healthz-bind-address defaults to %q, want a loopback address", o.HealthzBindAddress)
	}
	if o.HealthzPort != 10248 {
		t.Errorf("--healthz-port defaults to %d, want 10248", o.HealthzPort)
	}
}
