package skiff

import (
	"net"
	"testing"
)

func TestAdminServer(t *testing.T) {
	for bind, want := range map[string]string{
		"127.0.0.1": "https://127.0.0.1:6443",
		"0.0.0.0":   "https://127.0.0.1:6443",
		"::":        "https://127.0.0.1:6443",
		"10.1.2.3":  "https://10.1.2.3:6443",
		"fd00::1":   "https://[fd00::1]:6443",
	} {
		if got := adminServer(net.ParseIP(bind), 6443); got != want {
			t.Errorf("--bind-address %s: admin server %s, want %s", bind, got, want)
		}
	}
}
